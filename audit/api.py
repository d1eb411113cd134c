"""The audit log in the REST API: read only."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from core.api import QuerySerializer

from .models import AuditEvent
from .selectors import audit_list


class AuditFilterSerializer(QuerySerializer):
    area = serializers.ChoiceField(choices=AuditEvent.Area.choices, required=False)
    person = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1,
        help_text="Membership id of the person who made the changes.")
    since = serializers.DateField(required=False, input_formats=["%Y-%m-%d"],
                                  help_text="First day (YYYY-MM-DD), included, in the "
                                            "organization's time zone.")
    until = serializers.DateField(required=False, input_formats=["%Y-%m-%d"],
                                  help_text="Last day, included.")


class AuditActorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AuditEvent.ActorKind.choices, source="actor_kind")
    label = serializers.CharField(source="actor_label",
                                  help_text="The person or key, as named at the time.")
    person = serializers.IntegerField(source="actor_membership_id", allow_null=True,
                                      help_text="Membership id, when a person did it.")
    api_key = serializers.IntegerField(source="actor_api_key_id", allow_null=True)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = AuditActorSerializer(source="*")
    changes = serializers.DictField(
        child=serializers.DictField(),
        help_text='Each changed field: `{"from": <before>, "to": <after>}`.')

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "area", "action", "target_id", "target_label",
                  "changes"]
        read_only_fields = fields


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who changed which team, policy, rule, person, key or webhook, when, from what to what."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.none()  # for the schema; real queries name the organization

    def get_queryset(self):
        query = AuditFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        return audit_list(
            organization=self.request.user.organization, area=data.get("area"),
            person_id=data.get("person"), since=data.get("since"), until=data.get("until"),
        )

    @extend_schema(parameters=[AuditFilterSerializer],
                   description="The organization's audit log, newest first.")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
