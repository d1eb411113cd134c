"""Faults found by probing from outside (issue 12, section 1), each pinned by its test.

- Query parameters: bad values answer 400 or are ignored, never 500.
- A body sent chunked (no Content-Length) is refused with 411, not read as empty.
- Accepting a lead through the API decides under the lead's lock; a refusal is 409.
- Notes: anyone who may see a lead may add a note to it; nobody else may.
"""

import socket
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from history.models import LeadEvent
from history.services import Actor
from leads.models import Lead
from leads.services import lead_create
from leads.sweep import overflow_sweep

from .helpers import client_for
from .races import Threads, backends_waiting_for_a_lock, hold_row, until

Type = LeadEvent.Type


# --- query parameters ----------------------------------------------------------------------

IMPOSSIBLE_SINCE = [
    "2026-02-30T10:00:00",  # the probe's: well formed, no such day
    "2026-13-01T00:00:00",
    "2026-01-01T25:00:00",
    "2026-01-01T10:00:00+99:00",  # an offset beyond a day
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "yesterday",
    "",
]


@pytest.mark.parametrize("since", IMPOSSIBLE_SINCE)
def test_inbox_ignores_a_since_it_cannot_read(org, make_team, new_lead, since):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    client = client_for(team.attendants[0])

    for params in ({"since": since}, {"since": since, "partial": "1"}):
        response = client.get("/inbox/", params)
        assert response.status_code == 200, params
        assert lead.pk in [row.pk for row in response.context["page"].object_list]
        assert response.context["moved_away"] == []


def test_inbox_since_without_an_offset_is_read_in_the_organizations_time(
    org, make_team, new_lead
):
    """The page sends back its own aware ``data-now``; a naive one still works."""
    team = make_team(org, size=2)
    first, second = team.attendants
    now = timezone.now()
    new_lead(org, team=team, now=now - timedelta(minutes=11))
    overflow_sweep(now=now)
    naive = timezone.make_naive(now - timedelta(seconds=30), org.tzinfo).isoformat()

    response = client_for(first).get("/inbox/", {"partial": "1", "since": naive})

    assert [e.to_member_id for e in response.context["moved_away"]] == [second.pk]


NASTY_VALUES = ["abc", "-1", "0", "99999999999999999999999", "1e9", "%00", "\x00", "é" * 300]
PAGE_PARAMS = ["page", "tab", "q", "team", "status", "since", "partial", "archived", "next", "n"]


@pytest.fixture
def pages(org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    return [
        "/inbox/", f"/leads/{lead.pk}/", "/preferences/", "/manage/teams/",
        f"/manage/teams/{team.pk}/", f"/manage/teams/{team.pk}/hours/",
        f"/manage/teams/{team.pk}/overflow/", f"/manage/teams/{team.pk}/preview/",
        "/manage/people/", "/manage/api-keys/", "/manage/webhooks/", "/manage/routing-rules/",
        "/manage/settings/",
    ]


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_no_page_answers_500_to_a_bad_query_parameter(alice, pages, value):
    client = client_for(alice)
    for page in pages:
        response = client.get(page, {name: value for name in PAGE_PARAMS})
        assert response.status_code < 500, (page, value)


API_LIST_PARAMS = ["page", "status", "team", "assignee", "external_id", "n"]


@pytest.mark.parametrize("value", NASTY_VALUES)
def test_no_api_list_answers_500_to_a_bad_query_parameter(api, org, make_team, value):
    team = make_team(org, size=2)
    for path in ("/api/v1/leads", "/api/v1/teams", f"/api/v1/teams/{team.slug}/preview",
                 "/api/v1/webhooks", "/api/v1/routing-rules", "/api/v1/skills"):
        response = api.get(path, {name: value for name in API_LIST_PARAMS})
        assert response.status_code in (200, 400, 404), (path, value, response.status_code)


def test_api_paths_with_ids_past_any_integer_are_404(api):
    huge = "9" * 30
    for path in (f"/api/v1/leads/{huge}", f"/api/v1/leads/{huge}/history",
                 f"/api/v1/webhooks/{huge}", f"/api/v1/webhook-deliveries/{huge}",
                 f"/api/v1/routing-rules/{huge}", f"/api/v1/skills/{huge}"):
        assert api.get(path).status_code == 404, path


# --- chunked bodies ----------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_lead_posted_chunked_gets_411_and_nothing_is_created(live_server, api_key):
    """Over a real socket: a POST that announces a chunked body, with no Content-Length.

    The server answers from the headers alone and closes the connection, so the client
    sends no chunk before reading the answer: chunks left unread on the server's side
    would make its close a reset that can swallow the answer (seen under load)."""
    parts = urlsplit(live_server.url)
    head = (
        "POST /api/v1/leads HTTP/1.1\r\n"
        f"Host: {parts.hostname}:{parts.port}\r\n"
        f"Authorization: Api-Key {api_key.raw}\r\n"
        "Content-Type: application/json\r\nAccept-Language: en\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"411", status_line
    assert b"Content-Length" in rest.partition(b"\r\n\r\n")[2]
    assert not Lead.objects.exists()


def test_the_same_body_with_its_length_creates_the_lead(api, org, make_team):
    make_team(org, size=2)
    org.default_team = org.teams.get()
    org.save()
    response = api.post("/api/v1/leads", {"name": "Maria", "email": "maria@example.com"},
                        format="json")
    assert response.status_code == 201


# --- accept under the lead's lock ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accept_racing_the_sweep_is_409_when_the_sweep_moved_the_lead_first(
    org, make_team, api_key
):
    """The sweep has locked Ana's overdue lead and, before it commits the transfer to Bob,
    waits on Ana's own row (it counts her missed lead). An accept for Ana arrives then: it
    must wait for the lead's lock and, the lead being Bob's by then, answer 409 — not 200
    with overflow still running for Bob."""
    team = make_team(org, size=2, missed_limit=5)
    ana, bob = team.attendants
    now = timezone.now()
    lead, _ = lead_create(organization=org, data={"email": "maria@example.com"}, team=team,
                          actor=Actor.system(), now=now - timedelta(hours=1))
    assert lead.assignee_id == ana.pk

    threads = Threads()
    release = hold_row(threads, ana)
    threads.start("sweep", lambda: overflow_sweep(now=now))
    until(lambda: backends_waiting_for_a_lock() >= 1, "the sweep waits on Ana's row")

    def accept():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")
        return client.post(f"/api/v1/leads/{lead.pk}/accept", {"attendant": ana.pk},
                           format="json")

    threads.start("accept", accept)
    until(lambda: backends_waiting_for_a_lock() >= 2, "the accept waits on the lead's lock")
    release.set()
    threads.join()

    assert threads.results["sweep"] == 1
    assert threads.results["accept"].status_code == 409
    lead.refresh_from_db()
    assert lead.assignee_id == bob.pk
    assert lead.overflow_active and lead.assignee_accessed_at is None
    assert not lead.events.filter(type=Type.ACCESSED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_accept_that_takes_the_lock_first_stops_the_sweep(org, make_team, api_key):
    """The other order: the accept holds the lead's lock; the sweep skips the locked lead
    (SKIP LOCKED) and finds it stopped on its next run."""
    team = make_team(org, size=2)
    ana, _bob = team.attendants
    now = timezone.now()
    lead, _ = lead_create(organization=org, data={"email": "maria@example.com"}, team=team,
                          actor=Actor.system(), now=now - timedelta(hours=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key.raw}")

    response = client.post(f"/api/v1/leads/{lead.pk}/accept", {"attendant": ana.pk},
                           format="json")

    assert response.status_code == 200
    assert overflow_sweep(now=now) == 0
    lead.refresh_from_db()
    assert lead.assignee_id == ana.pk and not lead.overflow_active


# --- notes --------------------------------------------------------------------------------


def test_a_colleague_who_may_see_all_may_add_a_note_and_nothing_else(org, make_team, new_lead):
    """The policy (README, "Inbox"): a note by anyone who may see the lead; every other action
    on a colleague's lead is for its attendant or a manager."""
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    colleague = team.attendants[1]
    colleague.can_see_all = True
    colleague.save()
    client = client_for(colleague)

    client.post(f"/leads/{lead.pk}/note/", {"text": "Ela ligou para mim também"})
    for action in ("conclude", "reopen", "transfer"):
        client.post(f"/leads/{lead.pk}/{action}/", {"to_member": colleague.pk})

    lead.refresh_from_db()
    note = lead.events.get(type=Type.NOTE)
    assert note.actor_user_id == colleague.user_id
    assert lead.status == Lead.Status.OPEN and lead.assignee_id == team.attendants[0].pk
    assert "note-form" in client.get(f"/leads/{lead.pk}/").content.decode()


def test_a_colleague_who_may_not_see_the_lead_may_not_add_a_note(org, make_team, new_lead):
    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    colleague = team.attendants[1]

    response = client_for(colleague).post(f"/leads/{lead.pk}/note/", {"text": "x"})

    assert response.status_code == 404
    assert not lead.events.filter(type=Type.NOTE).exists()


def test_any_attendant_may_note_a_lead_waiting_in_the_queue(org, make_team, new_lead, bob):
    """A queued lead is visible to every attendant of the organization (they may take it)."""
    team = make_team(org, size=1)
    team.attendants[0].presence = "offline"
    team.attendants[0].save()
    team.online_only = True
    team.save()
    lead = new_lead(org, team=team)
    assert lead.assignee_id is None

    client_for(bob).post(f"/leads/{lead.pk}/note/", {"text": "Cliente antigo"})

    assert lead.events.get(type=Type.NOTE).actor_user_id == bob.user_id
