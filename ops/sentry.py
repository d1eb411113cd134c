"""Error reporting through Sentry, switched on by ``SENTRY_DSN`` (config/settings.py).

Loaded by the settings before Django's apps: it imports nothing of ours but ops.redact,
which imports nothing.
"""

from __future__ import annotations

from typing import Any

from .redact import redact


def scrub(value: Any) -> Any:
    """Every string of an event (its URL, transaction, messages, breadcrumbs) without a
    source's intake token."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def before_send(event, hint):
    return scrub(event)


def before_breadcrumb(crumb, hint):
    return scrub(crumb)


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float,
                transport=None) -> None:
    """Django and Celery errors go to Sentry; no personal data unless asked for.

    ``send_default_pii`` stays off: no user e-mail, address, cookies or request bodies. 4xx
    answers are not errors (DjangoIntegration reports only unhandled exceptions).
    """
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    options = {}
    if transport is not None:
        options["transport"] = transport  # tests capture what would be sent
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(),
            # ERROR records become events; lower ones only breadcrumbs.
            LoggingIntegration(event_level="ERROR"),
        ],
        send_default_pii=False,
        # Local variables of a failing frame may hold a customer's name or e-mail: off.
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        # Intake URLs (/in/<token>) carry a secret: scrubbed from everything sent.
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        **options,
    )
