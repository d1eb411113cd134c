from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import RejectUnknownFieldsMixin
from teams.models import Team

from .models import MAX_SERVICE_MINUTES, MAX_TRANSFERS, MIN_SERVICE_MINUTES, OverflowPolicy
from .selectors import policy_of
from .services import policy_save


@extend_schema_field({"type": "integer", "minimum": MIN_SERVICE_MINUTES,
                     "maximum": MAX_SERVICE_MINUTES})
class ServiceMinutesField(serializers.IntegerField):
    pass


class OverflowPolicySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """What GET answers can be PUT back as it is: ``team`` included, as long as it is the
    team of the URL."""

    team = serializers.SlugField(
        required=False, help_text="The team's slug, as in the URL (sending it is optional).",
    )
    enabled = serializers.BooleanField()
    # Range checked by rules.validate_service_minutes, with the product's own message;
    # the serializer bounds only keep absurd numbers away from the database. The schema
    # states the rule's range.
    service_minutes = ServiceMinutesField(
        min_value=0, max_value=2**31 - 1,
        help_text=f"Minutes counted inside business hours; at least {MIN_SERVICE_MINUTES}.",
    )
    max_transfers = serializers.IntegerField(
        min_value=1, max_value=MAX_TRANSFERS, required=False, allow_null=True
    )
    include_bot_leads = serializers.BooleanField(required=False, default=False)
    further_teams = serializers.ListField(
        child=serializers.SlugField(), required=False, default=list,
        help_text="Slugs of further teams, in order, for cross-team overflow.",
    )

    def validate_team(self, slug):
        if slug != self.context["team"].slug:
            raise serializers.ValidationError(
                _("This is the policy of the team “%(slug)s”: leave `team` out or give that "
                  "slug.") % {"slug": self.context["team"].slug})
        return slug

    def validate_further_teams(self, slugs):
        if len(set(slugs)) != len(slugs):
            raise serializers.ValidationError(_("A team appears twice."))
        found = {
            t.slug: t
            for t in Team.objects.for_org(self.context["organization"]).filter(
                slug__in=slugs, is_archived=False
            )
        }
        missing = [s for s in slugs if s not in found]
        if missing:
            raise serializers.ValidationError(
                _("Unknown team: %(slugs)s.") % {"slugs": ", ".join(missing)}
            )
        return [found[s] for s in slugs]

    @staticmethod
    def represent(team: Team, policy: OverflowPolicy | None) -> dict:
        if policy is None:
            return {"team": team.slug, "enabled": False, "service_minutes": MIN_SERVICE_MINUTES,
                    "max_transfers": None, "include_bot_leads": False, "further_teams": []}
        return {
            "team": team.slug,
            "enabled": policy.enabled,
            "service_minutes": policy.service_minutes,
            "max_transfers": policy.max_transfers,
            "include_bot_leads": policy.include_bot_leads,
            "further_teams": [s.team.slug for s in policy.chain.select_related("team")],
        }


class OverflowPolicyView(APIView):
    """A team's overflow (transbordo) policy."""

    def team(self, request, slug) -> Team:
        return get_object_or_404(Team.objects.for_org(request.user.organization), slug=slug)

    @extend_schema(responses=OverflowPolicySerializer,
                   operation_id="teams_overflow_policy_retrieve")
    def get(self, request, slug):
        team = self.team(request, slug)
        return Response(OverflowPolicySerializer.represent(team, policy_of(team)))

    @extend_schema(request=OverflowPolicySerializer, responses=OverflowPolicySerializer,
                   operation_id="teams_overflow_policy_update")
    def put(self, request, slug):
        team = self.team(request, slug)
        payload = OverflowPolicySerializer(
            data=request.data, context={"organization": request.user.organization, "team": team}
        )
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        policy = policy_save(
            team=team,
            enabled=data["enabled"],
            service_minutes=data["service_minutes"],
            max_transfers=data.get("max_transfers"),
            include_bot_leads=data["include_bot_leads"],
            chain=data["further_teams"],
            actor=request.auth,
        )
        return Response(OverflowPolicySerializer.represent(team, policy))
