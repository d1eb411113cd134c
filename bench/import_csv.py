"""CSV import: 100,000 rows from a Brazilian Excel file, unassigned and to a team's rotation.

    .venv/bin/python -m bench.import_csv [--rows 100000]

Writes a Windows-1252, ``;``-separated file (name, e-mail, phone, code, city, with 1 %
rows repeating an earlier e-mail and 1 % with neither e-mail nor phone), then imports it
the way the Celery task does (``imports.services.import_run``, in this process) into the
benchmark database with 20,000 earlier leads: once left unassigned, once (a second file,
new contacts) distributed to the demo organization's default team. Reports the wall time,
rows per second and how much this process's peak memory grew (flat: the file is streamed
in batches). Target (issue 13): 100,000 rows in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from . import common
from .common import Result, log
from .ingest import STORED_LEADS, prepare

TARGET_SECONDS = 60


def write_csv(path: Path, rows: int, tag: str) -> None:
    base = int(uuid.uuid4().int % 10**7) * 10  # each file its own phones
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Nome;E-mail;Celular;Código;Cidade\r\n")
        for n in range(rows):
            if n % 100 == 50:
                out.write(f"Sem contato {n};;;{tag}-{n};Recife\r\n")
                continue
            email = f"{tag}-{n - 7 if n % 100 == 99 else n}@feira.example"
            out.write(f"Visitante {n} Conceição;{email};(11) 9{(base + n) % 10**8:08d};{tag}-{n};"
                      f"São Paulo\r\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_once(path: Path, *, team_slug: str | None) -> dict:
    from django.core.files import File

    from imports import services
    from teams.models import Organization

    org = Organization.objects.get(slug="demo")
    team = org.teams.get(slug=team_slug) if team_slug else None
    before = _peak_mb()
    start = time.perf_counter()
    with path.open("rb") as stream:
        lead_import = services.import_upload(organization=org,
                                             uploaded=File(stream, name=path.name))
    services.import_queue(organization=org, import_id=lead_import.pk,
                          mapping=lead_import.mapping, team=team)
    lead_import = services.import_run(import_id=lead_import.pk)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": lead_import.rows, "created": lead_import.created,
            "duplicates": lead_import.duplicates, "rejected": lead_import.rejected,
            "status": lead_import.status, "memory_growth_mb": _peak_mb() - before}


def run(*, rows: int = 100_000) -> tuple[Result, dict]:
    result = Result("11 CSV import")
    prepare()
    media = tempfile.mkdtemp(prefix="transbordo-import-bench-")
    os.environ["MEDIA_ROOT"] = media
    common.django_setup()
    from teams.models import Organization

    team_slug = Organization.objects.get(slug="demo").default_team.slug
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, slug in (("unassigned", None), ("team", team_slug)):
            path = Path(tmp) / f"{label}.csv"
            write_csv(path, rows, f"imp-{uuid.uuid4().hex[:6]}")
            log(f"import: {rows:,} rows ({path.stat().st_size / 2**20:.1f} MB), {label}")
            figures[label] = got = import_once(path, team_slug=slug)
            where = f"to the {slug} rotation" if slug else "left unassigned"
            result.add(f"{rows:,} rows {where}",
                       got["seconds"], "s", f"< {TARGET_SECONDS} s",
                       got["seconds"] < TARGET_SECONDS and got["status"] == "done")
            result.add(f"  rows/s; created / duplicates / rejected ({label})",
                       f"{got['rows'] / got['seconds']:,.0f}; {got['created']:,} / "
                       f"{got['duplicates']:,} / {got['rejected']:,}")
            result.add(f"  peak memory growth of the process ({label})",
                       got["memory_growth_mb"], "MB")
    from django.db import connections

    connections.close_all()
    result.note(f"in one process as the Celery task runs it; batches of 1,000 rows; "
                f"{STORED_LEADS:,} earlier leads; Windows-1252, ';'-separated")
    return result, figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(run(rows=args.rows)[0].markdown())


if __name__ == "__main__":
    main()
