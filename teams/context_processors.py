from .models import Membership


def membership(request):
    context = {"presence_choices": Membership.Presence.choices}
    if getattr(request, "membership", None) is not None:
        # The unread badge: the one query this adds to every page.
        # (leads.notifications.unread_leads, read through the reverse relation: teams
        # sits below leads.)
        context["unread_count"] = request.membership.assigned_leads.filter(
            status="open", assignee_accessed_at__isnull=True
        ).count()
    return context
