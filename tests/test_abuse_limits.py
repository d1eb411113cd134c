"""Abuse limits (issue 12, section 2): login tries, password reset, API throttles.

- Login: tries per account and per client address come from token buckets on the cache;
  past them a try is refused (429 and a form error) without the password being checked,
  the person is e-mailed once, and nothing is locked for good: the bucket refills, and a
  new password ends the pause at once.
- Password reset by e-mail with the same limits, and the same answer for an address that
  no account has.
- API: per API key (intake and the rest) and per client address, 429 with Retry-After, and
  a throttled request creates nothing.
"""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.throttle import Bucket
from leads.models import Lead
from teams.services.keys import api_key_create

PASSWORD = "secret-pass"  # tests/factories.py


def english() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def log_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


# --- the bucket --------------------------------------------------------------------------


def test_a_bucket_gives_its_capacity_at_once_then_one_try_per_refill():
    bucket = Bucket.from_rate("test", "3/3m")  # three at once, then one a minute
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert [bucket.take("x") for _ in range(3)] == [0, 0, 0]
        assert bucket.take("x") == pytest.approx(60)
        clock.shift(30)
        assert bucket.take("x") == pytest.approx(30)  # a refused try costs nothing
        clock.shift(30)
        assert bucket.take("x") == 0
        assert bucket.take("x") == pytest.approx(60)
        assert bucket.take("someone else") == 0
        clock.shift(180)
        assert [bucket.take("x") for _ in range(4)][:3] == [0, 0, 0]  # full again, not more


@pytest.mark.parametrize("rate", ["5", "0/1m", "5/0m", "5/1w", "five/1m"])
def test_a_bucket_rate_must_say_tries_and_time(rate):
    with pytest.raises(ValueError):
        Bucket.from_rate("test", rate)


def test_tries_sent_at_once_each_take_a_token(db):
    """Thirty wrong passwords at once: the lock around each take counts every one."""
    bucket = Bucket.from_rate("test", "5/1h")
    results, start = [], threading.Barrier(30)

    def take():
        start.wait()
        results.append(bucket.take("victim"))

    threads = [threading.Thread(target=take) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results)[:6] == [0, 0, 0, 0, 0, pytest.approx(720, abs=5)]
    assert sum(1 for wait in results if wait == 0) == 5


# --- login ---------------------------------------------------------------------------------


def test_thirty_wrong_passwords_in_a_row_no_longer_all_get_a_fresh_try(bob):
    client = english()
    answers = [log_in(client, "bob", f"guess-{n}") for n in range(30)]

    assert [a.status_code for a in answers[:5]] == [200] * 5  # checked: wrong password
    assert [a.status_code for a in answers[5:]] == [429] * 25
    refused = answers[5]
    assert int(refused["Retry-After"]) == 360  # one try back every 6 minutes (5/30m)
    assert "Too many tries. Try again in 6 minutes." in refused.content.decode()
    # The right password is refused as well while the account is out of tries.
    assert log_in(client, "bob", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_person_is_emailed_once_when_their_account_runs_out_of_tries(bob):
    client = english()
    for n in range(12):
        log_in(client, "BOB ", f"guess-{n}")  # case and spaces do not make a new account

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [bob.user.email]
    # In the language of the person's organization (pt-BR), not of whoever was trying.
    assert message.subject == "As entradas na sua conta do Transbordo estão pausadas"
    assert "127.0.0.1" in message.body and "/password-reset/" in message.body


def test_unknown_accounts_are_limited_the_same_and_nobody_is_emailed(db):
    client = english()
    answers = [log_in(client, "nobody", "x").status_code for _ in range(7)]

    assert answers == [200] * 5 + [429] * 2
    assert mail.outbox == []


def test_a_locked_account_comes_back_by_itself(bob):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = english()
        for n in range(6):
            log_in(client, "bob", f"guess-{n}")
        assert log_in(client, "bob", PASSWORD).status_code == 429

        clock.shift(timedelta(minutes=6))
        response = log_in(client, "bob", PASSWORD)

    assert response.status_code == 302 and client.session["_auth_user_id"] == str(bob.user.pk)


def test_an_attacker_from_elsewhere_cannot_keep_someone_out_a_new_password_ends_it(bob):
    attacker = english()
    for n in range(10):
        log_in(attacker, "bob", f"guess-{n}")
    assert log_in(english(), "bob", PASSWORD).status_code == 429  # locked for bob too

    reset_link = request_reset_link(english(), bob.user.email)
    set_password(english(), reset_link, "a-brand-new-password-7")
    response = log_in(english(), "bob", "a-brand-new-password-7")

    assert response.status_code == 302


def test_one_address_is_limited_across_accounts(org):
    client = english()
    answers = [log_in(client, f"user-{n}", "x").status_code for n in range(31)]

    assert answers == [200] * 30 + [429]


def test_the_client_address_comes_from_trusted_proxies_only(db, settings):
    settings.LOGIN_RATE_ADDRESS = "2/10m"
    forged = english()
    answers = [
        forged.post("/login/", {"username": f"u{n}", "password": "x"},
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert answers == [200, 200, 429]  # without NUM_PROXIES the header is ignored

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    behind_proxy = [
        forged.post("/login/", {"username": f"v{n}", "password": "x"},
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]
    assert behind_proxy == [200, 200, 200]  # one address each, as the proxy saw them


# --- password reset ------------------------------------------------------------------------


def request_reset_link(client, email) -> str:
    mail.outbox.clear()
    response = client.post("/password-reset/", {"email": email})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    [message] = mail.outbox
    return re.search(r"https?://\S+/reset/\S+/", message.body).group(0)


def set_password(client, link, password):
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)  # Django swaps the token for a session mark
    assert response.status_code == 302
    response = client.post(response["Location"],
                           {"new_password1": password, "new_password2": password})
    assert response.status_code == 302 and response["Location"] == "/reset/done/"


def test_password_reset_by_email_sets_a_new_password_once(bob, settings):
    settings.SITE_URL = "https://transbordo.example.com"
    client = english()

    link = request_reset_link(client, bob.user.email.upper())
    assert link.startswith("https://transbordo.example.com/reset/")
    assert "Your username: bob" in mail.outbox[0].body
    set_password(client, link, "a-brand-new-password-7")

    bob.user.refresh_from_db()
    assert bob.user.check_password("a-brand-new-password-7")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    again = english().get(path, follow=True)
    assert 'id="invalid-link"' in again.content.decode()  # the link worked once


def test_reset_says_the_same_for_an_address_no_account_has(bob):
    known = english().post("/password-reset/", {"email": bob.user.email})
    unknown = english().post("/password-reset/", {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1  # only the real account got a link


def test_reset_requests_are_limited_per_address_asked_for(bob):
    answers = [english().post("/password-reset/", {"email": bob.user.email}).status_code
               for _ in range(4)]
    unknown = [english().post("/password-reset/", {"email": "x@example.com"}).status_code
               for _ in range(4)]

    assert answers == [302, 302, 302, 429]
    assert unknown == [302, 302, 302, 429]  # the same for an address nobody has
    assert len(mail.outbox) == 3


def test_reset_pages_are_in_portuguese_by_default(db):
    page = Client().get("/password-reset/").content.decode()
    assert "Esqueceu sua senha?" in page
    assert 'href="/password-reset/"' in Client().get("/login/").content.decode()


def test_reset_email_follows_the_language_of_the_page(bob):
    client = Client()  # pt-BR
    client.post("/password-reset/", {"email": bob.user.email})
    assert "senha" in mail.outbox[0].subject.lower()


# --- API throttles -------------------------------------------------------------------------


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                       **rates},
        }
    return set_rates


@pytest.fixture
def team(org, make_team):
    team = make_team(org, size=2)
    org.default_team = team
    org.save()
    return team


def post_lead(client, n):
    return client.post("/api/v1/leads", {"name": f"Lead {n}", "email": f"l{n}@example.com"},
                       format="json")


def test_intake_past_its_rate_answers_429_with_retry_after_and_creates_nothing(
    api, team, rates
):
    rates(intake="3/m")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = [post_lead(api, n) for n in range(4)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429]
        assert 0 < int(answers[3]["Retry-After"]) <= 60
        assert answers[3].json()["detail"]  # DRF's "Request was throttled…", translated
        assert Lead.objects.count() == 3
        assert not Lead.objects.filter(email="l3@example.com").exists()

        clock.shift(61)
        assert post_lead(api, 4).status_code == 201


def test_intake_and_reads_are_limited_apart_and_per_key(api, org, team, rates):
    rates(intake="2/m", api="2/m")
    _key, raw = api_key_create(organization=org, name="second")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert [post_lead(api, n).status_code for n in range(3)] == [201, 201, 429]
    assert [api.get("/api/v1/leads").status_code for _ in range(3)] == [200, 200, 429]
    assert post_lead(other, 9).status_code == 201  # another key has its own count


def test_one_address_is_limited_across_keys_and_made_up_keys(api, outsider_api, team, rates):
    rates(address="3/m")
    forger = APIClient()
    forger.credentials(HTTP_AUTHORIZATION="Api-Key made-up")

    assert api.get("/api/v1/leads").status_code == 200
    assert outsider_api.get("/api/v1/leads").status_code == 200
    assert forger.get("/api/v1/leads").status_code == 401
    assert forger.get("/api/v1/leads").status_code == 429  # before the key is even looked up
    assert post_lead(api, 1).status_code == 429


def test_handoffs_count_as_intake(api, team, rates):
    rates(intake="1/m")
    body = {"contact": {"name": "Maria", "phone": "+55 11 91234-5678"}, "reason": "humano",
            "transcript": [{"author": "customer", "text": "oi"}]}

    assert api.post("/api/v1/handoffs", body, format="json").status_code == 201
    assert api.post("/api/v1/handoffs", body, format="json").status_code == 429
    assert Lead.objects.count() == 1


def test_an_empty_rate_turns_a_throttle_off(api, team, rates):
    rates(intake="")
    assert {post_lead(api, n).status_code for n in range(25)} == {201}


def test_default_intake_rate_takes_a_burst_of_real_traffic(api, team):
    """The default (README): a landing page's burst of 100 leads within a second goes in."""
    with time_machine.travel(timezone.now(), tick=False):
        assert {post_lead(api, n).status_code for n in range(100)} == {201}
        assert post_lead(api, 100).status_code == 429


@pytest.mark.redis
def test_throttle_counts_live_in_redis_shared_by_every_process(api, team, rates, settings):
    import redis

    url = settings.CACHES["default"].get("LOCATION", "")
    assert url.startswith("redis://"), "CI sets REDIS_URL: the cache is Redis"
    rates(intake="1/m")
    assert post_lead(api, 1).status_code == 201
    prefix = settings.CACHES["default"]["KEY_PREFIX"]

    keys = redis.Redis.from_url(url).keys(f"{prefix}:*throttle_intake_*")

    assert len(keys) == 1
    assert connection.vendor  # the request ran through the real stack
