"""The routing API: the organization's routing rules, and who a team's next leads go to."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import QuerySerializer, RejectUnknownFieldsMixin, StrictCharField
from teams.models import Membership, Skill, Team

from . import selectors_rules, services_rules
from .conditions import OPERATORS, TOP_LEVEL_FIELDS
from .models import RoutingRule
from .services import preview
from .services_rules import MAX_RULES

PREVIEW_MAX = 50
PREVIEW_DEFAULT = 10


@extend_schema_field({
    "type": "array",
    "items": {
        "type": "object",
        "required": ["field", "op"],
        "properties": {
            "field": {"type": "string"},
            "op": {"type": "string", "enum": list(OPERATORS)},
            "value": {},
        },
    },
})
class ConditionsField(serializers.JSONField):
    """Any JSON in; routing.conditions.validate_conditions says what is wrong with it."""


class RoutingRuleSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A routing rule. Teams and skills are named by slug, the attendant by membership id."""

    id = serializers.IntegerField(read_only=True)
    name = StrictCharField(max_length=120)
    position = serializers.IntegerField(
        min_value=0, max_value=MAX_RULES, required=False,
        help_text="Place in the order rules are tried, 0 first. On create: last when left out; "
        "a larger number also means last. The others shift to make room.",
    )
    is_active = serializers.BooleanField(required=False, default=True)
    customer = serializers.ChoiceField(
        choices=RoutingRule.Customer.choices, required=False, default=RoutingRule.Customer.ANY,
        help_text="`new`: no earlier lead of the organization has the e-mail or phone; "
        "`existing`: one has.",
    )
    conditions = ConditionsField(
        required=False, default=list,
        help_text=(
            "All must hold; empty matches every lead. Each is "
            '`{"field": ..., "op": ..., "value": ...}` with field one of '
            f"{', '.join(TOP_LEVEL_FIELDS)} or `custom.<name>`, op one of "
            f"{', '.join(OPERATORS)}; `in`/`not_in` take a list, `exists`/`not_exists` no value."
        ),
    )
    team = serializers.SlugField(
        allow_null=True, required=False, default=None,
        help_text="Slug of the team for leads that name none.",
    )
    attendant = serializers.IntegerField(
        allow_null=True, required=False, default=None, min_value=1, max_value=2**63 - 1,
        help_text="Membership id of the dedicated attendant who takes every matching lead.",
    )
    required_skills = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list, max_length=20,
        help_text="Slugs of skills the attendant must hold.",
    )
    redirect_to = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="An e-mail, phone or page to point the customer to; the lead is recorded and "
        "closed. Takes no team, attendant or skills.",
    )
    created_at = serializers.DateTimeField(read_only=True)

    @property
    def organization(self):
        return self.context["organization"]

    def validate_team(self, slug):
        if slug is None:
            return None
        team = Team.objects.for_org(self.organization).filter(slug=slug).first()
        if team is None:
            raise serializers.ValidationError(_("Unknown team “%(slug)s”.") % {"slug": slug})
        return team

    def validate_attendant(self, membership_id):
        if membership_id is None:
            return None
        person = Membership.objects.for_org(self.organization).filter(pk=membership_id).first()
        if person is None:
            raise serializers.ValidationError(_("No such attendant in this organization."))
        return person

    def validate_required_skills(self, slugs):
        found = {s.slug: s for s in Skill.objects.for_org(self.organization).filter(
            slug__in=slugs
        )}
        missing = sorted(set(slugs) - set(found))
        if missing:
            raise serializers.ValidationError(
                _("Unknown skill: %(slugs)s.") % {"slugs": ", ".join(missing)}
            )
        return [found[s] for s in dict.fromkeys(slugs)]

    def to_representation(self, rule: RoutingRule) -> dict:
        return {
            "id": rule.pk,
            "name": rule.name,
            "position": rule.position,
            "is_active": rule.is_active,
            "customer": rule.customer,
            "conditions": rule.conditions,
            "team": rule.team.slug if rule.team_id else None,
            "attendant": rule.attendant_id,
            "required_skills": [s.slug for s in rule.required_skills.all()],
            "redirect_to": rule.redirect_to,
            "created_at": serializers.DateTimeField().to_representation(rule.created_at),
        }


class RoutingRuleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The organization's routing rules, in the order they are tried: the first match wins."""

    serializer_class = RoutingRuleSerializer
    queryset = RoutingRule.objects.none()  # for the schema; real queries go through selectors

    @property
    def organization(self):
        return self.request.user.organization

    def get_queryset(self):
        return selectors_rules.rule_list(organization=self.organization)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "organization": self.organization}

    def _answer(self, rule_id: int, code=status.HTTP_200_OK) -> Response:
        rule = selectors_rules.rule_get(organization=self.organization, rule_id=rule_id)
        return Response(self.get_serializer(rule).data, status=code)

    @extend_schema(responses={201: RoutingRuleSerializer})
    def create(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rule = services_rules.routing_rule_create(
            organization=self.organization, actor=request.auth, **payload.validated_data
        )
        return self._answer(rule.pk, status.HTTP_201_CREATED)

    @extend_schema(description="Replace the rule: fields left out take their defaults (no "
                   "conditions, team, attendant, skills or redirect; active; any customer); "
                   "`position` left out keeps the rule's place.")
    def update(self, request, pk=None):
        return self._change(request, partial=False)

    @extend_schema(description="Change only the fields given. `position` moves the rule.")
    def partial_update(self, request, pk=None):
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool) -> Response:
        rule = self.get_object()
        payload = self.get_serializer(rule, data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        services_rules.routing_rule_update(
            organization=self.organization, rule_id=rule.pk, actor=request.auth,
            **payload.validated_data,
        )
        return self._answer(rule.pk)

    def destroy(self, request, pk=None):
        rule = self.get_object()
        services_rules.routing_rule_delete(organization=self.organization, rule_id=rule.pk,
                                           actor=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PreviewQuerySerializer(QuerySerializer):
    n = serializers.IntegerField(
        min_value=1, max_value=PREVIEW_MAX, default=PREVIEW_DEFAULT,
        help_text=f"How many leads, 1 to {PREVIEW_MAX} (default {PREVIEW_DEFAULT}).",
    )


class PreviewEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Membership id, as in a lead's `assignee.id`.")
    name = serializers.CharField()


class TeamPreviewView(APIView):
    """Who a team's next leads would go to, in order, on the current state. Changes nothing."""

    @extend_schema(
        operation_id="teams_preview",
        parameters=[PreviewQuerySerializer],
        responses=PreviewEntrySerializer(many=True),
        description="The team's strategy simulated over its eligible members (online-only and "
        "capacity applied). Shorter than `n` when the rest would wait in the queue. Returning "
        "customers, dedicated attendants and required skills depend on the lead and are left "
        "out.",
    )
    def get(self, request, slug):
        team = get_object_or_404(Team.objects.for_org(request.user.organization), slug=slug)
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        picks = preview(team=team, count=query.validated_data["n"])
        return Response(PreviewEntrySerializer(
            [{"id": m.membership_id, "name": m.membership.display_name} for m in picks],
            many=True,
        ).data)
