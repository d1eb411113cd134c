"""Lead sources in the REST API: ``/api/v1/sources`` (CRUD, ``rotate-token``, the log)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import RejectUnknownFieldsMixin, StrictCharField
from leads.models import Lead
from teams.models import Team

from . import selectors, services
from .models import Source, SourceSubmission

LEAD_SOURCES = [(v, label) for v, label in Lead.Source.choices if v != Lead.Source.IMPORT]


def intake_url(request, source: Source) -> str:
    return request.build_absolute_uri(reverse("source-intake", kwargs={"token": source.token}))


class LeadSourceSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    token = serializers.CharField(read_only=True, help_text="The secret part of the intake URL.")
    intake_url = serializers.SerializerMethodField(
        help_text="POST leads here (no API key): `/in/<token>`.")
    thank_you_url = serializers.CharField(
        read_only=True, help_text="Where a form post lands (303); empty: a short page.")
    has_google_key = serializers.SerializerMethodField()
    has_typeform_secret = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = ["id", "name", "kind", "team", "is_active", "lead_source", "field_mapping",
                  "honeypot_field", "allowed_origins", "thank_you_url", "has_google_key",
                  "has_typeform_secret", "token", "intake_url", "created_at",
                  "token_rotated_at"]
        read_only_fields = fields

    def get_intake_url(self, source) -> str:
        return intake_url(self.context["request"], source)

    def get_has_google_key(self, source) -> bool:
        return bool(source.google_key)

    def get_has_typeform_secret(self, source) -> bool:
        return bool(source.typeform_secret)


class FieldMappingSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    email = StrictCharField(max_length=200, required=False, allow_blank=True)
    phone = StrictCharField(max_length=200, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True)


class SourceInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100)
    kind = serializers.ChoiceField(choices=Source.Kind.choices, required=False)
    team = StrictCharField(max_length=60, required=False, allow_blank=True, allow_null=True,
                           help_text="A team's slug; empty: routing rules and the default "
                           "team decide.")
    is_active = serializers.BooleanField(required=False)
    lead_source = serializers.ChoiceField(choices=LEAD_SOURCES, required=False,
                                          help_text="The leads' `source` (default `api`).")
    field_mapping = FieldMappingSerializer(
        required=False, help_text="Which incoming field (form), field ref (typeform) or JSON "
        "path (generic) holds each lead field.")
    honeypot_field = StrictCharField(max_length=100, required=False, allow_blank=True)
    allowed_origins = serializers.ListField(
        child=StrictCharField(max_length=200), required=False, max_length=50,
        help_text="Origins allowed to post with fetch() (CORS), or `*`.")
    thank_you_url = StrictCharField(max_length=2000, required=False, allow_blank=True)
    google_key = StrictCharField(max_length=200, required=False, allow_blank=True,
                                 help_text="google_ads: the key set in the lead form.")
    typeform_secret = StrictCharField(max_length=200, required=False, allow_blank=True,
                                      help_text="typeform: the webhook's secret.")

    def validate_team(self, value):
        if not value:
            return None
        team = Team.objects.for_org(self.context["organization"]).filter(
            slug=value, is_archived=False).first()
        if team is None:
            raise serializers.ValidationError("Unknown team.")
        return team


class SubmissionSerializer(serializers.ModelSerializer):
    leads = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SourceSubmission
        fields = ["id", "received_at", "outcome", "status_code", "reason", "content_type",
                  "payload", "leads"]
        read_only_fields = fields


class SourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    """The API key's organization's lead sources and their public intake URLs."""

    serializer_class = LeadSourceSerializer
    queryset = Source.objects.none()  # for the schema; real queries name the organization
    lookup_value_regex = r"[0-9]+"

    @property
    def organization(self):
        return self.request.user.organization

    def get_queryset(self):
        return selectors.source_list(organization=self.organization)

    def _input(self, *, partial: bool) -> dict:
        payload = SourceInputSerializer(data=self.request.data, partial=partial,
                                        context={"organization": self.organization})
        payload.is_valid(raise_exception=True)
        return dict(payload.validated_data)

    def _show(self, source, code=status.HTTP_200_OK):
        return Response(LeadSourceSerializer(source, context={"request": self.request}).data,
                        status=code)

    @extend_schema(request=SourceInputSerializer, responses={201: LeadSourceSerializer})
    def create(self, request):
        source = services.source_create(organization=self.organization, actor=request.auth,
                                        **self._input(partial=False))
        return self._show(source, status.HTTP_201_CREATED)

    def _update(self, *, partial: bool):
        source = self.get_object()
        source = services.source_update(organization=self.organization, source_id=source.pk,
                                        actor=self.request.auth, **self._input(partial=partial))
        return self._show(source)

    @extend_schema(request=SourceInputSerializer, responses={200: LeadSourceSerializer})
    def update(self, request, pk=None):
        return self._update(partial=False)

    @extend_schema(request=SourceInputSerializer, responses={200: LeadSourceSerializer})
    def partial_update(self, request, pk=None):
        return self._update(partial=True)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        source = self.get_object()
        services.source_delete(organization=self.organization, source_id=source.pk,
                               actor=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: LeadSourceSerializer},
                   description="A new token: the old intake URL answers 404 from now on.")
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        source = self.get_object()
        source = services.source_rotate_token(organization=self.organization,
                                              source_id=source.pk, actor=request.auth)
        return self._show(source)

    @extend_schema(responses=SubmissionSerializer(many=True),
                   description="The source's recent submissions (accepted or refused), newest "
                   "first, with their raw payloads.")
    @action(detail=True, methods=["get"])
    def submissions(self, request, pk=None):
        source = self.get_object()
        rows = selectors.submission_list(organization=self.organization, source=source)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SubmissionSerializer(page, many=True).data)
