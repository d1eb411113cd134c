"""``GET /live/inbox/``: server-sent events for the signed-in person's inbox.

The stream is short on purpose. It checks a cheap picture of the inbox
(``selectors.inbox_state``) every ``LIVE_POLL_SECONDS``, sends it when it changes, and closes
after ``LIVE_STREAM_SECONDS``; the browser's ``EventSource`` then reconnects by itself after
the ``retry`` it was given. So it needs nothing but the database: it works the same under
``make run`` (runserver, SQLite, no Redis) and under gunicorn's threaded workers
(gunicorn.conf.py), a stream never outlives a worker's timeout, and a deploy or a dead
connection costs at most one reconnect. Each check is its own autocommit query: no
transaction stays open between checks. The inbox keeps polling as the fallback.
"""

import json
import time

from django.conf import settings
from django.http import StreamingHttpResponse
from django.views.decorators.http import require_GET

from teams.permissions import member_required

from .selectors import inbox_state, newest_unread

# Comment lines keep proxies from closing a quiet stream.
HEARTBEAT_SECONDS = 10


def inbox_events(membership, *, duration: float, interval: float,
                 sleep=time.sleep, clock=time.monotonic):
    """The stream's lines: an ``inbox`` event now and at every change, until ``duration``."""
    retry_ms = int(settings.LIVE_RETRY_SECONDS * 1000)
    yield f"retry: {retry_ms}\n\n"
    start = last_sent = clock()
    previous = None
    while True:
        state = inbox_state(membership=membership)
        if state != previous:
            payload = {**state, "newest": newest_unread(membership=membership)}
            yield f"event: inbox\ndata: {json.dumps(payload)}\n\n"
            previous, last_sent = state, clock()
        elif clock() - last_sent >= HEARTBEAT_SECONDS:
            yield ": ping\n\n"
            last_sent = clock()
        if clock() - start + interval > duration:
            return
        sleep(interval)


@require_GET
@member_required
def inbox_stream(request):
    response = StreamingHttpResponse(
        inbox_events(
            request.membership,
            duration=settings.LIVE_STREAM_SECONDS,
            interval=settings.LIVE_POLL_SECONDS,
        ),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx and the like: pass each event on at once
    return response
