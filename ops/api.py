"""Data export, erasure and retention in the REST API (an organization's API key)."""

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from core.api import RejectUnknownFieldsMixin, StrictCharField
from core.exceptions import Conflict
from history.services import Actor

from . import selectors
from .models import DataExport, ErasureRecord, RetentionPolicy
from .services.erasure import contact_erase
from .services.exports import export_request
from .services.retention import retention_set


class DataExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(
        help_text="Where to fetch the ZIP (with the same API key) while the link is valid; "
                  "null before it is ready and after it expired.")

    class Meta:
        model = DataExport
        fields = ["id", "status", "progress", "rows", "size", "created_at", "finished_at",
                  "expires_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        if not export.downloadable():
            return None
        return reverse("api-export-download", kwargs={"pk": export.pk},
                       request=self.context.get("request"))


class OrganizationView:
    @property
    def organization(self):
        return self.request.user.organization

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.request.user.api_key)


class DataExportViewSet(OrganizationView, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """The organization's data as a ZIP of CSV and JSON Lines files, built in the background:
    create one, follow its progress, download it until the link expires."""

    serializer_class = DataExportSerializer
    queryset = DataExport.objects.none()  # for the schema; real queries name the organization

    def get_queryset(self):
        return DataExport.objects.for_org(self.organization)

    @extend_schema(request=None, responses={202: DataExportSerializer})
    def create(self, request):
        export = export_request(organization=self.organization, actor=self.actor)
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/zip"): bytes, 409: None, 410: None})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The ZIP while its link is valid; 409 while it is being built, 410 after it
        expired or failed."""
        export = self.get_object()
        if export.status in (DataExport.Status.PENDING, DataExport.Status.RUNNING):
            raise Conflict(_("The export is not ready yet: follow its progress and try "
                             "again when its status is done."), code="not_ready")
        if not export.downloadable():
            if export.status == DataExport.Status.FAILED:
                body = {"detail": _("The export failed: ask for a new one."), "code": "failed"}
            else:
                body = {"detail": _("The download link has expired: ask for a new export."),
                        "code": "expired"}
            return Response(body, status=status.HTTP_410_GONE)
        return export_file_response(export)


def export_file_response(export: DataExport) -> FileResponse:
    """The ZIP of a downloadable export, as an attachment."""
    return FileResponse(selectors.export_file(export), as_attachment=True,
                        filename=selectors.export_download_name(export),
                        content_type="application/zip")


class ErasureInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    email = StrictCharField(required=False, allow_blank=True, max_length=254)
    phone = StrictCharField(required=False, allow_blank=True, max_length=32)


class ErasureRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErasureRecord
        fields = ["id", "kind", "leads", "counts", "created_at"]
        read_only_fields = fields


class ErasureViewSet(OrganizationView, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Erase a person's data (LGPD): every lead with this e-mail or phone loses its name,
    e-mail, phone and custom fields; its history keeps the events without personal data;
    webhook payloads and earlier exports holding it are deleted. The list is the record of
    erasures (never the contacts themselves)."""

    serializer_class = ErasureRecordSerializer
    queryset = ErasureRecord.objects.none()

    def get_queryset(self):
        return ErasureRecord.objects.for_org(self.organization)

    @extend_schema(request=ErasureInputSerializer, responses={201: ErasureRecordSerializer})
    def create(self, request):
        payload = ErasureInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = contact_erase(organization=self.organization, actor=self.actor,
                               **payload.validated_data)
        return Response(ErasureRecordSerializer(record).data, status=status.HTTP_201_CREATED)


class RetentionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = RetentionPolicy
        fields = ["concluded_lead_months"]
        # A PUT says the whole setting: the months, or null to keep leads' data.
        extra_kwargs = {"concluded_lead_months": {
            "required": True, "allow_null": True, "min_value": 1, "max_value": 120}}


class RetentionView(OrganizationView, APIView):
    """How long concluded leads keep their personal data (null: kept)."""

    @extend_schema(responses=RetentionSerializer)
    def get(self, request):
        return Response(RetentionSerializer(selectors.retention_of(self.organization)).data)

    @extend_schema(request=RetentionSerializer, responses=RetentionSerializer)
    def put(self, request):
        payload = RetentionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        policy = retention_set(organization=self.organization, **payload.validated_data)
        return Response(RetentionSerializer(policy).data)
