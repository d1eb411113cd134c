"""Issue 17 §2: errors go to Sentry when SENTRY_DSN is set, without personal data."""

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from ops.sentry import sentry_init

from .helpers import client_for


class Captured(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry():
    transport = Captured()
    sentry_init(dsn="https://public@sentry.example.com/1", environment="test", release="t",
                traces_sample_rate=0.0, transport=transport)
    yield transport
    sentry_sdk.init()  # no DSN: reporting off again for the other tests


def test_an_unhandled_error_is_reported_without_personal_data(sentry, bob, monkeypatch):
    client = client_for(bob)
    client.raise_request_exception = False
    client.cookies["tracking"] = "cookie-value"

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("leads.views.selectors.inbox_tabs", broken)
    response = client.get("/inbox/?q=maria%40example.com", REMOTE_ADDR="203.0.113.9")
    sentry_sdk.flush()

    assert response.status_code == 500
    [event] = [e for e in sentry.events if e.get("exception")]
    assert event["exception"]["values"][-1]["value"] == "boom"
    request = event["request"]
    assert "cookie-value" not in str(request) and "sessionid" not in str(request)
    assert "203.0.113.9" not in str(request) and "203.0.113.9" not in str(event.get("user"))
    assert bob.user.email not in str(event.get("user")) and not event.get("user", {}).get("id")
    # No local variables: a failing frame's locals may hold a customer's data.
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert not any(frame.get("vars") for frame in frames)


def test_a_4xx_is_not_reported(sentry, bob):
    response = client_for(bob).get("/manage/teams/")  # 403 for an attendant
    sentry_sdk.flush()

    assert response.status_code == 403
    assert [e for e in sentry.events if e.get("exception")] == []


def test_without_a_dsn_nothing_is_set_up(settings):
    assert settings.SENTRY_DSN == ""
    assert sentry_sdk.get_client().dsn is None
