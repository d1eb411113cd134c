"""Recording managers' changes. Callers are inside the transaction of the change they record.

``actor`` is who made the change, as the services receive it: a membership (the pages), an
API key (the API) or ``None`` (the system: commands, the demo). Nothing here imports an app
of ours; they are told apart by their model.
"""

from typing import Any

from django.conf import settings

from .models import AuditEvent

# Never written to the log, whatever a caller passes.
SECRET_FIELDS = frozenset({"secret", "previous_secret", "key_hash", "password", "raw_key"})

Area = AuditEvent.Area
Action = AuditEvent.Action


def actor_of(actor) -> Any:
    """The audit actor of a history ``Actor`` (a user, an API key or the system)."""
    return getattr(actor, "api_key", None) or getattr(actor, "user", None)


def actor_fields(actor) -> dict[str, Any]:
    if actor is None:
        return {"actor_kind": AuditEvent.ActorKind.SYSTEM, "actor_label": "System"}
    label = actor._meta.label_lower
    if label == "teams.membership":
        return {"actor_kind": AuditEvent.ActorKind.USER, "actor_membership": actor,
                "actor_user_id": actor.user_id, "actor_label": actor.display_name[:200]}
    if label == "teams.apikey":
        return {"actor_kind": AuditEvent.ActorKind.API_KEY, "actor_api_key": actor,
                "actor_label": f"API · {actor.name} ({actor.prefix}…)"[:200]}
    if label == settings.AUTH_USER_MODEL.lower():
        return {"actor_kind": AuditEvent.ActorKind.USER, "actor_user": actor,
                "actor_label": (actor.get_full_name() or actor.get_username())[:200]}
    raise TypeError(f"an audit actor is a membership, an API key or None, not {label}")


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for the fields whose value changed."""
    return {
        field: {"from": before.get(field), "to": after.get(field)}
        for field in dict.fromkeys([*before, *after])
        if before.get(field) != after.get(field) and field not in SECRET_FIELDS
    }


def created(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return diff({}, {field: value for field, value in values.items() if value not in ("", None)})


def audit_record(
    *,
    organization,
    actor,
    area: str,
    action: str,
    target=None,
    target_label: str = "",
    changes: dict[str, dict[str, Any]] | None = None,
) -> AuditEvent | None:
    """Write one event; a change that changed nothing (``action`` changed, no ``changes``)
    writes none."""
    changes = {k: v for k, v in (changes or {}).items() if k not in SECRET_FIELDS}
    if action == Action.CHANGED and not changes:
        return None
    return AuditEvent.objects.create(
        organization_id=getattr(organization, "pk", organization),
        area=area, action=action,
        target_id=getattr(target, "pk", target),
        target_label=(target_label or (str(target) if target is not None else ""))[:200],
        changes=changes,
        **actor_fields(actor),
    )
