"""Writing history. Callers are already inside the transaction of the state change."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from core import sql

from .models import LeadEvent
from .signals import events_written


@dataclass(frozen=True)
class Actor:
    """Who or what did something: a user, an API key or the system."""

    kind: str
    user: Any = None
    api_key: Any = None

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.SYSTEM)

    @classmethod
    def for_user(cls, user) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.USER, user=user)

    @classmethod
    def for_api_key(cls, api_key) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.API_KEY, api_key=api_key)


def event_build(
    *,
    lead,
    type: str,
    actor: Actor,
    from_member=None,
    to_member=None,
    reason: str = "",
    data: dict | None = None,
    sequence: int | None = None,
    at: datetime | None = None,
) -> LeadEvent:
    """An unsaved event, for ``events_save`` in batch paths (built without ``__init__``:
    core.sql.new)."""
    return sql.new(LeadEvent, {
        "organization_id": lead.organization_id,
        "type": type,
        "actor_kind": actor.kind,
        "reason": reason,
        "data": data or {},
        "sequence": sequence,
        "created_at": at or timezone.now(),
    }, {
        "lead": lead,
        "actor_user": actor.user,
        "actor_api_key": actor.api_key,
        "from_member": from_member,
        "to_member": to_member,
    })


def events_save(events: list[LeadEvent]) -> list[LeadEvent]:
    """Write events (one INSERT) and announce them to whoever listens (outbound webhooks).

    Every history write goes through here or ``event_record``, inside the
    transaction of the state change it records.
    """
    if not events:
        return events
    if connection.vendor == "postgresql" and len(events) > 1:
        saved = _insert_unnest(events)
    else:
        saved = LeadEvent.objects.bulk_create(events)
    events_written.send(sender=LeadEvent, events=saved)
    return saved


_ENCODER = DjangoJSONEncoder()


def _json(data: dict) -> str:
    """``json.dumps(data, cls=DjangoJSONEncoder)`` in a fraction of its CPU: orjson, with
    dates and times (and what orjson does not know) written by Django's encoder, so the
    stored text is the same; what orjson refuses (an integer beyond 64 bits) goes to json."""
    try:
        return orjson.dumps(data, default=_ENCODER.default, option=orjson.OPT_PASSTHROUGH_DATETIME
                            | orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(data, cls=DjangoJSONEncoder)


# Columns and PostgreSQL array types of the batch insert, in one place.
_COLUMNS = {
    "organization_id": "bigint", "lead_id": "bigint", "type": "varchar",
    "actor_kind": "varchar", "actor_user_id": "integer", "actor_api_key_id": "bigint",
    "from_member_id": "bigint", "to_member_id": "bigint", "reason": "varchar",
    "sequence": "integer", "data": "text", "created_at": "timestamptz",
}


def _insert_unnest(events: list[LeadEvent]) -> list[LeadEvent]:
    """One ``INSERT ... SELECT FROM unnest(<typed arrays>)`` with a fixed statement text.

    ``bulk_create`` compiles a VALUES row of twelve placeholders per event: for
    the sweep's batches that was most of its Python time. Same rows, same
    transaction; the ids come back in insertion order, as bulk_create relies on.
    """
    table = connection.ops.quote_name(LeadEvent._meta.db_table)
    names = list(_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _COLUMNS.values())
    select = ", ".join("v.data::jsonb" if n == "data" else f"v.{n}" for n in names)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {select}"
        f" FROM unnest({arrays}) AS v({', '.join(names)}) RETURNING id"
    )
    params = []
    for name in names:
        if name == "data":
            params.append([_json(e.data) for e in events])
        else:
            params.append([getattr(e, name) for e in events])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
    return events


def event_record(**kwargs) -> LeadEvent:
    return events_save([event_build(**kwargs)])[0]


# --- erasure (LGPD) -------------------------------------------------------------------------

# Keys of event data that never hold a customer's personal data (ids, codes, times, the
# customer-facing message, which names the attendant). Erasure keeps these and drops the
# rest: notes, handoff transcripts and reasons, and any key added later until it is listed.
NON_PERSONAL_DATA_KEYS = frozenset({
    "source", "rule_id", "returning", "team_id", "how", "strategy", "self_assigned",
    "from_queue", "active", "max_transfers", "due_at", "service_minutes", "redirect_to",
    "reused", "customer_message", "erased",
})
ERASE_BATCH = 500


def events_erase_personal_data(*, organization, lead_ids) -> int:
    """The one sanctioned change to history: a lead's events lose their personal data.

    History is append-only (``LeadEventQuerySet`` refuses ``update()``), but a person's
    right to erasure (LGPD art. 18) outranks it. Only ``data`` changes: every event stays,
    with its type, time, actor, holders and reason, so who transferred what and when is
    still known. Returns how many events changed.
    """
    from django.db.models import Case, JSONField, QuerySet, Value, When

    changed: dict[int, dict] = {}
    events = (
        LeadEvent.objects.for_org(organization).filter(lead_id__in=list(lead_ids))
        .order_by().values_list("pk", "data")
    )
    for pk, data in events.iterator(chunk_size=ERASE_BATCH):
        kept = {k: v for k, v in (data or {}).items() if k in NON_PERSONAL_DATA_KEYS}
        if kept != (data or {}):
            changed[pk] = {**kept, "erased": True}
    pks = list(changed)
    for start in range(0, len(pks), ERASE_BATCH):
        chunk = pks[start:start + ERASE_BATCH]
        # Past the append-only guard on purpose: the plain QuerySet's update, here only.
        QuerySet(model=LeadEvent).filter(pk__in=chunk).update(data=Case(
            *(When(pk=pk, then=Value(changed[pk], output_field=JSONField())) for pk in chunk),
            output_field=JSONField(),
        ))
    return len(pks)
