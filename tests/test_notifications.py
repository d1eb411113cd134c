"""Attendants hear that a lead reached them: the unread badge and an e-mail they can turn off."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from leads.notifications import unread_leads
from leads.services import lead_assign_to_me, lead_transfer
from overflow.services import overflow_sweep


@pytest.fixture(autouse=True)
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


def test_receiving_a_lead_sends_an_email_and_lights_the_badge(
    org, make_team, new_lead, mailoutbox, django_capture_on_commit_callbacks, client
):
    team = make_team(org, size=2)
    first = team.attendants[0]
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(org, team=team, name="Maria")
    assert list(unread_leads(membership=first)) == [lead]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [first.user.email] and "Maria" in mailoutbox[0].subject
    assert f"/leads/{lead.pk}/" in mailoutbox[0].body

    client.force_login(first.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'id="unread-badge"' in client.get("/inbox/").content.decode()
    client.get(f"/leads/{lead.pk}/")  # opening it reads it
    assert not unread_leads(membership=first).exists()
    assert 'id="unread-badge"' not in client.get("/inbox/").content.decode()


def test_overflow_and_manual_transfer_notify_the_new_holder(
    org, make_team, new_lead, mailoutbox, django_capture_on_commit_callbacks
):
    team = make_team(org, size=3)
    a, b, c = team.attendants
    now = timezone.now()
    lead = new_lead(org, team=team, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        overflow_sweep(now=now + timedelta(minutes=10))
    assert [m.to for m in mailoutbox] == [[b.user.email]]
    with django_capture_on_commit_callbacks(execute=True):
        lead_transfer(organization=org, lead_id=lead.pk, membership=b, to_member=c)
    assert mailoutbox[-1].to == [c.user.email]
    assert list(unread_leads(membership=c)) == [lead]
    assert not unread_leads(membership=a).exists() and not unread_leads(membership=b).exists()


def test_email_can_be_switched_off_but_the_badge_stays(
    org, make_team, new_lead, mailoutbox, django_capture_on_commit_callbacks, client
):
    team = make_team(org, size=1)
    person = team.attendants[0]
    client.force_login(person.user)
    response = client.post("/preferences/", {})  # unchecked box: off
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email_notifications is False
    with django_capture_on_commit_callbacks(execute=True):
        new_lead(org, team=team)
    assert mailoutbox == []
    assert unread_leads(membership=person).count() == 1
    client.post("/preferences/", {"email_notifications": "on"})
    person.refresh_from_db()
    assert person.email_notifications is True


def test_a_lead_for_someone_without_emails_queues_no_task(
    org, make_team, new_lead, django_capture_on_commit_callbacks
):
    team = make_team(org, size=2)
    quiet, loud = team.attendants
    quiet.email_notifications = False
    quiet.save(update_fields=["email_notifications"])

    with django_capture_on_commit_callbacks() as callbacks:
        new_lead(org, team=team)  # to quiet, first in the rotation
        new_lead(org, team=team)  # to loud

    tasks = [c for c in callbacks if c.__qualname__.startswith("on_events_written")]
    assert len(tasks) == 1


def test_taking_a_lead_yourself_is_no_news(org, make_team, new_lead, bob, mailoutbox,
                                           django_capture_on_commit_callbacks):
    empty = make_team(org, size=0, policy=None)
    lead = new_lead(org, team=empty)
    with django_capture_on_commit_callbacks(execute=True):
        lead_assign_to_me(organization=org, lead_id=lead.pk, membership=bob)
    assert mailoutbox == [] and not unread_leads(membership=bob).exists()


def test_a_rolled_back_assignment_notifies_nobody(org, make_team, mailoutbox):
    from django.db import transaction

    from history.services import Actor
    from leads.services import lead_create

    team = make_team(org, size=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(organization=org, data={"email": "x@y.com"}, team=team,
                    actor=Actor.system())
        raise RuntimeError("boom")
    assert mailoutbox == []


def test_no_email_for_a_lead_opened_or_gone_before_the_task_runs(
    org, make_team, new_lead, mailoutbox, django_capture_on_commit_callbacks
):
    from leads.notifications import notifications_email

    team = make_team(org, size=2)
    lead = new_lead(org, team=team)
    event = lead.events.get(type="assigned")
    lead.assignee_accessed_at = timezone.now()
    lead.save()
    assert notifications_email(event_ids=[event.pk]) == 0 and mailoutbox == []


def test_preferences_page_needs_a_membership(client, charlie, django_user_model):
    assert client.get("/preferences/").status_code == 302
    loner = django_user_model.objects.create_user("loner", password="x")
    client.force_login(loner)
    assert client.get("/preferences/").status_code == 403
    client.force_login(charlie.user)
    assert client.get("/preferences/").status_code == 200
