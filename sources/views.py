"""The managers' source pages: list, create, edit (with the URL and a form to paste),
rotate the token, the submission log with each raw payload."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams.permissions import manager_required
from teams.web import add_errors, or_404, posted

from . import selectors, services
from .forms import SourceForm
from .models import Source

PAGE_SIZE = 50


def _intake_url(request, source: Source) -> str:
    return request.build_absolute_uri(reverse("source-intake", kwargs={"token": source.token}))


def _no_store(response):
    # The page shows the token: nothing on the way keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


@manager_required
def source_list(request):
    sources = selectors.source_list(organization=request.organization)
    page = Paginator(sources, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sources/source_list.html", {"page": page})


@manager_required
def source_create(request):
    form = SourceForm(posted(request), organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(organization=request.organization,
                                            actor=request.membership, **form.source_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Source created: point your form or platform at its "
                                        "URL below."))
            return redirect("source-detail", source_id=source.pk)
    return render(request, "sources/source_form.html", {"form": form})


@manager_required
def source_detail(request, source_id: int):
    source = or_404(selectors.source_get, organization=request.organization,
                    source_id=source_id)
    form = SourceForm(posted(request), organization=request.organization, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            services.source_update(organization=request.organization, source_id=source.pk,
                                   actor=request.membership, **form.source_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Source saved."))
            return redirect("source-detail", source_id=source.pk)
    recent = selectors.submission_list(organization=request.organization, source=source)[:5]
    return _no_store(render(request, "sources/source_form.html", {
        "form": form, "source": source, "intake_url": _intake_url(request, source),
        "recent": recent,
    }))


@require_POST
@manager_required
def source_rotate_token(request, source_id: int):
    or_404(services.source_rotate_token, organization=request.organization,
           source_id=source_id, actor=request.membership)
    messages.success(request, _("New URL made: the old one no longer works. Update your "
                                "forms and platforms."))
    return redirect("source-detail", source_id=source_id)


@manager_required
def source_delete(request, source_id: int):
    source = or_404(selectors.source_get, organization=request.organization,
                    source_id=source_id)
    if request.method == "POST":
        services.source_delete(organization=request.organization, source_id=source.pk,
                               actor=request.membership)
        messages.success(request, _("Source “%(name)s” deleted; its URL no longer works.")
                         % {"name": source.name})
        return redirect("source-list")
    return render(request, "sources/source_delete.html", {"source": source})


@manager_required
def source_log(request, source_id: int):
    source = or_404(selectors.source_get, organization=request.organization,
                    source_id=source_id)
    rows = selectors.submission_list(organization=request.organization, source=source)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sources/source_log.html", {"source": source, "page": page})


@manager_required
def submission_detail(request, submission_id: int):
    submission = or_404(selectors.submission_get, organization=request.organization,
                        submission_id=submission_id)
    payload = json.dumps(submission.payload, indent=2, ensure_ascii=False, default=str)
    return render(request, "sources/submission_detail.html",
                  {"submission": submission, "source": submission.source, "payload": payload})
