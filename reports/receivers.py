"""History announces its events; the reports measure each opening as it is written."""

from history.models import LeadEvent

from .services import accesses_follow_team, accesses_record


def record_accesses(sender, events, **kwargs):
    # Inside the transaction that wrote the events: the opening and its measure commit
    # together. Batches with neither (intake, the sweep) cost one pass over a list.
    accessed = [e for e in events if e.type == LeadEvent.Type.ACCESSED]
    if accessed:
        accesses_record(events=accessed)
    transferred = [e for e in events if e.type == LeadEvent.Type.TRANSFERRED]
    if transferred:
        accesses_follow_team(events=transferred)
