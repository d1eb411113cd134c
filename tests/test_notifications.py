"""Attendants hear that a lead reached them: the unread badge and an e-mail they can turn off."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app
from leads.models import Lead
from leads.notifications import notifications_send, unread_leads
from leads.services import lead_assign_to_me, lead_transfer
from leads.sweep import overflow_sweep
from leads.tasks import send_notifications


def test_receiving_a_lead_sends_one_email_and_lights_the_badge(
    org, make_team, new_lead, mailoutbox, client
):
    team = make_team(org, size=2)
    first = team.attendants[0]
    lead = new_lead(org, team=team, name="Maria")
    assert list(unread_leads(membership=first)) == [lead]

    assert notifications_send() == 1
    assert notifications_send() == 0  # once per arrival, however often the task runs
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [first.user.email] and "Maria" in mailoutbox[0].subject
    assert f"/leads/{lead.pk}/" in mailoutbox[0].body

    client.force_login(first.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'id="unread-badge"' in client.get("/inbox/").content.decode()
    client.get(f"/leads/{lead.pk}/")  # opening it reads it
    assert not unread_leads(membership=first).exists()
    assert 'id="unread-badge"' not in client.get("/inbox/").content.decode()


def test_overflow_and_manual_transfer_notify_the_new_holder(org, make_team, new_lead,
                                                            mailoutbox):
    team = make_team(org, size=3)
    a, b, c = team.attendants
    now = timezone.now()
    lead = new_lead(org, team=team, now=now)
    notifications_send()
    overflow_sweep(now=now + timedelta(minutes=10))
    notifications_send()
    lead_transfer(organization=org, lead_id=lead.pk, membership=b, to_member=c)
    notifications_send()

    assert [m.to for m in mailoutbox] == [[a.user.email], [b.user.email], [c.user.email]]
    assert list(unread_leads(membership=c)) == [lead]
    assert not unread_leads(membership=a).exists() and not unread_leads(membership=b).exists()


def test_email_can_be_switched_off_but_the_badge_stays(org, make_team, new_lead, mailoutbox,
                                                       client):
    team = make_team(org, size=1)
    person = team.attendants[0]
    client.force_login(person.user)
    response = client.post("/preferences/", {})  # unchecked box: off
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email_notifications is False
    new_lead(org, team=team)
    assert notifications_send() == 0 and mailoutbox == []
    assert unread_leads(membership=person).count() == 1

    client.post("/preferences/", {"email_notifications": "on"})
    person.refresh_from_db()
    assert person.email_notifications is True
    assert notifications_send() == 0  # that arrival is past; the next one is e-mailed
    new_lead(org, team=team)
    assert notifications_send() == 1


def test_intake_queues_nothing_after_commit(org, make_team, new_lead,
                                            django_capture_on_commit_callbacks):
    """No broker on the request path: a lead is answered whether or not Redis is up.
    (After commit, the lead's events are only counted and logged, in the process.)"""
    from celery.signals import before_task_publish

    team = make_team(org, size=2)
    published = []

    def record(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            new_lead(org, team=team)
    finally:
        before_task_publish.disconnect(record)

    assert published == []


def test_taking_a_lead_yourself_is_no_news(org, make_team, new_lead, bob, mailoutbox):
    empty = make_team(org, size=0, policy=None)
    lead = new_lead(org, team=empty)
    lead_assign_to_me(organization=org, lead_id=lead.pk, membership=bob)
    assert notifications_send() == 0
    assert mailoutbox == [] and not unread_leads(membership=bob).exists()


def test_a_lead_waiting_in_the_queue_mails_nobody(org, make_team, new_lead, mailoutbox):
    empty = make_team(org, size=0, policy=None)
    new_lead(org, team=empty)
    assert notifications_send() == 0 and mailoutbox == []


def test_a_rolled_back_assignment_notifies_nobody(org, make_team, mailoutbox):
    from django.db import transaction

    from history.services import Actor
    from leads.services import lead_create

    team = make_team(org, size=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_create(organization=org, data={"email": "x@y.com"}, team=team,
                    actor=Actor.system())
        raise RuntimeError("boom")
    assert notifications_send() == 0 and mailoutbox == []


def test_no_email_for_a_lead_opened_or_concluded_before_the_task_runs(
    org, make_team, new_lead, mailoutbox
):
    team = make_team(org, size=2)
    opened, concluded = new_lead(org, team=team), new_lead(org, team=team)
    Lead.objects.filter(pk=opened.pk).update(assignee_accessed_at=timezone.now())
    Lead.objects.filter(pk=concluded.pk).update(status=Lead.Status.CONCLUDED)

    assert notifications_send() == 0 and mailoutbox == []


def test_the_periodic_task_sends_in_batches_until_none_is_due(org, make_team, new_lead,
                                                               mailoutbox):
    team = make_team(org, size=3)
    for _ in range(7):
        new_lead(org, team=team)

    assert notifications_send(batch_size=3) == 7
    assert send_notifications() == "sent 0 e-mails"
    assert sorted(len(m.to) for m in mailoutbox) == [1] * 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_email_once(org, make_team, new_lead, mailoutbox):
    team = make_team(org, size=3)
    for _ in range(60):
        new_lead(org, team=team)
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        try:
            return notifications_send(batch_size=5)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: run(), range(2)))

    assert sum(counts) == 60 and len(mailoutbox) == 60
    assert len({m.body for m in mailoutbox}) == 60


def test_preferences_page_needs_a_membership(client, charlie, django_user_model):
    assert client.get("/preferences/").status_code == 302
    loner = django_user_model.objects.create_user("loner", password="x")
    client.force_login(loner)
    assert client.get("/preferences/").status_code == 403
    client.force_login(charlie.user)
    assert client.get("/preferences/").status_code == 200


def test_beat_sends_the_emails_every_configured_interval():
    entries = [e for e in app.conf.beat_schedule.values()
               if e["task"] == "leads.tasks.send_notifications"]

    assert len(entries) == 1
    [entry] = entries
    assert entry["schedule"] == settings.NOTIFICATION_INTERVAL > 0
    task = app.tasks["leads.tasks.send_notifications"]
    assert task.acks_late and task.time_limit and task.soft_time_limit
