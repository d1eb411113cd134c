from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import NOT_CONFIRMED_MESSAGE, organization_receives_leads
from core.api import QuerySerializer
from core.exceptions import Conflict, error_body
from funnel.selectors import funnel_of
from history.selectors import lead_history
from history.services import Actor
from leads import selectors, services
from leads.batch import lead_create_batch
from leads.models import Lead
from teams.models import Membership

from .serializers import (
    HandoffAnswerSerializer,
    HandoffSerializer,
    LeadAcceptSerializer,
    LeadBatchAnswerSerializer,
    LeadBatchRequestSerializer,
    LeadBatchSerializer,
    LeadCreateSerializer,
    LeadEventSerializer,
    LeadSerializer,
    LeadUpdateSerializer,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"


class LeadFilterSerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    team = serializers.SlugField(required=False, help_text="Team slug")
    assignee = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                        help_text="Membership id")
    external_id = serializers.CharField(required=False, max_length=128)
    stage = serializers.CharField(required=False, max_length=40,
                                  help_text="Stage key (`GET /api/v1/stages`)")
    min_score = serializers.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1,
                                         help_text="Only leads scoring at least this")

    def validate_stage(self, key):
        funnel = funnel_of(organization=self.context["organization"])
        if funnel.stage(key) is None:
            raise serializers.ValidationError(
                _("Unknown stage “%(stage)s”. Choose one of: %(stages)s.")
                % {"stage": key, "stages": ", ".join(s.key for s in funnel.stages)})
        return key


def intake_open(organization) -> None:
    """A signed-up organization receives leads once its owner confirmed their address."""
    if not organization_receives_leads(organization):
        raise PermissionDenied(NOT_CONFIRMED_MESSAGE, code="not_confirmed")


def _idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER) or None
    if key is not None and len(key) > 128:
        raise serializers.ValidationError({IDEMPOTENCY_HEADER: [_("At most 128 characters.")]})
    return key


class LeadViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Leads of the API key's organization."""

    serializer_class = LeadSerializer
    queryset = Lead.objects.none()  # for the schema; real queries go through selectors

    @property
    def throttle_scope(self):
        """New leads have their own, higher limit (teams.throttling, ``API_THROTTLE_INTAKE``)."""
        return "intake" if self.action in ("create", "batch") else "api"

    @property
    def organization(self):
        return self.request.user.organization

    def get_queryset(self):
        filters = {}
        if self.action == "list":
            f = LeadFilterSerializer(data=self.request.query_params,
                                     context={"organization": self.organization})
            f.is_valid(raise_exception=True)
            filters = f.validated_data
        return selectors.lead_list(organization=self.organization, filters=filters)

    @extend_schema(parameters=[LeadFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=LeadCreateSerializer,
        responses={201: LeadSerializer, 200: LeadSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, {"type": "string", "maxLength": 128},
                OpenApiParameter.HEADER,
                description="A retry with the same key answers the first lead (200).",
            )
        ],
        description=(
            "Create a lead and assign it. A retry with the same `external_id` or "
            "`Idempotency-Key` answers 200 with the lead created first."
        ),
    )
    def create(self, request):
        intake_open(self.organization)
        key = _idempotency_key(request)
        payload = LeadCreateSerializer(
            data=request.data, context={"organization": self.organization}
        )
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        team = data.pop("team", None)
        skills = data.pop("required_skills", [])
        lead, created = services.lead_create(
            organization=self.organization,
            data=data,
            team=team,
            required_skills=skills,
            actor=Actor.for_api_key(request.auth),
            idempotency_key=key,
        )
        return Response(
            LeadSerializer(lead).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=LeadBatchRequestSerializer,
        responses={200: LeadBatchAnswerSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER, {"type": "string", "maxLength": 128},
                OpenApiParameter.HEADER,
                description="A retry of the whole request with the same key answers each "
                "lead it created with 200.",
            )
        ],
        description=(
            "Create up to 500 leads in one request. Each item is what `POST /api/v1/leads` "
            "takes and is answered on its own, in order: `201` created, `200` a lead that "
            "already exists with its `external_id` (or from a retry with the same "
            "`Idempotency-Key`), `400` refused with its errors (the other items go on). Items "
            "are routed in order exactly as single POSTs would be (the same round robin), "
            "with one transaction per hundred leads. More than 500 items, or a body that is "
            "not `{\"leads\": [...]}`, is a 400 and creates nothing."
        ),
    )
    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        intake_open(self.organization)
        key = _idempotency_key(request)
        body = LeadBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        context = {"organization": self.organization}
        # One item serializer for all the items, run as a ``many=True`` list runs its child:
        # DRF builds a serializer's fields once per instance, most of the cost of checking
        # an item. A refused item is checked again by a serializer of its own, so its 400
        # says word for word what ``POST /api/v1/leads`` says.
        checker = LeadCreateSerializer(context=context)
        results: list[dict | None] = []
        valid = []
        for index, item in enumerate(body.validated_data["leads"]):
            try:
                data = checker.run_validation(item)
            except serializers.ValidationError:
                payload = LeadCreateSerializer(data=item, context=context)
                if not payload.is_valid():
                    results.append({"status": 400, "lead": None,
                                    "error": error_body(payload.errors, code="invalid")})
                    continue
                data = payload.validated_data
            valid.append({**data, "index": index})
            results.append(None)
        done = lead_create_batch(
            organization=self.organization, items=valid,
            actor=Actor.for_api_key(request.auth), idempotency_key=key,
        )
        shown = LeadSerializer([lead for lead, _created in done.answers], many=True,
                               context={"queue_positions": done.queue_positions}).data
        answers = iter(zip(done.answers, shown, strict=True))
        for index, result in enumerate(results):
            if result is None:
                (_lead, created), lead = next(answers)
                results[index] = {"status": 201 if created else 200, "lead": lead,
                                  "error": None}
        return Response({"results": results})

    @extend_schema(
        request=LeadUpdateSerializer,
        responses={200: LeadSerializer},
        description=(
            "Move the lead in the funnel, as a CRM does: `{\"stage\": \"opportunity\"}`, "
            "`{\"stage\": \"customer\"}` (won: concludes it), or `{\"stage\": \"lost\", "
            "\"lost_reason\": \"no_budget\"}`. Each change is a `stage_changed` event in its "
            "history and to webhooks; the same stage again changes nothing. A bad stage or "
            "reason is a 400 naming the field."
        ),
    )
    def partial_update(self, request, pk=None):
        lead = self.get_object()
        payload = LeadUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.lead_stage_change(
            organization=self.organization, lead_id=lead.pk,
            actor=Actor.for_api_key(request.auth), **payload.validated_data,
        )
        lead = selectors.lead_get(organization=self.organization, lead_id=lead.pk)
        return Response(LeadSerializer(lead).data)

    # The whole history in one plain list, as clients have always read it: a lead's history
    # is bounded (its transfers are), so it is not paginated.
    @extend_schema(responses=LeadEventSerializer(many=True),
                   description="Every event of the lead, oldest first, in one list.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        lead = self.get_object()
        events = lead_history(organization=self.organization, lead_id=lead.pk)
        return Response(LeadEventSerializer(events, many=True).data)

    @extend_schema(
        request=LeadAcceptSerializer,
        responses={200: LeadSerializer},
        description=(
            "The assignee accepts the lead from another system: it stops overflowing. "
            "Accepting again answers 200; `409` when the lead is not (or no longer) with "
            "this attendant, e.g. because it overflowed to someone else first."
        ),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        lead = self.get_object()
        payload = LeadAcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = (
            Membership.objects.for_org(self.organization)
            .filter(pk=payload.validated_data["attendant"])
            .first()
        )
        if membership is None:
            raise NotFound({"attendant": [_("No such attendant in this organization.")]})
        # The service decides under the lead's lock, so a sweep moving the lead meanwhile
        # makes this a refusal instead of a 200 for an access that was never recorded.
        recorded = services.lead_mark_accessed(
            organization=self.organization,
            lead_id=lead.pk,
            membership=membership,
            actor=Actor.for_api_key(request.auth),
        )
        lead = selectors.lead_get(organization=self.organization, lead_id=lead.pk)
        already_accepted = (
            lead.assignee_id == membership.pk and lead.assignee_accessed_at is not None
        )
        if not (recorded or already_accepted):
            raise Conflict({"attendant": [_("The lead is not assigned to this attendant.")]})
        return Response(LeadSerializer(lead).data)


class HandoffView(APIView):
    """Bot-to-human handoff: the conversation and its transcript go to a person."""

    throttle_scope = "intake"

    @extend_schema(
        operation_id="handoffs_create",
        request=HandoffSerializer,
        responses={201: HandoffAnswerSerializer, 200: HandoffAnswerSerializer},
        description=(
            "Creates the lead (source `bot`) or reuses the contact's open lead (same "
            "`external_id`, e-mail or phone), routes it like any lead, and writes the transcript "
            "into its history. The answer carries the assignee and the customer-facing message, "
            "so the bot can tell the customer who will answer and when."
        ),
    )
    def post(self, request):
        organization = request.user.organization
        intake_open(organization)
        payload = HandoffSerializer(data=request.data, context={"organization": organization})
        payload.is_valid(raise_exception=True)
        contact = dict(payload.validated_data["contact"])
        team = contact.pop("team", None)
        skills = contact.pop("required_skills", [])
        lead, created = services.lead_handoff(
            organization=organization,
            data=contact,
            transcript=payload.validated_data["transcript"],
            reason=payload.validated_data["reason"],
            team=team,
            required_skills=skills,
            actor=Actor.for_api_key(request.auth),
        )
        lead = selectors.lead_get(organization=organization, lead_id=lead.pk)
        return Response(
            {"created": created, "lead": LeadSerializer(lead).data},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
