import functools

from django.db import connection
from django.db.models import Count, F, Q

from core import sql
from funnel.models import Stage
from history.models import LeadEvent
from teams.models import Membership, Organization

from .models import Lead


def lead_list(*, organization: Organization, filters: dict | None = None):
    """An organization's leads with what their rows display, newest first."""
    qs = Lead.objects.for_org(organization).select_related("team", "assignee__user")
    filters = filters or {}
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("team"):
        qs = qs.filter(team__slug=filters["team"])
    if filters.get("assignee"):
        qs = qs.filter(assignee_id=filters["assignee"])
    if filters.get("external_id"):
        qs = qs.filter(external_id=filters["external_id"])
    if filters.get("stage"):
        qs = qs.filter(stage=filters["stage"])
    if filters.get("min_score") is not None:
        qs = qs.filter(score__gte=filters["min_score"])
    return qs.order_by("-created_at", "-id")


def lead_get(*, organization: Organization, lead_id: int) -> Lead:
    """Raises ``Lead.DoesNotExist`` for another organization's lead, as for a missing one."""
    return lead_list(organization=organization).get(pk=lead_id)


def last_open_stage(*, organization: Organization, lead_id: int) -> str:
    """The stage a lead was last worked in before it was won or lost: where reopening it
    takes it back to (``new`` when it was never moved)."""
    changes = (
        LeadEvent.objects.for_org(organization)
        .filter(lead_id=lead_id, type=LeadEvent.Type.STAGE_CHANGED)
        .order_by("-created_at", "-id")
        .values_list("data", flat=True)
    )
    outcomes = (Stage.CUSTOMER, Stage.LOST)
    return next((d["to"] for d in changes if d.get("to") not in outcomes), Stage.NEW)


def membership_can_view_lead(*, membership: Membership, lead: Lead) -> bool:
    """Managers and people allowed All see every lead; others their own and the queue."""
    if lead.organization_id != membership.organization_id:
        return False
    return (
        membership.sees_all_leads
        or lead.assignee_id == membership.pk
        or (lead.assignee_id is None and lead.status == Lead.Status.OPEN)
    )


def membership_held_lead(*, membership: Membership, lead_id: int) -> bool:
    """Whether this person held the organization's lead at some time (it reached them, or
    passed on from them). Another organization's lead, or one they never held, is ``False``."""
    return (
        LeadEvent.objects.for_org(membership.organization)
        .filter(lead_id=lead_id)
        .filter(Q(to_member=membership) | Q(from_member=membership))
        .exists()
    )


# --- the inbox -------------------------------------------------------------------

TABS = ("mine", "unassigned", "all", "past")
# Tabs whose open leads the tab bar counts ("past" is a look back, not work waiting).
COUNTED_TABS = ("mine", "unassigned", "all")


def inbox_tabs(*, membership: Membership) -> list[str]:
    if membership.sees_all_leads:
        return list(TABS)
    return ["mine", "unassigned", "past"]


def left_me_ids(membership: Membership):
    """The ids of the organization's leads that passed on from this person (overflow, a
    transfer, a pass-on when they went away, back to the queue): a subquery."""
    return (
        LeadEvent.objects.for_org(membership.organization)
        .filter(from_member=membership)
        .values("lead_id")
    )


def _tab_filter(tab: str, membership: Membership) -> Q:
    if tab == "mine":
        return Q(assignee=membership)
    if tab == "unassigned":
        return Q(assignee__isnull=True)
    if tab == "past":
        # Held once, with someone else (or waiting, or concluded by another) now.
        return Q(pk__in=left_me_ids(membership)) & ~Q(assignee=membership)
    return Q()


def inbox_counts(*, membership: Membership) -> dict[str, int]:
    """Open leads per tab, in one query."""
    tabs = [t for t in inbox_tabs(membership=membership) if t in COUNTED_TABS]
    aggregates = {
        tab: Count("id", filter=_tab_filter(tab, membership)) for tab in tabs
    }
    return (
        Lead.objects.for_org(membership.organization)
        .filter(status=Lead.Status.OPEN)
        .aggregate(**aggregates)
    )


def inbox_leads(
    *, membership: Membership, tab: str, query: str = "", team_slug: str = "",
    status: str = Lead.Status.OPEN, stage: str = "", min_score: int | None = None,
    sort: str = "", received_from=None, received_to=None, assignee_id: int | None = None,
):
    """A tab's leads, most urgent first: the nearest overflow, then the longest waiting;
    or, with ``sort="score"``, the highest score first (most urgent among equals). Past
    leads, newest first. ``query`` matches name, e-mail, phone or the exact external id;
    ``received_from``/``received_to`` are days (inclusive, in the current time zone)."""
    if tab not in inbox_tabs(membership=membership):
        raise ValueError(f"tab {tab!r} is not open to this person")
    qs = (
        Lead.objects.for_org(membership.organization)
        .filter(_tab_filter(tab, membership))
        .select_related("team", "assignee__user")
    )
    if status:
        qs = qs.filter(status=status)
    if team_slug:
        qs = qs.filter(team__slug=team_slug)
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
            | Q(external_id=query)
        )
    if received_from:
        qs = qs.filter(created_at__date__gte=received_from)
    if received_to:
        qs = qs.filter(created_at__date__lte=received_to)
    if assignee_id is not None:
        qs = qs.filter(assignee_id=assignee_id)
    if stage:
        qs = qs.filter(stage=stage)
    if min_score is not None:
        qs = qs.filter(score__gte=min_score)
    first = ("-score",) if sort == "score" else ()
    if tab == "past":
        return qs.order_by(*first, "-created_at", "-id")
    if status == Lead.Status.CONCLUDED:
        return qs.order_by(*first, "-concluded_at", "-id")
    return qs.order_by(*first, F("overflow_due_at").asc(nulls_last=True), "created_at", "id")


def _contact_match(*, email: str, phone: str) -> Q | None:
    """Normalized e-mail or phone (leads.normalize); ``None`` when neither is given."""
    match = Q()
    if email:
        match |= Q(email_normalized=email)
    if phone:
        match |= Q(phone_normalized=phone)
    return match or None


def previous_lead_for_contact(*, organization: Organization, email: str, phone: str):
    """The organization's most recent lead with this normalized e-mail or phone, if any
    (only its id and assignee loaded)."""
    return arrival_lookup(organization=organization, email=email, phone=phone)[1]


def arrival_lookup(
    *, organization: Organization, email: str, phone: str, external_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[int | None, Lead | None]:
    """What a new lead needs to know before it is routed, in one statement compiled once
    (core.sql): the id of the lead a retry already created (same external id, else same
    Idempotency-Key), and the most recent lead of the contact (normalized e-mail or
    phone), with only its id and assignee loaded.

    Each part asks its unique or partial index for one row, with no ORDER BY over the
    organization's leads but the contact's own.
    """
    parts = [(kind, value) for kind, value in (("external_id", external_id),
                                               ("idempotency_key", idempotency_key)) if value]
    contact = tuple(column for column, value in (("email_normalized", email),
                                                 ("phone_normalized", phone)) if value)
    if not parts and not contact:
        return None, None
    params: list = []
    for _kind, value in parts:
        params += [organization.pk, value]
    if contact:
        params += [organization.pk, *(v for v in (email, phone) if v)]
    existing, previous = None, None
    for kind, pk, assignee_id in sql.fetch(
            _arrival_sql(tuple(kind for kind, _value in parts), contact), params):
        if kind == "contact":
            previous = Lead.from_db(connection.alias, ["id", "assignee_id"], [pk, assignee_id])
        elif existing is None or kind == "external_id":
            existing = pk
    return existing, previous


@functools.cache
def _arrival_sql(keys: tuple[str, ...], contact: tuple[str, ...]) -> str:
    q = sql.quote
    table, org = sql.table(Lead), q("organization_id")
    selects = [
        f"SELECT * FROM (SELECT '{key}' AS kind, {q('id')}, CAST(NULL AS bigint) AS assignee "
        f"FROM {table} WHERE {org} = %s AND {q(key)} = %s LIMIT 1) AS {key}"
        for key in keys
    ]
    if contact:
        match = " OR ".join(f"{q(column)} = %s" for column in contact)
        selects.append(
            f"SELECT * FROM (SELECT 'contact' AS kind, {q('id')}, {q('assignee_id')} "
            f"FROM {table} WHERE {org} = %s AND ({match}) "
            f"ORDER BY {q('created_at')} DESC, {q('id')} DESC LIMIT 1) AS contact")
    return " UNION ALL ".join(selects)


def open_lead_for_contact(*, organization: Organization, external_id, email: str, phone: str):
    """The contact's most recent open lead, by external id first, then e-mail or phone."""
    leads = Lead.objects.for_org(organization).filter(status=Lead.Status.OPEN)
    if external_id:
        found = leads.filter(external_id=external_id).first()
        if found:
            return found
    match = _contact_match(email=email, phone=phone)
    if match is None:
        return None
    return leads.filter(match).order_by("-created_at", "-id").first()
