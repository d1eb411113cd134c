"""The managers' "Data and privacy" page: exports, erasure, retention."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from history.services import Actor
from teams.permissions import manager_required

from . import selectors
from .api import export_file_response
from .forms import ErasureForm, RetentionForm
from .models import DataExport
from .services.erasure import contact_erase
from .services.exports import export_request
from .services.retention import retention_set


def _page(request, *, erasure_form=None, retention_form=None, status=200):
    organization = request.organization
    exports = list(selectors.exports_recent(organization=organization))
    return render(request, "ops/data.html", {
        "exports": exports,
        # The page reloads itself while an export is being built (no script needed).
        "refresh": any(e.status in (DataExport.Status.PENDING, DataExport.Status.RUNNING)
                       for e in exports),
        "erasures": selectors.erasures_recent(organization=organization),
        "erasure_form": erasure_form or ErasureForm(),
        "retention_form": retention_form or RetentionForm(
            instance=selectors.retention_of(organization)),
    }, status=status)


@manager_required
def data_page(request):
    return _page(request)


@manager_required
@require_POST
def export_create(request):
    export_request(organization=request.organization, actor=Actor.for_user(request.user))
    messages.success(request, _("The export is being built; this page shows when it is ready."))
    return redirect("ops-data")


@manager_required
def export_download(request, export_id: int) -> HttpResponse:
    export = DataExport.objects.for_org(request.organization).filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.DONE:
        raise Http404
    if not export.downloadable():
        messages.error(request, _("That download link has expired: ask for a new export."))
        return redirect("ops-data")
    return export_file_response(export)


@manager_required
@require_POST
def erasure_create(request):
    form = ErasureForm(request.POST)
    if form.is_valid():
        try:
            record = contact_erase(
                organization=request.organization, actor=Actor.for_user(request.user),
                email=form.cleaned_data["email"], phone=form.cleaned_data["phone"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, ngettext(
                "Erased: %(n)d lead.", "Erased: %(n)d leads.", record.leads,
            ) % {"n": record.leads})
            return redirect("ops-data")
    return _page(request, erasure_form=form, status=400)


@manager_required
@require_POST
def retention_update(request):
    form = RetentionForm(request.POST, instance=selectors.retention_of(request.organization))
    if form.is_valid():
        retention_set(organization=request.organization,
                      concluded_lead_months=form.cleaned_data["concluded_lead_months"])
        messages.success(request, _("Retention saved."))
        return redirect("ops-data")
    return _page(request, retention_form=form, status=400)
