"""Writing history. Callers are already inside the transaction of the state change."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import LeadEvent


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
    """An unsaved event, for ``LeadEvent.objects.bulk_create`` in batch paths."""
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


def event_record(**kwargs) -> LeadEvent:
    event = event_build(**kwargs)
    event.save()
    return event
