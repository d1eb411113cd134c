"""Issue 17 §3: erasure of a person's data (LGPD), and retention."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent
from history.models import AppendOnlyError, LeadEvent
from history.services import Actor
from integrations.models import WebhookDelivery
from integrations.services import endpoint_create
from leads.erasure import ERASED
from leads.models import Lead
from leads.services import lead_add_note, lead_conclude, lead_mark_accessed
from ops.models import ErasureRecord, RetentionPolicy
from ops.services.erasure import contact_erase, contact_hash
from ops.services.retention import months_before, retention_run

NAME = "Zélia Quintanilha"
EMAIL = "Zelia.Quintanilha@Exemplo.com.br"
PHONE = "(11) 98765-4321"
CPF = "123.456.789-09"
# Everything of hers that may be stored, as typed and as normalized.
NEEDLES = [NAME, "Quintanilha", EMAIL.lower(), "98765-4321", "5511987654321", CPF,
           "meu cpf e o", "Zélia pediu retorno"]


@pytest.fixture
def team(org, make_team, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    team = make_team(org, size=2, service_minutes=10)
    org.default_team = team
    org.save()
    endpoint_create(organization=org, url="http://127.0.0.1:9/hook")
    return team


def _work_on(org, lead_id, *, conclude=False):
    lead = Lead.objects.get(pk=lead_id)
    holder = lead.assignee
    lead_mark_accessed(organization=org, lead_id=lead.pk, membership=holder,
                       actor=Actor.for_user(holder.user))
    lead_add_note(organization=org, lead_id=lead.pk, membership=holder,
                  text="Zélia pediu retorno amanhã")
    if conclude:
        lead_conclude(organization=org, lead_id=lead.pk, membership=holder,
                      note=f"Falei com {NAME}")
    return lead


@pytest.fixture
def zelia(api, team, org):
    """Zélia as she reaches the organization: a form, then a chatbot by phone, and the
    notes her attendants write about her."""
    first = api.post("/api/v1/leads", {
        "name": NAME, "email": EMAIL, "phone": PHONE, "custom": {"cpf": CPF, "plano": "ouro"},
    }, format="json")
    assert first.status_code == 201, first.content
    form_lead = _work_on(org, first.json()["id"], conclude=True)
    second = api.post("/api/v1/handoffs", {
        "contact": {"name": "Zélia Q.", "phone": "+55 11 98765-4321"},
        "reason": f"Cliente {NAME} pediu humano",
        "transcript": [{"author": "customer", "text": f"oi, meu cpf e o {CPF}"}],
    }, format="json")
    assert second.status_code == 201, second.content
    bot_lead = _work_on(org, second.json()["lead"]["id"])
    LogEntry.objects.create(
        user_id=team.attendants[0].user_id, content_type=ContentType.objects.get_for_model(Lead),
        object_id=str(form_lead.pk), object_repr=str(form_lead), action_flag=CHANGE,
        change_message=f"Changed name to {NAME}",
    )
    return [form_lead, bot_lead]


def text_columns():
    """Every text and JSON column of every table of ours and Django's."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND data_type IN ('text', 'character varying', 'json', 'jsonb')
            ORDER BY table_name, column_name
        """)
        return cursor.fetchall()


def rows_holding(needle: str) -> list[tuple[str, str]]:
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            quoted = connection.ops.quote_name
            cursor.execute(
                f"SELECT count(*) FROM {quoted(table)} WHERE {quoted(column)}::text ILIKE %s",
                [f"%{needle}%"],
            )
            if cursor.fetchone()[0]:
                found.append((table, column))
    return found


@pytest.mark.postgres
def test_an_erased_contact_leaves_no_trace_in_any_table(zelia, alice, org, new_lead, team):
    other = new_lead(org, team=team, name="Rui Barbosa", email="rui@exemplo.com.br",
                     custom={"cpf": "987.654.321-00"})
    for needle in NEEDLES:
        assert rows_holding(needle), f"the scan finds {needle!r} before the erasure"
    events_before = LeadEvent.objects.filter(lead__in=zelia).count()

    record = contact_erase(organization=org, actor=Actor.for_user(alice.user), email=EMAIL,
                           phone="11 98765 4321")

    for needle in NEEDLES:
        assert rows_holding(needle) == [], f"{needle!r} is still stored"
    # The history keeps every event (who, when, from and to whom), without her data.
    assert LeadEvent.objects.filter(lead__in=zelia).count() == events_before
    for lead in zelia:
        lead.refresh_from_db()
        assert (lead.name, lead.email, lead.phone) == (ERASED, ERASED, ERASED)
        assert lead.custom in ({"cpf": ERASED, "plano": ERASED}, {})
        assert lead.erased_at is not None
    assert not WebhookDelivery.objects.filter(event__lead__in=zelia).exists()
    # Someone else's lead is untouched.
    other.refresh_from_db()
    assert (other.name, other.custom) == ("Rui Barbosa", {"cpf": "987.654.321-00"})
    assert WebhookDelivery.objects.filter(event__lead=other).exists()
    # The audit record: who, when, how much, and a hash instead of the contact.
    assert (record.actor_user, record.leads, record.kind) == (alice.user, 2, "request")
    assert record.counts["leads"] == 2 and record.counts["history"] >= 4
    assert record.counts["webhook_deliveries"] > 0 and record.counts["admin_log"] == 1
    assert contact_hash(EMAIL.lower()) in record.contact_hashes
    # And the managers' audit log says it, as who did it, without whom it was about.
    logged = AuditEvent.objects.for_org(org).get(area="privacy", action="erased")
    assert (logged.actor_user, logged.target_id) == (alice.user, record.pk)
    assert logged.changes["leads"] == {"from": None, "to": 2}


def test_returning_customer_matching_no_longer_finds_an_erased_contact(
    org, team, new_lead, alice
):
    first = new_lead(org, team=team, email=EMAIL, phone=PHONE)
    assert new_lead(org, team=team, email=EMAIL).is_returning

    contact_erase(organization=org, actor=Actor.for_user(alice.user), email=EMAIL)

    first.refresh_from_db()
    assert first.erased_at is not None
    again = new_lead(org, team=team, email=EMAIL)
    assert again.is_returning is False


def test_erasure_needs_an_email_or_a_phone_and_names_the_field(org, alice):
    with pytest.raises(ValidationError) as error:
        contact_erase(organization=org, actor=Actor.for_user(alice.user), email=" ", phone="")
    assert "email" in error.value.message_dict
    assert not ErasureRecord.objects.exists()


def test_erasure_stays_inside_the_organization(org, other_org, team, new_lead, alice,
                                               make_team):
    mine = new_lead(org, team=team, email=EMAIL)
    theirs = new_lead(other_org, team=make_team(other_org, size=2), email=EMAIL)

    record = contact_erase(organization=org, actor=Actor.for_user(alice.user), email=EMAIL)

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.erased_at and theirs.erased_at is None and theirs.email == EMAIL
    assert record.leads == 1


def test_history_stays_append_only_outside_the_erasure_path(org, team, new_lead):
    lead = new_lead(org, team=team)
    with pytest.raises(AppendOnlyError):
        LeadEvent.objects.filter(lead=lead).update(data={})


def test_months_before_counts_calendar_months():
    from datetime import datetime

    assert months_before(datetime(2026, 3, 31, 12), 1) == datetime(2026, 2, 28, 12)
    assert months_before(datetime(2026, 1, 15), 13) == datetime(2024, 12, 15)
    assert months_before(datetime(2026, 11, 30), 6) == datetime(2026, 5, 30)


def test_retention_erases_concluded_leads_older_than_the_limit(org, team, new_lead, bob,
                                                              other_org, make_team):
    RetentionPolicy.objects.create(organization=org, concluded_lead_months=6)
    now = timezone.now()
    old, recent, still_open = (new_lead(org, team=team) for _ in range(3))
    Lead.objects.filter(pk=old.pk).update(status="concluded",
                                          concluded_at=now - timedelta(days=200))
    Lead.objects.filter(pk=recent.pk).update(status="concluded",
                                             concluded_at=now - timedelta(days=20))
    Lead.objects.filter(pk=still_open.pk).update(created_at=now - timedelta(days=400))
    elsewhere = new_lead(other_org, team=make_team(other_org, size=2))  # no policy there
    Lead.objects.filter(pk=elsewhere.pk).update(status="concluded",
                                                concluded_at=now - timedelta(days=900))

    assert retention_run(now=now) == 1
    assert retention_run(now=now) == 0  # twice in a row: nothing more

    erased = [lead.pk for lead in Lead.objects.filter(erased_at__isnull=False)]
    assert erased == [old.pk]
    record = ErasureRecord.objects.get()
    assert (record.kind, record.leads, record.actor_user) == ("retention", 1, None)


@pytest.mark.postgres
def test_erasure_forgets_what_lead_sources_logged_of_the_person(org, team, alice):
    """A source's log keeps raw payloads: the accepted post (by its lead) and a refused one
    that never became a lead (by the contact it named) are both erased."""
    from django.test import Client

    from sources.models import SourceSubmission
    from sources.services import source_create, source_update

    source = source_create(organization=org, name="Landing page")
    fields = {"nome": NAME, "email": EMAIL, "telefone": PHONE, "cpf": CPF}
    assert Client().post(f"/in/{source.token}", fields).status_code == 201
    source_update(organization=org, source_id=source.pk, is_active=False)
    assert Client().post(f"/in/{source.token}", fields).status_code == 403
    other = {"nome": "Rui Barbosa", "email": "rui@exemplo.com.br"}
    Client().post(f"/in/{source.token}", other)
    assert rows_holding(CPF) and rows_holding("Quintanilha")

    record = contact_erase(organization=org, actor=Actor.for_user(alice.user), email=EMAIL)

    for needle in (NAME, "Quintanilha", EMAIL.lower(), CPF, "98765-4321"):
        assert rows_holding(needle) == [], f"{needle!r} is still stored"
    assert record.counts["source_submissions"] == 2
    # The log still says that something arrived and what became of it.
    assert SourceSubmission.objects.filter(source=source).count() == 3
    assert SourceSubmission.objects.get(payload__nome="Rui Barbosa").erased_at is None
