"""The webhook delivery log says why a delivery failed in words, in the reader's language
(issue 14, section 4), and keeps the technical text beside it."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from integrations.errors import readable_error
from integrations.models import WebhookDelivery
from integrations.services import deliveries_claim, delivery_send, endpoint_create
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

REFUSED_EN = ("Connection refused by the receiver: nothing accepts connections at that "
              "address and port.")


@pytest.mark.parametrize(("raw", "text"), [
    ("ConnectionRefusedError: [Errno 111] Connection refused", REFUSED_EN),
    ("OSError: [Errno 111] Connection refused", REFUSED_EN),
    ("ConnectionResetError: [Errno 104] Connection reset by peer",
     "The receiver dropped the connection before answering."),
    ("RemoteDisconnected: Remote end closed connection without response",
     "The receiver closed the connection without answering."),
    ("SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
     "The receiver's HTTPS certificate could not be verified (expired, self-signed or for "
     "another name)."),
    ("SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number",
     "The secure (HTTPS) connection to the receiver failed."),
    ("OSError: [Errno 113] No route to host", "No route to the receiver's address."),
    ("OSError: [Errno 101] Network is unreachable",
     "The network to the receiver is unreachable."),
    ("BadStatusLine: HTPT/1.1 200", "The receiver's answer was not valid HTTP."),
    ("OSError: [Errno 99] Cannot assign requested address",
     "The connection to the receiver failed."),
])
def test_technical_errors_read_as_sentences(raw, text):
    with translation.override("en"):
        error = readable_error(raw)
    assert (error.text, error.original) == (text, raw)


@pytest.mark.parametrize("raw", [
    "HTTP 410 Gone", "HTTP 500 Internal Server Error: boom", "No answer within 5 seconds.",
    "The endpoint was deactivated.", "",
])
def test_errors_written_for_people_stay_as_they_are(raw):
    assert readable_error(raw) == readable_error(raw).__class__(text=raw)


def test_a_real_refused_connection_reads_well_in_the_log_in_both_languages(
    org, alice, make_team, new_lead, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint, _secret = endpoint_create(organization=org, url=f"http://127.0.0.1:{port}/",
                                        event_types=["created"])
    new_lead(org, team=make_team(org, size=2))
    [claim] = deliveries_claim(now=timezone.now() + timedelta(seconds=1))
    outcome = delivery_send(claim)
    assert outcome.error.startswith("ConnectionRefusedError")  # what the API keeps
    WebhookDelivery.objects.filter(pk=claim.delivery_id).update(
        attempts=1, last_error=outcome.error)

    client = client_for(alice)
    for language, sentence in (("en", REFUSED_EN), ("pt-br", "Conexão recusada pelo receptor")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        page = client.get(f"/manage/webhooks/{endpoint.pk}/deliveries/").content.decode()
        shown = page.split("data-error>", 1)[1].split("</div>", 1)[0]
        assert sentence in shown.replace("&#x27;", "'")
        assert "Errno" not in shown
        assert "ConnectionRefusedError: [Errno 111]" in page  # the detail, folded away


def test_another_organizations_delivery_log_is_404(org, other_org, charlie):
    endpoint, _secret = endpoint_create(organization=org, url="https://93.184.216.34/hook")
    response = client_for(charlie).get(f"/manage/webhooks/{endpoint.pk}/deliveries/")
    assert response.status_code == 404

