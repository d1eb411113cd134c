"""Issue 13 §2: CSV import of leads (pages, the task, the report, the command)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from history.models import LeadEvent
from imports import services
from imports.models import ImportIssue, LeadImport
from leads.models import Lead

from .helpers import client_for

# As Brazilian Excel saves "CSV (separado por vírgulas)": Windows-1252, ';', CRLF.
EXCEL_ROWS = [
    "Nome;E-mail;Celular;Código;Cidade",
    "João Conceição;joao@example.com;(11) 91234-5678;c-1;São Paulo",
    "Maria Antônia;MARIA@example.com;;c-2;Curitiba",
    "Sem contato;;;c-3;Recife",
    "Email ruim;não-é-email;;c-4;Natal",
    "Repetida no arquivo;joao@example.com;;c-5;Santos",
    ";;;;",
    "Já existe;ja@example.com;;c-6;Belém",
    "Telefone;;+55 21 3333-4444;;Niterói",
]
EXCEL_CSV = ("\r\n".join(EXCEL_ROWS) + "\r\n").encode("cp1252")


@pytest.fixture(autouse=True)
def media(settings, tmp_path, org):
    org.language = "en"  # the report's reasons are in the organization's language
    org.save(update_fields=["language"])
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return tmp_path


@pytest.fixture
def sales(org, make_team):
    return make_team(org, size=2, slug="sales")


@pytest.fixture
def existing(org, sales, new_lead):
    return new_lead(org, team=sales, email="ja@example.com")


def upload(client, content=EXCEL_CSV, name="feira.csv"):
    return client.post("/manage/imports/", {"file": SimpleUploadedFile(name, content)},
                       HTTP_ACCEPT_LANGUAGE="en")


def test_a_latin1_semicolon_file_is_detected_and_mapped_by_its_header(org, alice):
    response = upload(client_for(alice))

    lead_import = LeadImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/manage/imports/{lead_import.pk}/"
    assert (lead_import.encoding, lead_import.delimiter) == ("cp1252", ";")
    assert lead_import.columns == ["Nome", "E-mail", "Celular", "Código", "Cidade"]
    assert lead_import.mapping == {"name": 0, "email": 1, "phone": 2, "external_id": 3}
    assert lead_import.status == LeadImport.Status.UPLOADED
    page = client_for(alice).get(response["Location"])
    assert page.status_code == 200
    assert "João Conceição".encode() in page.content  # the preview, decoded right
    assert "São Paulo".encode() in page.content


@pytest.mark.parametrize("content, expected", [
    (b"name,email\r\nAna,ana@example.com\r\n", ("utf-8", ",")),
    ("\ufeffnome;email\nÁna;ana@example.com\n".encode(), ("utf-8-sig", ";")),
    ("nome;email\nJoão;j@example.com\n".encode("latin-1"), ("cp1252", ";")),
])
def test_encoding_and_separator_are_detected(content, expected):
    assert services.detect_format(content) == expected


def test_the_import_creates_skips_duplicates_rejects_bad_rows_and_reports_each(
    org, alice, sales, existing, django_capture_on_commit_callbacks
):
    client = client_for(alice)
    upload(client)
    lead_import = LeadImport.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/imports/{lead_import.pk}/", {
            "name": "0", "email": "1", "phone": "2", "external_id": "3", "team": sales.pk},
            HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302
    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.DONE
    assert (lead_import.rows, lead_import.created, lead_import.duplicates,
            lead_import.rejected) == (7, 3, 2, 2)
    assert lead_import.progress == 100
    imported = Lead.objects.filter(source=Lead.Source.IMPORT).order_by("pk")
    assert [lead.name for lead in imported] == ["João Conceição", "Maria Antônia", "Telefone"]
    joao = imported[0]
    assert joao.email == "joao@example.com"
    assert joao.external_id == "c-1"
    assert joao.custom == {"Cidade": "São Paulo"}
    assert imported[1].email == "maria@example.com"
    # Distributed to the team's rotation, one after the other, where the existing lead (with
    # the first attendant) left it; imported leads never overflow.
    assert existing.assignee_id == sales.attendants[0].pk
    assert [lead.assignee_id for lead in imported] == [
        sales.attendants[1].pk, sales.attendants[0].pk, sales.attendants[1].pk]
    assert not any(lead.overflow_active for lead in imported)
    assert {lead.team_id for lead in imported} == {sales.pk}
    assert [e.type for e in LeadEvent.objects.filter(lead=joao).order_by("id")] == [
        LeadEvent.Type.CREATED, LeadEvent.Type.ASSIGNED]
    issues = {i.row: (i.outcome, i.reason) for i in lead_import.issues.all()}
    assert issues[4] == ("rejected", "No e-mail and no phone.")
    assert issues[5][0] == "rejected" and "e-mail" in issues[5][1]
    assert issues[6] == ("duplicate", "Same e-mail as row 2 of this file.")
    assert issues[8] == ("duplicate", f"Same e-mail as lead #{existing.pk}.")

    page = client.get(f"/manage/imports/{lead_import.pk}/")
    assert b'id="created">3<' in page.content
    report = client.get(f"/manage/imports/{lead_import.pk}/report.csv")
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    # (row, outcome, reason in the manager's language), then the row as the file had it
    assert rows[0][3:] == ["Nome", "E-mail", "Celular", "Código", "Cidade"]
    assert [r[0] for r in rows[1:]] == ["4", "5", "6", "8"]
    assert rows[1][2:] == ["No e-mail and no phone.", "Sem contato", "", "", "c-3", "Recife"]


def test_without_a_team_imported_leads_stay_unassigned(org, alice, sales,
                                                       django_capture_on_commit_callbacks):
    client = client_for(alice)
    upload(client)
    lead_import = LeadImport.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/manage/imports/{lead_import.pk}/",
                    {"name": "0", "email": "1", "phone": "2", "external_id": "3", "team": ""})

    imported = Lead.objects.filter(source=Lead.Source.IMPORT)
    assert imported.count() == 4
    assert all(lead.assignee_id is None and lead.team_id is None for lead in imported)
    assert not any(lead.overflow_active for lead in imported)


def test_a_mapping_without_email_or_phone_is_refused_and_nothing_starts(org, alice):
    client = client_for(alice)
    upload(client)
    lead_import = LeadImport.objects.get()

    response = client.post(f"/manage/imports/{lead_import.pk}/",
                           {"name": "0", "email": "", "phone": "", "external_id": "3"})

    assert response.status_code == 400
    assert "e-mail or the one with the phone" in response.content.decode()
    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.UPLOADED


def test_the_same_column_for_two_fields_is_refused(org, alice):
    client = client_for(alice)
    upload(client)
    lead_import = LeadImport.objects.get()

    response = client.post(f"/manage/imports/{lead_import.pk}/", {"name": "1", "email": "1"})

    assert response.status_code == 400
    assert LeadImport.objects.get().status == LeadImport.Status.UPLOADED


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary", b"\r\n\r\n"])
def test_an_empty_or_binary_file_is_refused_naming_the_problem(org, alice, content):
    response = upload(client_for(alice), content=content)

    assert response.status_code == 400
    assert not LeadImport.objects.exists()


def test_a_rerun_of_a_finished_import_creates_nothing_more(org, alice, sales):
    lead_import = services.import_upload(
        organization=org, uploaded=SimpleUploadedFile("a.csv", EXCEL_CSV))
    services.import_queue(organization=org, import_id=lead_import.pk,
                          mapping=lead_import.mapping, team=None)
    services.import_run(import_id=lead_import.pk)

    again = services.import_run(import_id=lead_import.pk)  # a redelivered task

    assert again.created == 4
    assert Lead.objects.count() == 4


def test_a_second_import_of_the_same_file_is_all_duplicates(org, sales):
    for _ in range(2):
        lead_import = services.import_upload(
            organization=org, uploaded=SimpleUploadedFile("a.csv", EXCEL_CSV))
        services.import_queue(organization=org, import_id=lead_import.pk,
                              mapping=lead_import.mapping, team=sales)
        lead_import = services.import_run(import_id=lead_import.pk)

    assert (lead_import.created, lead_import.duplicates, lead_import.rejected) == (0, 5, 2)
    assert Lead.objects.count() == 4


def test_many_rows_are_imported_in_batches(org, sales, settings, monkeypatch):
    monkeypatch.setattr(services, "BATCH_ROWS", 7)
    rows = ["email,name"] + [f"p{i}@example.com,Person {i}" for i in range(30)]
    rows.append("p3@example.com,again")
    lead_import = services.import_upload(
        organization=org, uploaded=SimpleUploadedFile("a.csv", "\n".join(rows).encode()))
    services.import_queue(organization=org, import_id=lead_import.pk,
                          mapping=lead_import.mapping, team=sales)

    lead_import = services.import_run(import_id=lead_import.pk)

    assert (lead_import.created, lead_import.duplicates) == (30, 1)
    assigned = list(Lead.objects.order_by("pk").values_list("assignee_id", flat=True))
    assert assigned == [sales.attendants[i % 2].pk for i in range(30)]


def _import_people(org, team, count, *, batch_rows=None, monkeypatch=None):
    if batch_rows:
        monkeypatch.setattr(services, "BATCH_ROWS", batch_rows)
    rows = ["email,name"] + [f"q{i}@example.com,Person {i}" for i in range(count)]
    lead_import = services.import_upload(
        organization=org, uploaded=SimpleUploadedFile("q.csv", "\n".join(rows).encode()))
    services.import_queue(organization=org, import_id=lead_import.pk,
                          mapping=lead_import.mapping, team=team)
    return services.import_run(import_id=lead_import.pk)


def test_a_least_open_team_shares_a_batch_by_the_counts_the_batch_itself_grows(
    org, make_team, new_lead
):
    team = make_team(org, size=3, slug="fair", strategy="least_open")
    busy = team.attendants[0]
    for _ in range(3):  # three open leads already: the others catch up first
        lead = new_lead(org, team=team)
        Lead.objects.filter(pk=lead.pk).update(assignee=busy)

    lead_import = _import_people(org, team, 9)

    counts = {m.pk: Lead.objects.filter(assignee=m, status="open").count()
              for m in team.attendants}
    assert lead_import.created == 9
    assert sorted(counts.values()) == [4, 4, 4]


def test_an_import_fills_capacity_then_queues_the_rest_in_file_order(org, make_team):
    team = make_team(org, size=2, slug="small")
    team.members.update(capacity=2)

    lead_import = _import_people(org, team, 6)

    leads = list(Lead.objects.filter(team=team).order_by("pk"))
    assert lead_import.created == 6
    assert [lead.assignee_id is not None for lead in leads] == [True] * 4 + [False] * 2
    assert LeadEvent.objects.filter(type=LeadEvent.Type.QUEUED).count() == 2


def test_after_an_import_the_rotation_goes_on_where_the_file_left_it(
    org, sales, new_lead, settings, monkeypatch
):
    _import_people(org, sales, 5, batch_rows=2, monkeypatch=monkeypatch)  # 3 batches

    next_lead = new_lead(org, team=sales)

    assert next_lead.assignee_id == sales.attendants[1].pk  # the file ended on the first


def test_import_leads_command(org, sales, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(EXCEL_CSV)
    out = io.StringIO()

    call_command("import_leads", "--org", org.slug, "--file", str(path), "--team", "sales",
                 stdout=out)

    assert "4 created, 1 duplicates, 2 rejected" in out.getvalue()
    assert Lead.objects.filter(source="import", team=sales, assignee__isnull=False).count() == 4


@pytest.mark.parametrize("args, message", [
    (["--org", "nope"], "No organization"),
    (["--team", "nope"], "No team"),
    (["--file", "/nonexistent.csv"], "No file"),
])
def test_import_leads_command_refuses_bad_arguments(org, sales, tmp_path, args, message):
    path = tmp_path / "excel.csv"
    path.write_bytes(EXCEL_CSV)
    given = {"--org": org.slug, "--file": str(path)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        given[flag] = value

    with pytest.raises(CommandError, match=message):
        call_command("import_leads", *[x for kv in given.items() for x in kv])
    assert not Lead.objects.exists()


def test_another_organizations_import_is_404_on_every_page(org, alice, charlie, other_org):
    theirs = services.import_upload(
        organization=other_org, uploaded=SimpleUploadedFile("theirs.csv", EXCEL_CSV))
    client = client_for(alice)

    assert client.get(f"/manage/imports/{theirs.pk}/").status_code == 404
    assert client.post(f"/manage/imports/{theirs.pk}/", {"email": "1"}).status_code == 404
    assert client.get(f"/manage/imports/{theirs.pk}/report.csv").status_code == 404
    assert b"theirs.csv" not in client.get("/manage/imports/").content
    assert LeadImport.objects.get(pk=theirs.pk).status == LeadImport.Status.UPLOADED


def test_a_team_of_another_organization_cannot_be_chosen(org, alice, other_org, make_team):
    foreign = make_team(other_org, size=1, slug="globex")
    client = client_for(alice)
    upload(client)
    lead_import = LeadImport.objects.get()

    response = client.post(f"/manage/imports/{lead_import.pk}/",
                           {"email": "1", "team": foreign.pk})

    assert response.status_code == 400
    assert LeadImport.objects.get().status == LeadImport.Status.UPLOADED


def test_attendants_cannot_open_the_import_pages(org, bob):
    assert client_for(bob).get("/manage/imports/").status_code == 403


def test_rejected_rows_keep_their_values_for_the_report(org, sales):
    lead_import = services.import_upload(
        organization=org, uploaded=SimpleUploadedFile("a.csv", EXCEL_CSV))
    services.import_queue(organization=org, import_id=lead_import.pk,
                          mapping=lead_import.mapping, team=None)
    services.import_run(import_id=lead_import.pk)

    issue = ImportIssue.objects.get(lead_import=lead_import, row=5)
    assert issue.values == ["Email ruim", "não-é-email", "", "c-4", "Natal"]


def test_a_running_import_shows_its_progress_and_reloads_itself(org, alice):
    lead_import = services.import_upload(
        organization=org, uploaded=SimpleUploadedFile("a.csv", EXCEL_CSV))
    LeadImport.objects.filter(pk=lead_import.pk).update(status="running", progress=40, rows=3)

    page = client_for(alice).get(f"/manage/imports/{lead_import.pk}/").content.decode()

    assert '<progress max="100" value="40">' in page
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "report.csv" not in page  # the report comes when it is done
