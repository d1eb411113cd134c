"""Organizations made before the funnel existed get its default stages and lost reasons
(later ones get them when created: funnel.receivers)."""

from django.db import migrations

STAGES = [("new", "new"), ("qualified", "middle"), ("opportunity", "middle"),
          ("customer", "won"), ("lost", "lost")]
REASONS = ["no_budget", "no_answer", "bought_elsewhere", "invalid_contact", "not_interested"]


def create_defaults(apps, schema_editor):
    Organization = apps.get_model("teams", "Organization")
    Stage = apps.get_model("funnel", "Stage")
    LostReason = apps.get_model("funnel", "LostReason")
    with_stages = set(Stage.objects.values_list("organization_id", flat=True))
    with_reasons = set(LostReason.objects.values_list("organization_id", flat=True))
    for org_id in Organization.objects.values_list("id", flat=True):
        if org_id not in with_stages:
            Stage.objects.bulk_create(
                Stage(organization_id=org_id, key=key, kind=kind, position=position)
                for position, (key, kind) in enumerate(STAGES)
            )
        if org_id not in with_reasons:
            LostReason.objects.bulk_create(
                LostReason(organization_id=org_id, key=key, position=position)
                for position, key in enumerate(REASONS)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("funnel", "0001_initial"),
        ("teams", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
