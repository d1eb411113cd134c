from teams.models import Organization

from .models import LeadImport


def imports_recent(*, organization: Organization, limit: int = 20) -> list[LeadImport]:
    return list(LeadImport.objects.for_org(organization).select_related("team", "uploaded_by")
                [:limit])


def import_get(*, organization: Organization, import_id: int) -> LeadImport | None:
    return (LeadImport.objects.for_org(organization).select_related("team", "uploaded_by")
            .filter(pk=import_id).first())
