"""The managers' audit page. Who may open it is decided where it is routed (config/urls.py
wraps it in ``teams.permissions.manager_required``): this app imports no app of ours."""

from django.core.paginator import Paginator
from django.shortcuts import render

from .forms import AuditFilterForm
from .selectors import audit_list, audit_people

PAGE_SIZE = 50


def audit_log(request):
    organization = request.organization
    form = AuditFilterForm(request.GET or None,
                           people=audit_people(organization=organization))
    filters = form.filters() if form.is_bound else {}
    events = audit_list(organization=organization, area=filters.get("area"),
                        person_id=filters.get("person"), since=filters.get("since"),
                        until=filters.get("until"))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/audit_log.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })
