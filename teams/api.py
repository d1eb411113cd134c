from rest_framework import serializers, viewsets

from .models import Team


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["slug", "name", "strategy", "online_only", "business_hours_enabled"]
        read_only_fields = fields


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """The API key's organization's teams."""

    serializer_class = TeamSerializer
    lookup_field = "slug"
    queryset = Team.objects.none()

    def get_queryset(self):
        return Team.objects.for_org(self.request.user.organization).filter(is_archived=False)
