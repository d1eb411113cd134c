"""Small helpers every app's pages share (teams is the app the others build on)."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme


def posted(request):
    """The POST data to bind a form to, ``None`` on GET (an empty POST still validates)."""
    return request.POST if request.method == "POST" else None


def or_404(lookup, **kwargs):
    """Call a scoped lookup; "not yours" and "does not exist" are the same 404."""
    try:
        return lookup(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def add_errors(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: by field when it names one, else on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def next_url(request, default="inbox"):
    """Where to go back to after a POST: the page's own ``next``, never another site."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
