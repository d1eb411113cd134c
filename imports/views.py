"""The managers' CSV import pages: upload, map the columns, follow the progress, the report."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from teams.permissions import manager_required

from . import selectors, services
from .forms import MappingForm, UploadForm
from .models import LeadImport


@manager_required
def imports_page(request):
    organization = request.organization
    form = UploadForm()
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                lead_import = services.import_upload(
                    organization=organization, uploaded=form.cleaned_data["file"],
                    user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                return redirect("imports-detail", import_id=lead_import.pk)
        status = 400
    return render(request, "imports/list.html", {
        "form": form, "imports": selectors.imports_recent(organization=organization),
    }, status=status)


@manager_required
def import_detail(request, import_id: int):
    organization = request.organization
    lead_import = selectors.import_get(organization=organization, import_id=import_id)
    if lead_import is None:
        raise Http404
    form = None
    status = 200
    if lead_import.status == LeadImport.Status.UPLOADED:
        form = MappingForm(request.POST or None, lead_import=lead_import,
                           organization=organization)
        if request.method == "POST":
            if form.is_valid():
                try:
                    services.import_start(organization=organization, import_id=lead_import.pk,
                                          mapping=form.mapping(),
                                          team=form.cleaned_data["team"])
                except ValidationError as exc:
                    form.add_error(None, exc.messages)
                else:
                    messages.success(request, _("The import has started."))
                    return redirect("imports-detail", import_id=lead_import.pk)
            status = 400
    preview = services.import_preview(lead_import) if form is not None else []
    return render(request, "imports/detail.html", {
        "lead_import": lead_import, "form": form, "preview": preview,
        "issues": lead_import.issues.all()[:50],
    }, status=status)


class _Echo:
    def write(self, value):
        return value


@manager_required
def import_report(request, import_id: int):
    lead_import = selectors.import_get(organization=request.organization, import_id=import_id)
    if lead_import is None or lead_import.status not in (LeadImport.Status.DONE,
                                                         LeadImport.Status.FAILED):
        raise Http404
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in services.report_rows(lead_import)),
        content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{lead_import.pk}-report.csv"'
    return response
