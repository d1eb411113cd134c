"""Writing history. Callers are already inside the transaction of the state change."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import LeadEvent
from .signals import events_written


@dataclass(frozen=True)
class Actor:
    """Who or what did something: a user, an API key or the system."""

    kind: str
    user: Any = None
    api_key: Any = None

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.SYSTEM)

    @classmethod
    def for_user(cls, user) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.USER, user=user)

    @classmethod
    def for_api_key(cls, api_key) -> "Actor":
        return cls(kind=LeadEvent.ActorKind.API_KEY, api_key=api_key)


def event_build(
    *,
    lead,
    type: str,
    actor: Actor,
    from_member=None,
    to_member=None,
    reason: str = "",
    data: dict | None = None,
    sequence: int | None = None,
    at: datetime | None = None,
) -> LeadEvent:
    """An unsaved event, for ``events_save`` in batch paths."""
    return LeadEvent(
        organization_id=lead.organization_id,
        lead=lead,
        type=type,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        from_member=from_member,
        to_member=to_member,
        reason=reason,
        data=data or {},
        sequence=sequence,
        created_at=at or timezone.now(),
    )


def events_save(events: list[LeadEvent]) -> list[LeadEvent]:
    """Write events (one INSERT) and announce them to whoever listens (outbound webhooks).

    Every history write goes through here or ``event_record``, inside the
    transaction of the state change it records.
    """
    if not events:
        return events
    saved = LeadEvent.objects.bulk_create(events)
    events_written.send(sender=LeadEvent, events=saved)
    return saved


def event_record(**kwargs) -> LeadEvent:
    return events_save([event_build(**kwargs)])[0]
