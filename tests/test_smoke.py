from datetime import timedelta

from django.utils import timezone

from history.models import LeadEvent
from leads.sweep import overflow_sweep


def test_api_lead_is_assigned_and_overflows_after_service_time(org, make_team, new_lead):
    team = make_team(org, size=3)
    now = timezone.now()
    lead = new_lead(org, team=team, now=now)
    assert lead.assignee_id == team.attendants[0].pk
    assert lead.overflow_active and lead.overflow_due_at == now + timedelta(minutes=10)

    assert overflow_sweep(now=now + timedelta(minutes=9)) == 0
    assert overflow_sweep(now=now + timedelta(minutes=10)) == 1
    lead.refresh_from_db()
    assert lead.assignee_id == team.attendants[1].pk
    assert lead.transfer_count == 1
    event = LeadEvent.objects.get(lead=lead, type=LeadEvent.Type.OVERFLOWED)
    assert (event.from_member_id, event.to_member_id, event.sequence) == (
        team.attendants[0].pk, team.attendants[1].pk, 1,
    )
