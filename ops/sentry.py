"""Error reporting through Sentry, switched on by ``SENTRY_DSN`` (config/settings.py).

Loaded by the settings before Django's apps: it imports nothing of ours.
"""

from __future__ import annotations


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
        **options,
    )
