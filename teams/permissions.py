"""Who may open which page. Enforced in views; templates only hide what is refused here."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _


def member_required(view):
    """Signed in and an active member of an organization (``request.membership``)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.membership is None:
            raise PermissionDenied(_("You are not a member of any organization."))
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """An owner or manager of the current organization; attendants get 403."""

    @member_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_manager:
            raise PermissionDenied(_("Only managers can open this page."))
        return view(request, *args, **kwargs)

    return wrapper
