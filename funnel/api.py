"""The funnel API: the organization's stages and lost reasons (the keys a CRM sends to
``PATCH /api/v1/leads/{id}``), and its scoring rules with a preview of a sample lead's score.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RejectUnknownFieldsMixin, StrictCharField
from routing.api import ConditionsField

from . import scoring, selectors, services
from .models import ScoringRule


class _OrganizationMixin:
    @property
    def organization(self):
        return self.request.user.organization


class StageSerializer(serializers.Serializer):
    key = serializers.SlugField(help_text="What the API and webhooks call it; never changes.")
    name = serializers.CharField(source="label", help_text="As the organization names it.")
    kind = serializers.ChoiceField(
        choices=["new", "middle", "won", "lost"],
        help_text="`new`: where leads start; `won` (customer) and `lost` conclude a lead.")
    position = serializers.IntegerField()
    is_active = serializers.BooleanField(help_text="Archived stages take no more leads.")


class LostReasonSerializer(serializers.Serializer):
    key = serializers.SlugField()
    name = serializers.CharField(source="label")
    is_active = serializers.BooleanField(help_text="Archived reasons are offered no more.")


class StageViewSet(_OrganizationMixin, viewsets.ViewSet):
    """The organization's funnel stages, in order."""

    @extend_schema(responses=StageSerializer(many=True))
    def list(self, request):
        funnel = selectors.funnel_of(organization=self.organization)
        return Response(StageSerializer(funnel.stages, many=True).data)


class LostReasonViewSet(_OrganizationMixin, viewsets.ViewSet):
    """Why a lead may be lost: the `lost_reason` keys."""

    @extend_schema(responses=LostReasonSerializer(many=True))
    def list(self, request):
        funnel = selectors.funnel_of(organization=self.organization)
        return Response(LostReasonSerializer(funnel.lost_reasons, many=True).data)


class ScoringRuleSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Points a lead gets when every condition holds and, if given, the behaviour was seen."""

    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=120, help_text="Shown in the lead's history.")
    points = serializers.IntegerField(
        min_value=scoring.MIN_POINTS, max_value=scoring.MAX_POINTS,
        help_text="Added to the score when the rule holds; negative takes points away.")
    conditions = ConditionsField(
        required=False, default=list,
        help_text=(
            "All must hold, in the routing rules' language: "
            '`{"field": ..., "op": ..., "value": ...}` with field one of '
            f"{', '.join(scoring.SCORING_FIELDS)} or `custom.<name>`."
        ),
    )
    behaviour = serializers.ChoiceField(
        choices=ScoringRule.Behaviour.choices, required=False, default="",
        help_text="Something the product saw: `opened_in_time`, `reached_qualified`, "
        "`returning_customer`; empty for conditions only.",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    created_at = serializers.DateTimeField(read_only=True)


class ScorePreviewSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A sample lead: its fields, and the behaviours to assume seen."""

    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    email = StrictCharField(max_length=254, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    source = StrictCharField(max_length=16, required=False, default="api")
    custom = serializers.DictField(required=False, default=dict)
    origin = StrictCharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text="Name of the lead source (`/api/v1/sources`) it would come in by.")
    returning = serializers.BooleanField(required=False, default=False)
    opened_in_time = serializers.BooleanField(required=False, default=False)
    reached_qualified = serializers.BooleanField(required=False, default=False)


class ScorePartSerializer(serializers.Serializer):
    rule_id = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.IntegerField()


class ScorePreviewAnswerSerializer(serializers.Serializer):
    score = serializers.IntegerField(source="score.total")
    parts = ScorePartSerializer(many=True, source="score.parts")
    routing_rule = serializers.IntegerField(
        source="routing_rule_id", allow_null=True,
        help_text="Id of the routing rule that would take the lead with this score.")


class ScoringRuleViewSet(_OrganizationMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """The organization's scoring rules: a lead's score is the sum of those that hold."""

    serializer_class = ScoringRuleSerializer
    queryset = ScoringRule.objects.none()  # for the schema; real queries go through selectors

    def get_queryset(self):
        return selectors.scoring_rule_list(organization=self.organization)

    @extend_schema(responses={201: ScoringRuleSerializer})
    def create(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule = services.scoring_rule_create(organization=self.organization, actor=request.auth,
                                            **payload.validated_data)
        return Response(self.get_serializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(description="Replace the rule: fields left out take their defaults.")
    def update(self, request, pk=None):
        return self._change(request, partial=False)

    @extend_schema(description="Change only the fields given.")
    def partial_update(self, request, pk=None):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool) -> Response:
        rule = self.get_object()
        payload = self.get_serializer(rule, data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        rule = services.scoring_rule_update(organization=self.organization, rule_id=rule.pk,
                                            actor=request.auth, **payload.validated_data)
        return Response(self.get_serializer(rule).data)

    def destroy(self, request, pk=None):
        rule = self.get_object()
        services.scoring_rule_delete(organization=self.organization, rule_id=rule.pk,
                                     actor=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ScorePreviewSerializer, responses=ScorePreviewAnswerSerializer,
        description="The score the active rules would give a sample lead, how it is made up, "
        "and the routing rule that would take it. Changes nothing.",
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        sample = ScorePreviewSerializer(data=request.data)
        sample.is_valid(raise_exception=True)
        preview = selectors.score_preview(organization=self.organization,
                                          **sample.validated_data)
        return Response(ScorePreviewAnswerSerializer(preview).data)
