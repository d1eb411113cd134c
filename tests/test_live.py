"""Live inbox updates (issue 14, part 1): the server-sent events stream of /live/inbox/."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from history.services import Actor
from leads.services import lead_mark_accessed, lead_transfer
from live.selectors import inbox_state
from live.views import inbox_events
from teams.models import Membership


def events_of(lines):
    """The ``inbox`` events' payloads among a stream's lines."""
    out = []
    for chunk in lines:
        if chunk.startswith("event: inbox\n"):
            out.append(json.loads(chunk.split("data: ", 1)[1]))
    return out


class FakeTime:
    """The stream's clock and sleep: each sleep advances the clock and runs the next step
    (what happens in the world between two checks)."""

    def __init__(self, steps=()):
        self.now = 0.0
        self.steps = list(steps)

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        if self.steps:
            self.steps.pop(0)()


def test_stream_sends_the_state_then_a_lead_that_reaches_me_and_one_that_leaves(
    org, make_team, new_lead
):
    team = make_team(org, size=1, policy=None)
    ana = team.attendants[0]
    arrived = []
    fake = FakeTime([
        lambda: arrived.append(new_lead(org, team=team, name="Maria Nova")),
        lambda: None,  # nothing changes: no event
        lambda: lead_mark_accessed(organization=org, lead_id=arrived[0].pk, membership=ana,
                                   actor=Actor.system()),
    ])
    lines = list(inbox_events(ana, duration=3.5, interval=1, sleep=fake.sleep, clock=fake.clock))

    assert lines[0] == "retry: 1000\n\n"  # the browser reconnects a second after the close
    first, reached, opened = events_of(lines)
    assert (first["mine"], first["unread"], first["newest"]) == (0, 0, [])
    assert reached["mine"] == 1 and reached["unread"] == 1
    assert reached["newest"] == [{"id": arrived[0].pk, "name": "Maria Nova"}]
    assert opened["mine"] == 1 and opened["unread"] == 0 and opened["newest"] == []
    assert fake.now == 3  # four checks, then it closed instead of outliving its duration


def test_a_lead_transferred_away_changes_both_states(org, make_team, new_lead):
    team = make_team(org, size=2)
    ana, bruno = team.attendants
    lead = new_lead(org, team=team)
    assert lead.assignee_id == ana.pk
    before = inbox_state(membership=ana)
    lead_transfer(organization=org, lead_id=lead.pk, membership=ana, to_member=bruno)
    after = inbox_state(membership=ana)
    assert (before["mine"], after["mine"]) == (1, 0)
    assert inbox_state(membership=bruno)["mine"] == 1


def test_state_ignores_colleagues_and_other_organizations(
    org, other_org, make_team, new_lead, globex_team
):
    team = make_team(org, size=2)
    ana, bruno = team.attendants
    foreign = make_team(other_org, size=1)
    new_lead(org, team=team)  # ana's
    state = inbox_state(membership=bruno)
    new_lead(other_org, team=foreign)
    assert inbox_state(membership=bruno) == state
    assert state["mine"] == 0


def test_an_unchanged_inbox_costs_one_query_per_check(org, make_team, new_lead):
    team = make_team(org, size=1)
    ana = team.attendants[0]
    new_lead(org, team=team)
    fake = FakeTime()
    stream = inbox_events(ana, duration=5.5, interval=1, sleep=fake.sleep, clock=fake.clock)
    next(stream), next(stream)  # retry, the first state (two queries: state and newest)
    with CaptureQueriesContext(connection) as queries:
        rest = list(stream)
    assert events_of(rest) == []
    assert len(queries) == 5
    assert all("FOR UPDATE" not in q["sql"] for q in queries)


def test_a_quiet_stream_sends_a_heartbeat_comment(org, bob):
    fake = FakeTime()
    lines = list(inbox_events(bob, duration=12, interval=1, sleep=fake.sleep, clock=fake.clock))
    assert ": ping\n\n" in lines


def test_endpoint_streams_events_for_the_signed_in_person(client, settings, org, make_team,
                                                          new_lead):
    settings.LIVE_STREAM_SECONDS = 0  # one check, then close
    team = make_team(org, size=1)
    ana = team.attendants[0]
    lead = new_lead(org, team=team, name="Maria")
    client.force_login(ana.user)
    response = client.get(reverse("live-inbox"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    body = b"".join(response.streaming_content).decode()
    (state,) = events_of(chunk + "\n\n" for chunk in body.split("\n\n"))
    assert state["mine"] == 1 and state["newest"] == [{"id": lead.pk, "name": "Maria"}]


def test_endpoint_refuses_strangers_and_non_members(client, org, django_user_model):
    response = client.get(reverse("live-inbox"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(django_user_model.objects.create_user("nomember", password="x"))
    assert client.get(reverse("live-inbox")).status_code == 403


def test_endpoint_accepts_only_get(client, bob):
    client.force_login(bob.user)
    assert client.post(reverse("live-inbox")).status_code == 405


def test_inbox_page_carries_the_stream_and_the_count_in_its_title(
    client, settings, org, make_team, new_lead
):
    team = make_team(org, size=1)
    ana = team.attendants[0]
    new_lead(org, team=team)
    new_lead(org, team=team)
    client.force_login(ana.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    html = client.get(reverse("inbox")).content.decode()
    assert "<title>(2) Caixa de entrada · Transbordo</title>" in html
    assert f'data-url="{reverse("live-inbox")}"' in html
    assert 'id="notify-offer"' in html and "js/live.js" in html
    partial = client.get(reverse("inbox") + "?tab=mine&partial=1").content.decode()
    assert "<span hidden data-unread-update>2</span>" in partial

    settings.LIVE_STREAM_SECONDS = 0
    html = client.get(reverse("inbox")).content.decode()
    assert "js/live.js" not in html and 'id="inbox-live"' not in html  # polling only


def test_sound_alerts_is_a_preference_off_by_default(client, bob):
    assert bob.sound_alerts is False
    client.force_login(bob.user)
    html = client.get(reverse("inbox")).content.decode()
    assert 'data-sound="0"' in html
    client.post(reverse("preferences"), {"email_notifications": "on", "sound_alerts": "on"})
    bob = Membership.objects.get(pk=bob.pk)
    assert bob.sound_alerts is True and bob.email_notifications is True
    assert 'data-sound="1"' in client.get(reverse("inbox")).content.decode()


@pytest.mark.parametrize("seconds", [25])
def test_default_stream_fits_inside_gunicorn_timeout(settings, seconds):
    from pathlib import Path

    conf = {}
    exec((Path(settings.BASE_DIR) / "gunicorn.conf.py").read_text(), conf)  # noqa: S102
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 8
    assert settings.LIVE_STREAM_SECONDS == seconds < conf["timeout"]
