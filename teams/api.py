from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import RejectUnknownFieldsMixin, StrictCharField

from . import selectors
from .models import Skill, Team
from .services import skills


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


class SkillSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    name = StrictCharField(max_length=60)
    slug = serializers.SlugField(
        max_length=60, required=False,
        help_text="What leads and rules name it (`required_skills`); made from the name "
        "when left out.",
    )
    holder_count = serializers.IntegerField(
        read_only=True, help_text="Active people holding the skill."
    )

    class Meta:
        model = Skill
        fields = ["slug", "name", "holder_count"]


class SkillViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin, viewsets.GenericViewSet,
):
    """The organization's skills: what attendants can handle, and leads may require."""

    serializer_class = SkillSerializer
    lookup_field = "slug"
    queryset = Skill.objects.none()  # for the schema; real queries name the organization

    def get_queryset(self):
        return selectors.skill_list(organization=self.request.user.organization)

    def create(self, request, *args, **kwargs):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        skill = skills.skill_create(
            organization=request.user.organization, actor=request.auth, **payload.validated_data
        )
        skill = self.get_queryset().get(pk=skill.pk)
        return Response(self.get_serializer(skill).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        skill = self.get_object()
        skills.skill_delete(organization=request.user.organization, skill_id=skill.pk,
                            actor=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
