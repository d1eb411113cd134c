import pytest
from django.db.models import ProtectedError, RestrictedError

from history.models import AppendOnlyError, LeadEvent
from leads.models import Lead


def test_history_events_are_never_updated_or_deleted(org, make_team, new_lead):
    lead = new_lead(org, team=make_team(org, size=2))
    event = LeadEvent.objects.filter(lead=lead).first()
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        LeadEvent.objects.filter(lead=lead).update(reason="x")
    with pytest.raises(AppendOnlyError):
        LeadEvent.objects.filter(lead=lead).delete()
    assert LeadEvent.objects.filter(lead=lead, reason="").count() == 2


def test_a_person_in_history_cannot_be_deleted_away(org, make_team, new_lead):
    team = make_team(org, size=2)
    new_lead(org, team=team)
    holder = team.attendants[0]
    with pytest.raises((RestrictedError, ProtectedError)):
        holder.delete()
    assert LeadEvent.objects.filter(to_member=holder).exists()


def test_deleting_an_organization_takes_its_history_with_it(org, other_org, make_team, new_lead):
    new_lead(org, team=make_team(org, size=2))
    kept = new_lead(other_org, team=make_team(other_org, size=2))
    org.delete()
    assert set(Lead.objects.values_list("id", flat=True)) == {kept.pk}
    assert set(LeadEvent.objects.values_list("lead_id", flat=True)) == {kept.pk}
