"""Writing history. Callers are already inside the transaction of the state change."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
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
    if connection.vendor == "postgresql" and len(events) > 1:
        saved = _insert_unnest(events)
    else:
        saved = LeadEvent.objects.bulk_create(events)
    events_written.send(sender=LeadEvent, events=saved)
    return saved


# Columns and PostgreSQL array types of the batch insert, in one place.
_COLUMNS = {
    "organization_id": "bigint", "lead_id": "bigint", "type": "varchar",
    "actor_kind": "varchar", "actor_user_id": "integer", "actor_api_key_id": "bigint",
    "from_member_id": "bigint", "to_member_id": "bigint", "reason": "varchar",
    "sequence": "integer", "data": "text", "created_at": "timestamptz",
}


def _insert_unnest(events: list[LeadEvent]) -> list[LeadEvent]:
    """One ``INSERT ... SELECT FROM unnest(<typed arrays>)`` with a fixed statement text.

    ``bulk_create`` compiles a VALUES row of twelve placeholders per event: for
    the sweep's batches that was most of its Python time. Same rows, same
    transaction; the ids come back in insertion order, as bulk_create relies on.
    """
    table = connection.ops.quote_name(LeadEvent._meta.db_table)
    names = list(_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _COLUMNS.values())
    select = ", ".join("v.data::jsonb" if n == "data" else f"v.{n}" for n in names)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {select}"
        f" FROM unnest({arrays}) AS v({', '.join(names)}) RETURNING id"
    )
    params = []
    for name in names:
        if name == "data":
            params.append([json.dumps(e.data, cls=DjangoJSONEncoder) for e in events])
        else:
            params.append([getattr(e, name) for e in events])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = connection.alias
    return events


def event_record(**kwargs) -> LeadEvent:
    return events_save([event_build(**kwargs)])[0]
