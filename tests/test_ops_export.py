"""Issue 17 §3: an organization's data as a ZIP of CSV and JSON Lines."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from history.services import Actor
from integrations.services import endpoint_create
from leads.services import lead_add_note
from ops.models import DataExport
from ops.services.exports import export_build, export_request, export_write

from .helpers import client_for


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return tmp_path


@pytest.fixture
def data(org, make_team, new_lead, alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    team = make_team(org, size=2, slug="sales")
    lead = new_lead(org, team=team, name="Ana Souza", email="ana@example.com",
                    custom={"plano": "ouro", "orçamento": 1200})
    lead_add_note(organization=org, lead_id=lead.pk, membership=lead.assignee, text="ligar")
    endpoint_create(organization=org, url="http://127.0.0.1:9/hook")
    return lead


def read_zip(raw: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def jsonl(raw: bytes) -> list[dict]:
    return [json.loads(line) for line in raw.decode().splitlines()]


def test_the_zip_holds_every_table_as_csv_and_json_lines(org, data, other_org, make_team,
                                                        new_lead):
    new_lead(other_org, team=make_team(other_org, size=2), name="Not Acme")
    out = io.BytesIO()

    rows = export_write(organization=org, out=out)

    files = read_zip(out.getvalue())
    for table in ("leads", "history", "teams", "team_members", "people"):
        assert f"{table}.csv" in files and f"{table}.jsonl" in files
    [lead] = jsonl(files["leads.jsonl"])
    assert (lead["name"], lead["custom"]) == ("Ana Souza", {"plano": "ouro", "orçamento": 1200})
    [csv_lead] = list(csv.DictReader(io.StringIO(files["leads.csv"].decode())))
    assert json.loads(csv_lead["custom"]) == {"plano": "ouro", "orçamento": 1200}
    assert csv_lead["email"] == "ana@example.com"
    history = jsonl(files["history.jsonl"])
    assert {e["type"] for e in history} >= {"created", "assigned", "note"}
    assert all(e["lead_id"] == data.pk for e in history)
    settings_file = json.loads(files["settings.json"])
    assert settings_file["organization"]["slug"] == "acme"
    assert rows == sum(len(raw.decode().splitlines()) for name, raw in files.items()
                       if name.endswith(".jsonl"))
    everything = b"".join(files.values()).decode()
    assert "Not Acme" not in everything  # another organization's data never
    assert "password" not in everything and "key_hash" not in everything
    assert "whsec_" not in everything  # webhook secrets never


def test_a_managers_export_is_built_by_the_task_with_progress_and_an_expiring_link(
    org, data, alice, django_capture_on_commit_callbacks
):
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/manage/data/exports/")
    assert response.status_code == 302
    export = DataExport.objects.get()
    assert (export.status, export.progress, export.requested_by) == ("done", 100, alice.user)
    assert export.expires_at > timezone.now() + timedelta(hours=23)
    logged = AuditEvent.objects.for_org(org).get(area="privacy", action="exported")
    assert (logged.actor_user, logged.target_id) == (alice.user, export.pk)

    page = client.get("/manage/data/")
    assert f"/manage/data/exports/{export.pk}/download/".encode() in page.content
    download = client.get(f"/manage/data/exports/{export.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "attachment" in download["Content-Disposition"]
    assert "leads.csv" in read_zip(b"".join(download.streaming_content))

    with time_machine.travel(export.expires_at + timedelta(seconds=1)):
        expired = client.get(f"/manage/data/exports/{export.pk}/download/")
    assert expired.status_code == 302  # back to the page, with a message


def test_export_progress_moves_while_rows_are_written(org, data, alice, monkeypatch):
    from ops.services import exports

    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    seen = []
    original = exports.export_write

    def spy(**kwargs):
        def progress(rows, total):
            kwargs_progress(rows, total)
            seen.append(DataExport.objects.get().progress)

        kwargs_progress = kwargs.pop("progress")
        return original(progress=progress, **kwargs)

    monkeypatch.setattr(exports, "export_write", spy)
    export = DataExport.objects.create(organization=org, requested_by=alice.user)
    export_build(export_id=export.pk)

    assert seen and seen == sorted(seen) and 0 < seen[-1] <= 99
    export.refresh_from_db()
    assert export.progress == 100


def test_expired_export_files_are_deleted_by_the_prune(org, data, alice, media):
    from ops.services.exports import exports_prune

    export = export_build(export_id=export_request(
        organization=org, actor=Actor.for_user(alice.user)).pk)
    path = media / export.file_name
    assert path.exists()

    assert exports_prune(now=export.expires_at - timedelta(minutes=1)) == 0
    assert exports_prune(now=export.expires_at + timedelta(minutes=1)) == 1
    assert not path.exists()
    export.refresh_from_db()
    assert export.file_name == "" and not export.downloadable()


def test_an_attendant_cannot_export_and_an_outsider_cannot_download(
    org, data, alice, bob, charlie
):
    export = export_build(export_id=export_request(
        organization=org, actor=Actor.for_user(alice.user)).pk)

    assert client_for(bob).post("/manage/data/exports/").status_code == 403
    assert client_for(bob).get("/manage/data/").status_code == 403
    assert client_for(bob).get(
        f"/manage/data/exports/{export.pk}/download/").status_code == 403
    assert client_for(charlie).get(
        f"/manage/data/exports/{export.pk}/download/").status_code == 404
    assert DataExport.objects.count() == 1


def test_the_api_creates_follows_and_downloads_an_export(
    api, outsider_api, org, data, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/exports")
    assert created.status_code == 202
    export_id = created.json()["id"]

    detail = api.get(f"/api/v1/exports/{export_id}").json()
    assert (detail["status"], detail["progress"]) == ("done", 100)
    assert detail["download_url"].endswith(f"/api/v1/exports/{export_id}/download")
    download = api.get(f"/api/v1/exports/{export_id}/download")
    assert download.status_code == 200
    assert "people.jsonl" in read_zip(b"".join(download.streaming_content))

    assert outsider_api.get(f"/api/v1/exports/{export_id}").status_code == 404
    assert outsider_api.get(f"/api/v1/exports/{export_id}/download").status_code == 404
    assert outsider_api.get("/api/v1/exports").json()["results"] == []

    export = DataExport.objects.get(pk=export_id)
    with time_machine.travel(export.expires_at + timedelta(seconds=1)):
        expired = api.get(f"/api/v1/exports/{export_id}/download")
        assert (expired.status_code, expired.json()["code"]) == (410, "expired")
        assert api.get(f"/api/v1/exports/{export_id}").json()["download_url"] is None


def test_the_api_answers_409_while_an_export_is_built_and_410_when_it_failed(api, org):
    export = DataExport.objects.create(organization=org)
    waiting = api.get(f"/api/v1/exports/{export.pk}/download")
    assert (waiting.status_code, waiting.json()["code"]) == (409, "not_ready")

    DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.FAILED)
    failed = api.get(f"/api/v1/exports/{export.pk}/download")
    assert (failed.status_code, failed.json()["code"]) == (410, "failed")


def test_export_org_command_writes_the_zip(org, data, tmp_path):
    target = tmp_path / "acme.zip"
    out = io.StringIO()

    call_command("export_org", "--org", "acme", "--out", str(target), stdout=out)

    assert "leads.jsonl" in read_zip(target.read_bytes())
    assert out.getvalue().startswith("wrote ")
    with pytest.raises(CommandError, match="nope"):
        call_command("export_org", "--org", "nope", "--out", str(target))
