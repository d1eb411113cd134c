"""Outbound webhooks in the REST API: endpoints, their delivery log, sending again."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api import QuerySerializer, RejectUnknownFieldsMixin, StrictCharField
from core.exceptions import Conflict
from history.models import LeadEvent

from . import selectors, services
from .addresses import UnsafeURL, resolve
from .models import WebhookDelivery, WebhookEndpoint


# Inline in the schema: history's LeadEventSerializer already names this choice set.
@extend_schema_field({"type": "array", "items": {"type": "string", "enum": LeadEvent.Type.values}})
class EventTypesField(serializers.ListField):
    child = serializers.ChoiceField(choices=LeadEvent.Type.choices)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = EventTypesField(help_text="Event types sent to this endpoint; empty: all.")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="Signs every delivery (X-Transbordo-Signature). Shown only in this answer."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    url = StrictCharField(
        max_length=2000,
        help_text="http:// or https://; private, loopback and link-local hosts are refused.",
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    event_types = EventTypesField(
        required=False, max_length=len(LeadEvent.Type.choices),
        help_text="Empty or absent: every event type.",
    )
    is_active = serializers.BooleanField(required=False)

    def validate_url(self, value):
        try:
            resolve(value.strip())
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value.strip()


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.IntegerField(source="event_id", help_text="The event id (deduplicate).")
    event_type = serializers.CharField(source="event.type")
    endpoint = serializers.IntegerField(source="endpoint_id")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event", "event_type", "status", "attempts",
                  "last_status_code", "last_error", "created_at", "last_attempt_at",
                  "next_attempt_at", "delivered_at"]
        read_only_fields = fields


class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The API key's organization's webhook endpoints."""

    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.none()  # for the schema; real queries name the organization
    lookup_value_regex = r"[0-9]+"

    @property
    def organization(self):
        return self.request.user.organization

    def get_queryset(self):
        return WebhookEndpoint.objects.for_org(self.organization)

    def _input(self, *, partial: bool) -> dict:
        payload = WebhookEndpointInputSerializer(data=self.request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    @extend_schema(request=WebhookEndpointInputSerializer,
                   responses={201: WebhookEndpointCreatedSerializer})
    def create(self, request):
        endpoint, _secret = services.endpoint_create(
            organization=self.organization, actor=request.auth, **self._input(partial=False)
        )
        return Response(WebhookEndpointCreatedSerializer(endpoint).data,
                        status=status.HTTP_201_CREATED)

    def _update(self, *, partial: bool):
        endpoint = self.get_object()
        endpoint = services.endpoint_update(
            organization=self.organization, endpoint_id=endpoint.pk, actor=self.request.auth,
            **self._input(partial=partial),
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=WebhookEndpointInputSerializer,
                   responses={200: WebhookEndpointSerializer})
    def update(self, request, pk=None):
        return self._update(partial=False)

    @extend_schema(request=WebhookEndpointInputSerializer,
                   responses={200: WebhookEndpointSerializer})
    def partial_update(self, request, pk=None):
        return self._update(partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        endpoint = self.get_object()
        services.endpoint_delete(organization=self.organization, endpoint_id=endpoint.pk,
                                 actor=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: WebhookEndpointCreatedSerializer},
                   description="A new signing secret, shown only in this answer. For 24 hours "
                   "deliveries carry a signature with the old secret too.")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        endpoint, _secret = services.endpoint_rotate_secret(
            organization=self.organization, endpoint_id=endpoint.pk, actor=request.auth
        )
        return Response(WebhookEndpointCreatedSerializer(endpoint).data)

    @extend_schema(responses=WebhookDeliverySerializer(many=True),
                   description="The endpoint's deliveries, newest first.")
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        rows = selectors.delivery_list(organization=self.organization, endpoint=endpoint)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class DeliveryFilterSerializer(QuerySerializer):
    endpoint = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                        help_text="Only this endpoint's deliveries.")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)


class WebhookDeliveryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The deliveries of the organization's webhooks, and sending one again."""

    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        organization = self.request.user.organization
        if self.action != "list":
            return (WebhookDelivery.objects.for_org(organization)
                    .select_related("event").defer("payload", "event__data"))
        query = DeliveryFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        endpoint = None
        if "endpoint" in query.validated_data:
            endpoint = WebhookEndpoint.objects.for_org(organization).filter(
                pk=query.validated_data["endpoint"]).first()
            if endpoint is None:
                raise NotFound({"endpoint": [_("No such endpoint.")]})
        return selectors.delivery_list(organization=organization, endpoint=endpoint,
                                       status=query.validated_data.get("status"))

    @extend_schema(
        parameters=[DeliveryFilterSerializer],
        description="Every delivery of the organization's endpoints, newest first.",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None, responses={202: WebhookDeliverySerializer},
        description="Send the same event (same id and body) again, with a fresh set of tries. "
        "409 while it is being sent.",
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        organization = request.user.organization
        try:
            services.delivery_resend(organization=organization, delivery_id=int(pk))
        except (ObjectDoesNotExist, ValueError):
            raise NotFound(_("No such delivery.")) from None
        except DjangoValidationError as exc:  # being sent right now, or endpoint switched off
            raise Conflict(exc.messages[0]) from None
        delivery = selectors.delivery_get(organization=organization, delivery_id=int(pk))
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
