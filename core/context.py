"""What the running request or task is about, for log lines and for rows that keep it.

App-free, so every layer may read it: the ops middleware binds the request id (and the
organization once it is known), Celery's signals carry the request id into the tasks a
request started, and a lead keeps the request id it arrived with, so that the sweep's
transfer of it hours later can be traced back to that request.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("transbordo_log_context", default=None)


def log_context() -> dict[str, Any]:
    """The bound fields (request_id, organization_id, task, task_id...); never modify it."""
    return _context.get() or {}


def bind(**fields: Any) -> Token:
    """Add fields to the context; returns the token that ``unbind`` restores."""
    return _context.set({**log_context(), **fields})


def unbind(token: Token) -> None:
    _context.reset(token)


def current_request_id() -> str:
    """The id of the request (or of the request that started this task); "" outside one."""
    return log_context().get("request_id", "")
