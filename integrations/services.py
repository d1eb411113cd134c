"""Outbound webhooks: endpoints, the outbox written with each event, and sending it.

The outbox: ``deliveries_enqueue`` runs inside the transaction that writes
lead events (history's ``events_written``), so a delivery exists exactly when
its event does. Sending happens later, outside any transaction: a worker
claims due rows under a lease (``deliveries_claim``), sends them over the
network (``delivery_send``, no database), and writes the answer back only if
its lease is still the current one (``delivery_record``). A worker that dies
in between leaves its rows to be claimed again when the lease runs out, so
every delivery is sent at least once; receivers deduplicate by event id.
"""

from __future__ import annotations

import base64
import copy
import email.utils
import hashlib
import hmac
import http.client
import json
import logging
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Action, Area, audit_record, created, diff
from history.models import LeadEvent
from leads.api.serializers import LeadSerializer
from leads.models import Lead
from teams.config_cache import org_cached
from teams.models import Membership, Organization, Team

from .addresses import Unresolvable, UnsafeURL, resolve
from .models import (
    PREVIOUS_SECRET_LIFETIME,
    WebhookDelivery,
    WebhookEndpoint,
    generate_secret,
    secret_key,
)
from .signals import deliveries_recorded

log = logging.getLogger(__name__)

USER_AGENT = "Transbordo-Webhooks/1.0"
# Standard Webhooks (standardwebhooks.com): what receivers verify with a maintained library.
WEBHOOK_ID_HEADER = "webhook-id"
WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp"
WEBHOOK_SIGNATURE_HEADER = "webhook-signature"
# Our own scheme of the first release, still sent for one more release (README).
SIGNATURE_HEADER = "X-Transbordo-Signature"
TIMESTAMP_HEADER = "X-Transbordo-Timestamp"
EVENT_ID_HEADER = "X-Transbordo-Event-Id"
EVENT_TYPE_HEADER = "X-Transbordo-Event-Type"
DELIVERY_ID_HEADER = "X-Transbordo-Delivery-Id"

# Answers worth another try besides 5xx: the receiver timed out or asked us to slow down.
RETRYABLE_STATUS = frozenset({408, 429})
RETRY_FACTOR = 4
# Deliveries claimed at once and sent side by side by one worker.
BATCH_SIZE = 20
CONCURRENCY = 8
# One run of the periodic task stops claiming after this long; the next tick goes on.
RUN_BUDGET_SECONDS = 60
MAX_ERROR_LENGTH = 500
MAX_ANSWER_BYTES = 512

Status = WebhookDelivery.Status


# --- endpoints ---------------------------------------------------------------------------------


def event_type_choices() -> list[tuple[str, str]]:
    return list(LeadEvent.Type.choices)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        resolve(url)
    except UnsafeURL as exc:
        raise ValidationError({"url": [str(exc)]}) from None
    return url


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    known = [value for value, _label in event_type_choices()]
    chosen = set(event_types)
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ValidationError({"event_types": [
            _("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)}
        ]})
    return [value for value in known if value in chosen]  # in the product's order


def _settings(endpoint: WebhookEndpoint) -> dict:
    """What the audit log records of an endpoint (never its secrets)."""
    return {"url": endpoint.url, "description": endpoint.description,
            "event_types": list(endpoint.event_types), "is_active": endpoint.is_active}


def _record(organization, actor, endpoint: WebhookEndpoint, action: str, changes=None) -> None:
    audit_record(organization=organization, actor=actor, area=Area.WEBHOOK, action=action,
                 target=endpoint, target_label=endpoint.description or endpoint.url,
                 changes=changes)


def endpoint_create(
    *, organization: Organization, url: str, description: str = "",
    event_types: Iterable[str] = (), is_active: bool = True, actor=None,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (the caller shows it once)."""
    url, event_types = _clean_url(url), _clean_event_types(event_types)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization, url=url, description=description,
            event_types=event_types, is_active=is_active,
        )
        _record(organization, actor, endpoint, Action.CREATED, created(_settings(endpoint)))
    return endpoint, endpoint.secret


def endpoint_update(
    *, organization: Organization, endpoint_id: int, url: str | None = None,
    description: str | None = None, event_types: Iterable[str] | None = None,
    is_active: bool | None = None, actor=None,
) -> WebhookEndpoint:
    """Change what was given; ``None`` leaves a field as it is."""
    # Checked before the row is locked: the URL check waits on DNS.
    url = _clean_url(url) if url is not None else None
    event_types = _clean_event_types(event_types) if event_types is not None else None
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_org(organization).select_for_update().get(pk=endpoint_id)
        )
        before = _settings(endpoint)
        if url is not None:
            endpoint.url = url
        if description is not None:
            endpoint.description = description
        if event_types is not None:
            endpoint.event_types = event_types
        endpoint.save(update_fields=["url", "description", "event_types"])
        if is_active is not None and is_active != endpoint.is_active:
            _set_active(endpoint, is_active)
        _record(organization, actor, endpoint, Action.CHANGED,
                diff(before, _settings(endpoint)))
    return endpoint


def endpoint_set_active(
    *, organization: Organization, endpoint_id: int, is_active: bool, actor=None
) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_org(organization).select_for_update().get(pk=endpoint_id)
        )
        if endpoint.is_active != is_active:
            _set_active(endpoint, is_active)
            _record(organization, actor, endpoint, Action.CHANGED,
                    diff({"is_active": not is_active}, {"is_active": is_active}))
    return endpoint


def _set_active(endpoint: WebhookEndpoint, is_active: bool) -> None:
    endpoint.is_active = is_active
    endpoint.save(update_fields=["is_active"])
    if not is_active:
        # What was still waiting is not sent to a switched-off endpoint; a manager
        # can send any of it again after switching it back on.
        endpoint.deliveries.filter(status=Status.PENDING).update(
            status=Status.FAILED, next_attempt_at=None, lease_token=None,
            last_error=_("The endpoint was deactivated."),
        )


def endpoint_rotate_secret(
    *, organization: Organization, endpoint_id: int, actor=None
) -> tuple[WebhookEndpoint, str]:
    """A new secret. For ``PREVIOUS_SECRET_LIFETIME`` (24 hours) deliveries carry a
    signature with each, so the receiver can switch to the new one without losing any;
    rotating again within that time drops the oldest."""
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.for_org(organization).select_for_update().get(pk=endpoint_id)
        )
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_LIFETIME
        endpoint.secret = generate_secret()
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        _record(organization, actor, endpoint, Action.SECRET_ROTATED)
    return endpoint, endpoint.secret


def endpoint_delete(*, organization: Organization, endpoint_id: int, actor=None) -> None:
    """The endpoint and its delivery log; a send already under way finds no row to record."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.for_org(organization).get(pk=endpoint_id)
        _record(organization, actor, endpoint, Action.DELETED, diff(_settings(endpoint), {}))
        endpoint.delete()


# --- the outbox -------------------------------------------------------------------------------


def deliveries_enqueue(*, events: Sequence[LeadEvent]) -> list[WebhookDelivery]:
    """One pending delivery per event and subscribed endpoint, in the caller's transaction.

    Costs one query (the organization's active endpoints) when there are none;
    otherwise that, the lead's people and team if not loaded yet, and one INSERT.
    """
    if not events:
        return []
    org_ids = {event.organization_id for event in events}
    if not _may_have_endpoints(events, org_ids):
        return []
    endpoints = list(
        WebhookEndpoint.objects.filter(organization_id__in=org_ids, is_active=True)
        .select_related("organization")
        .only("id", "organization", "event_types", "organization__slug",
              "organization__time_zone")
    )
    if not endpoints:
        return []
    by_org: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        by_org.setdefault(endpoint.organization_id, []).append(endpoint)
    wanted = [
        (event, endpoint)
        for event in events
        for endpoint in by_org.get(event.organization_id, ())
        if endpoint.wants(event.type)
    ]
    if not wanted:
        return []
    payloads = _payloads(
        [event for event, _e in wanted],
        organizations={e.organization_id: e.organization for e in endpoints},
    )
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(
            organization_id=event.organization_id, endpoint=endpoint, event=event,
            payload=payloads[event.pk], next_attempt_at=now, created_at=now,
        )
        for event, endpoint in wanted
    ])
    ids = [d.pk for d in deliveries]
    transaction.on_commit(partial(_send_soon, ids))
    return deliveries


def _may_have_endpoints(events: Sequence[LeadEvent], org_ids: set[int]) -> bool:
    """False when every organization is known, from this process's copy, to have no active
    endpoint. Intake's events carry their organization (loaded with the API key, with its
    configuration version); other callers fall through to the query."""
    organizations = {}
    for event in events:
        lead = event.lead if LeadEvent.lead.is_cached(event) else None
        if lead is not None and Lead.organization.is_cached(lead):
            organizations[lead.organization_id] = lead.organization
    if set(organizations) != org_ids:
        return True
    # The query is built only when the copy is missing or stale: building it costs more
    # than the cached answer.
    return any(
        org_cached(organization, "integrations.has_endpoints",
                   partial(_has_endpoints, organization))
        for organization in organizations.values()
    )


def _has_endpoints(organization: Organization) -> bool:
    return WebhookEndpoint.objects.filter(organization=organization, is_active=True).exists()


def _send_soon(delivery_ids: list[int]) -> None:
    """A first attempt right after commit, for low latency; the periodic task is the net."""
    from .tasks import deliver

    try:
        deliver.apply_async(args=[delivery_ids], retry=False)
    except Exception:  # the broker is down: the periodic task sends them instead
        log.warning("could not queue webhook deliveries %s; the periodic task will send them",
                    delivery_ids, exc_info=True)


def _payloads(events: list[LeadEvent], *, organizations: dict[int, Organization]) -> dict:
    """Each event's body, with its lead as it stands now, serialized as the API shows it."""
    leads = _leads_with_relations(events)
    lead_data: dict[int, dict] = {}
    for org_id, organization in organizations.items():
        mine = [lead for lead in leads.values() if lead.organization_id == org_id]
        if mine:
            with timezone.override(organization.tzinfo):
                lead_data.update(_lead_data(mine))
    payloads = {}
    for event in events:
        if event.pk not in payloads:
            organization = organizations[event.organization_id]
            with timezone.override(organization.tzinfo):
                payloads[event.pk] = event_payload(
                    event=event, lead=leads[event.lead_id], organization=organization,
                    lead_data=lead_data[event.lead_id],
                )
    return payloads


# What changed, beside the lead as it is now: the stage keys (``from``, ``to``,
# ``lost_reason``), or the score (``from``, ``total``, ``parts``).
FUNNEL_EVENTS = {LeadEvent.Type.STAGE_CHANGED: "stage", LeadEvent.Type.SCORED: "score"}


def event_payload(
    *, event: LeadEvent, lead: Lead, organization: Organization, lead_data: dict
) -> dict:
    message = (event.data or {}).get("customer_message") or lead.customer_message or None
    payload = {
        "id": event.pk,
        "type": event.type,
        "created_at": timezone.localtime(event.created_at).isoformat(),
        "reason": event.reason,
        "organization": {"slug": organization.slug},
        "lead": lead_data,
        "customer_message": message,
    }
    if event.type in FUNNEL_EVENTS:
        payload[FUNNEL_EVENTS[event.type]] = event.data
    return payload


def _lead_data(leads: list[Lead]) -> dict[int, dict]:
    """The leads as the API shows them; a fault here must not undo the leads' own change.

    One serializer for the lot: DRF builds a serializer's fields on first use,
    which for a lone LeadSerializer costs more than the lead itself.
    """
    for lead in leads:
        if not lead.customer_message:
            lead.customer_message = None  # (a copy) no message rather than an empty one
    try:
        return {data["id"]: data for data in LeadSerializer(leads, many=True).data}
    except DatabaseError:
        raise  # the transaction is broken anyway
    except Exception:
        log.exception("webhook payload: leads %s could not be serialized",
                      [lead.pk for lead in leads])
        return {lead.pk: {"id": lead.pk} for lead in leads}


def _leads_with_relations(events: list[LeadEvent]) -> dict[int, Lead]:
    """Copies of the events' leads with team and assignee loaded in at most three queries.

    The sweep hands over leads whose assignee changed by id only; loading each
    one's person lazily would cost two queries per lead.
    """
    leads: dict[int, Lead] = {}
    missing_leads = set()
    for event in events:
        if LeadEvent.lead.is_cached(event):
            leads.setdefault(event.lead_id, copy.copy(event.lead))
        else:
            missing_leads.add(event.lead_id)
    if missing_leads:
        for lead in Lead.objects.filter(pk__in=missing_leads - set(leads)):
            leads[lead.pk] = lead
    teams_needed = {
        lead.team_id for lead in leads.values()
        if lead.team_id and not Lead.team.is_cached(lead)
    }
    teams = Team.objects.in_bulk(teams_needed) if teams_needed else {}
    people_needed = {
        lead.assignee_id for lead in leads.values()
        if lead.assignee_id and not (
            Lead.assignee.is_cached(lead) and Membership.user.is_cached(lead.assignee)
        )
    }
    people = (
        Membership.objects.select_related("user").in_bulk(people_needed) if people_needed else {}
    )
    for lead in leads.values():
        if lead.team_id in teams:
            lead.team = teams[lead.team_id]
        if lead.assignee_id in people:
            lead.assignee = people[lead.assignee_id]
    return leads


# --- sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds until ``token`` is replaced or the lease runs out."""

    delivery_id: int
    token: uuid.UUID
    attempt: int
    url: str
    secrets: tuple[str, ...]  # the endpoint's current secret first, then a previous one
    endpoint_active: bool
    event_id: int
    event_type: str
    payload: dict = field(repr=False)


@dataclass(frozen=True)
class Outcome:
    delivered: bool = False
    retryable: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


def deliveries_claim(
    *, now: datetime, limit: int = BATCH_SIZE, ids: Iterable[int] | None = None
) -> list[Claim]:
    """Take up to ``limit`` due deliveries for this worker, under a fresh lease.

    ``SKIP LOCKED`` lets concurrent workers take disjoint rows without waiting;
    the lease (``next_attempt_at`` moved to its end) keeps the rows away from
    everyone else after the claim commits, until this worker writes a result or
    the lease expires.
    """
    token = uuid.uuid4()
    lease_end = now + timedelta(seconds=settings.WEBHOOK_LEASE)
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.PENDING, next_attempt_at__lte=now)
            .select_related("endpoint", "event")
            .only("id", "attempts", "payload", "endpoint__url", "endpoint__secret",
                  "endpoint__previous_secret", "endpoint__previous_secret_expires_at",
                  "endpoint__is_active", "event__id", "event__type")
            .order_by("next_attempt_at", "id")
        )
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        rows = list(due[:limit])
        if not rows:
            return []
        WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            lease_token=token, next_attempt_at=lease_end, last_attempt_at=now,
            attempts=F("attempts") + 1,
        )
    return [
        Claim(
            delivery_id=row.pk, token=token, attempt=row.attempts + 1, url=row.endpoint.url,
            secrets=tuple(row.endpoint.signing_secrets(now)),
            endpoint_active=row.endpoint.is_active,
            event_id=row.event.pk, event_type=row.event.type, payload=row.payload,
        )
        for row in rows
    ]


def sign(*, secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks: ``v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``, the key
    being the secret's base64 part decoded."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_legacy(*, secret: str, timestamp: str, body: bytes) -> str:
    """The first release's ``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``, keyed
    with the secret's text as receivers were given it; sent for one more release."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def request_for(claim: Claim, *, timestamp: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(claim.payload, ensure_ascii=False, separators=(",", ":")).encode()
    message_id = str(claim.event_id)  # the same on every try and every "send again"
    current = claim.secrets[0]
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        WEBHOOK_ID_HEADER: message_id,
        WEBHOOK_TIMESTAMP_HEADER: timestamp,
        # While a replaced secret is still valid, a signature with each, space-separated.
        WEBHOOK_SIGNATURE_HEADER: " ".join(
            sign(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
            for secret in claim.secrets
        ),
        EVENT_ID_HEADER: message_id,
        EVENT_TYPE_HEADER: claim.event_type,
        DELIVERY_ID_HEADER: str(claim.delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign_legacy(secret=current, timestamp=timestamp, body=body),
    }
    return body, headers


def delivery_send(claim: Claim, *, timeout: float | None = None) -> Outcome:
    """POST one delivery; network only, no database. Never raises for the receiver's faults."""
    if not claim.endpoint_active:
        return Outcome(error=_("The endpoint was deactivated."))
    timeout = settings.WEBHOOK_TIMEOUT if timeout is None else timeout
    try:
        scheme, host, port, address = resolve(claim.url)
    except Unresolvable as exc:
        return Outcome(retryable=True, error=str(exc))
    except UnsafeURL as exc:
        return Outcome(error=str(exc))
    body, headers = request_for(claim, timestamp=str(int(time.time())))
    parts = urlsplit(claim.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = (
        _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(host, port, timeout=timeout, address=address)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(MAX_ANSWER_BYTES)
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    except TimeoutError:
        return Outcome(retryable=True, error=_("No answer within %(s)s seconds.") % {"s": timeout})
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(retryable=True, error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH])
    finally:
        connection.close()
    code = response.status
    if 200 <= code < 300:
        return Outcome(delivered=True, status_code=code)
    text = answer.decode("utf-8", "replace").strip()
    return Outcome(
        retryable=code >= 500 or code in RETRYABLE_STATUS,
        status_code=code,
        error=f"HTTP {code} {response.reason}: {text}".strip(": ")[:MAX_ERROR_LENGTH],
        retry_after=retry_after,
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to a fresh DNS answer for the host.

    The Host header (and for HTTPS the SNI name and certificate check) still use the
    host name.
    """

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = partial(_connect_to, address)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = partial(_connect_to, address)


def _connect_to(address, host_port, timeout=None, source_address=None):
    return socket.create_connection((address, host_port[1]), timeout, source_address)


def deliveries_prune(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete delivered and failed deliveries older than ``WEBHOOK_RETENTION_DAYS``, in
    batches; pending ones stay however old. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
    finished = (
        WebhookDelivery.objects.exclude(status=Status.PENDING)
        .filter(created_at__lt=cutoff)
        .order_by()
    )
    deleted = 0
    while ids := list(finished.values_list("pk", flat=True)[:batch_size]):
        deleted += WebhookDelivery.objects.filter(pk__in=ids).delete()[0]
    return deleted


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A receiver's Retry-After (RFC 9110): seconds, or an HTTP date; ``None`` when absent
    or unreadable, and then the back-off alone decides."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a date without a zone is UTC (RFC 5322)
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or timezone.now())).total_seconds())


def full_jitter(cap: float) -> float:
    return random.uniform(0, cap)


def retry_delay(*, attempt: int, retry_after: float | None = None) -> timedelta:
    """Exponential back-off with full jitter after the ``attempt``-th try failed.

    The ceiling grows RETRY_FACTOR-fold per try from WEBHOOK_RETRY_BASE, up to
    WEBHOOK_RETRY_MAX_DELAY; the delay is uniform below it, so receivers that
    failed together are not all retried together. A receiver's Retry-After is
    honoured up to the same maximum.
    """
    ceiling = min(
        settings.WEBHOOK_RETRY_MAX_DELAY,
        settings.WEBHOOK_RETRY_BASE * RETRY_FACTOR ** (attempt - 1),
    )
    seconds = max(1.0, full_jitter(ceiling))
    if retry_after:
        seconds = max(seconds, min(retry_after, settings.WEBHOOK_RETRY_MAX_DELAY))
    return timedelta(seconds=seconds)


def delivery_record(claim: Claim, outcome: Outcome, *, now: datetime | None = None) -> str:
    """Write an attempt's result, if this worker still holds the lease; returns the status."""
    now = now or timezone.now()
    fields = {
        "lease_token": None, "last_status_code": outcome.status_code,
        "last_error": outcome.error[:MAX_ERROR_LENGTH],
    }
    if outcome.delivered:
        fields.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif outcome.retryable and claim.attempt < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = retry_delay(attempt=claim.attempt, retry_after=outcome.retry_after)
        fields.update(status=Status.PENDING, next_attempt_at=now + delay)
    else:
        fields.update(status=Status.FAILED, next_attempt_at=None)
    updated = WebhookDelivery.objects.filter(
        pk=claim.delivery_id, lease_token=claim.token
    ).update(**fields)
    if not updated:
        # The lease ran out and another worker took the row over (or it was resent,
        # deactivated or deleted): its attempt is the one that counts.
        log.warning("webhook delivery %s: lease lost, result of attempt %s dropped",
                    claim.delivery_id, claim.attempt)
        return "stale"
    return "retrying" if fields["status"] == Status.PENDING else fields["status"]


def _send_all(claims: list[Claim]) -> list[Outcome]:
    if len(claims) == 1:
        return [delivery_send(claims[0])]
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(claims))) as pool:
        return list(pool.map(delivery_send, claims))


def deliveries_run(
    *, ids: Iterable[int] | None = None, now: datetime | None = None, limit: int = BATCH_SIZE,
) -> Counter:
    """Claim, send and record due deliveries (only ``ids`` when given), batch by batch.

    Returns how many ended in each state: delivered, retrying, failed, stale.
    Safe to run in several workers at once and twice in a row.
    """
    ids = list(ids) if ids is not None else None
    counts: Counter = Counter()
    started = time.monotonic()
    while True:
        claims = deliveries_claim(now=now or timezone.now(), limit=limit, ids=ids)
        if not claims:
            break
        # No transaction and no lock is held while the network is used.
        outcomes = _send_all(claims)
        for claim, outcome in zip(claims, outcomes, strict=True):
            counts[delivery_record(claim, outcome)] += 1
        if ids is not None or time.monotonic() - started > RUN_BUDGET_SECONDS:
            break
    if counts:
        deliveries_recorded.send(sender=WebhookDelivery, counts=counts)
    return counts


def deliveries_purge_for_leads(*, organization: Organization, lead_ids: Iterable[int]) -> int:
    """Delete the deliveries of these leads' events (erasure): their payloads hold the lead
    as it was. A send under way finds no row to record its result in (``delivery_record``).
    Returns how many were deleted."""
    deleted, _by_model = (
        WebhookDelivery.objects.for_org(organization).filter(event__lead_id__in=list(lead_ids))
        .delete()
    )
    return deleted


class DeliveryInFlight(ValidationError):
    pass


def delivery_resend(
    *, organization: Organization, delivery_id: int, now: datetime | None = None
) -> WebhookDelivery:
    """Send the same event (same id, same body) again, with a fresh set of tries."""
    now = now or timezone.now()
    delivery = (
        WebhookDelivery.objects.for_org(organization).select_related("endpoint")
        .get(pk=delivery_id)
    )
    if not delivery.endpoint.is_active:
        raise ValidationError(_("The endpoint is deactivated: switch it on to send again."))
    in_flight = Q(status=Status.PENDING, lease_token__isnull=False, next_attempt_at__gt=now)
    updated = (
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(in_flight)
        .update(status=Status.PENDING, attempts=0, next_attempt_at=now, lease_token=None,
                delivered_at=None)
    )
    if not updated:
        raise DeliveryInFlight(_("This delivery is being sent right now."))
    transaction.on_commit(partial(_send_soon, [delivery.pk]))
    delivery.refresh_from_db()
    return delivery

