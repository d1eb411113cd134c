"""The managers' webhook pages: endpoints, their secret (once), the delivery log."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams.permissions import manager_required
from teams.web import add_errors as _add_errors
from teams.web import or_404 as _or_404

from . import selectors, services
from .errors import readable_error
from .forms import WebhookEndpointForm

PAGE_SIZE = 50






def _show_secret(request, endpoint, secret, *, created: bool):
    # The secret is on this answer only; nothing caches it.
    response = render(request, "integrations/webhook_secret.html",
                      {"endpoint": endpoint, "secret": secret, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@manager_required
def webhook_list(request):
    endpoints = selectors.endpoint_list(organization=request.organization)
    page = Paginator(endpoints, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "integrations/webhook_list.html", {"page": page})


@manager_required
def webhook_create(request):
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                organization=request.organization, actor=request.membership, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Endpoint created. Copy its secret now."))
            return _show_secret(request, endpoint, secret, created=True)
    return render(request, "integrations/webhook_form.html", {"form": form})


@manager_required
def webhook_detail(request, endpoint_id: int):
    endpoint = _or_404(selectors.endpoint_get, organization=request.organization,
                       endpoint_id=endpoint_id)
    form = WebhookEndpointForm.for_endpoint(
        endpoint, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                organization=request.organization,
                actor=request.membership, endpoint_id=endpoint.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhook-detail", endpoint_id=endpoint.pk)
    return render(request, "integrations/webhook_form.html",
                  {"form": form, "endpoint": endpoint})


@require_POST
@manager_required
def webhook_active(request, endpoint_id: int):
    activate = request.POST.get("is_active") == "1"
    endpoint = _or_404(services.endpoint_set_active, organization=request.organization,
                       actor=request.membership,
                       endpoint_id=endpoint_id, is_active=activate)
    if activate:
        messages.success(request, _("Endpoint active: new events are sent to it."))
    else:
        messages.success(request, _("Endpoint deactivated: nothing more is sent to it, and what "
                                    "was waiting is marked failed (you can send it again)."))
    return redirect("webhook-detail", endpoint_id=endpoint.pk)


@require_POST
@manager_required
def webhook_secret(request, endpoint_id: int):
    endpoint, secret = _or_404(services.endpoint_rotate_secret,
                               organization=request.organization,
                               actor=request.membership, endpoint_id=endpoint_id)
    messages.success(request, _(
        "New secret made. For the next 24 hours deliveries are signed with the old one too."
    ))
    return _show_secret(request, endpoint, secret, created=False)


@manager_required
def webhook_deliveries(request, endpoint_id: int):
    endpoint = _or_404(selectors.endpoint_get, organization=request.organization,
                       endpoint_id=endpoint_id)
    rows = selectors.delivery_list(organization=request.organization, endpoint=endpoint)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for delivery in page.object_list:
        delivery.readable_error = readable_error(delivery.last_error)
    return render(request, "integrations/webhook_deliveries.html",
                  {"endpoint": endpoint, "page": page})


@require_POST
@manager_required
def webhook_delivery_resend(request, delivery_id: int):
    delivery = _or_404(selectors.delivery_get, organization=request.organization,
                       delivery_id=delivery_id)
    try:
        services.delivery_resend(organization=request.organization, delivery_id=delivery.pk)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Event %(id)s will be sent again in a moment.")
                         % {"id": delivery.event_id})
    return redirect("webhook-deliveries", endpoint_id=delivery.endpoint_id)
