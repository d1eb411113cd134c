from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Membership
from .permissions import member_required
from .services import presence_set


def _next_url(request, default="inbox"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@member_required
def presence(request):
    value = request.POST.get("presence", "")
    if value not in Membership.Presence.values:
        return HttpResponseBadRequest(_("Unknown presence."))
    presence_set(membership=request.membership, presence=value)
    messages.success(
        request,
        _("You are now %(presence)s.") % {"presence": Membership.Presence(value).label.lower()},
    )
    return redirect(_next_url(request))
