from .models import Membership


def membership(request):
    return {"presence_choices": Membership.Presence.choices}
