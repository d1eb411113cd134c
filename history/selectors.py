from .models import LeadEvent


def lead_history(*, organization, lead_id: int):
    """A lead's whole history, oldest first, with everything its rows display."""
    return (
        LeadEvent.objects.for_org(organization)
        .filter(lead_id=lead_id)
        .select_related(
            "actor_user", "actor_api_key", "from_member__user", "to_member__user"
        )
        .order_by("created_at", "id")
    )


def lead_holder_ids(*, lead_ids) -> dict[int, set[int]]:
    """For each lead, the memberships that have held it at any time."""
    holders: dict[int, set[int]] = {lead_id: set() for lead_id in lead_ids}
    rows = (
        LeadEvent.objects.filter(lead_id__in=list(lead_ids), to_member__isnull=False)
        .values_list("lead_id", "to_member_id")
        .order_by()  # the model's ordering would make DISTINCT include created_at, id
        .distinct()
    )
    for lead_id, member_id in rows:
        holders[lead_id].add(member_id)
    return holders
