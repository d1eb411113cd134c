from .models import Membership


def membership(request):
    context = {"presence_choices": Membership.Presence.choices}
    if getattr(request, "membership", None) is not None:
        # The unread badge: the one query this adds to every page.
        context["unread_count"] = request.membership.notifications.filter(
            read_at__isnull=True
        ).count()
    return context
