"""Issue 17 §3: the backup script dumps, restores into a new database and compares counts."""

import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return (f"postgresql://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:"
            f"{s['PORT'] or 5432}/{s['NAME']}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_with_the_same_counts(org, make_team, new_lead, tmp_path):
    team = make_team(org, size=2)
    for _ in range(3):
        new_lead(org, team=team)
    dump = tmp_path / "transbordo.dump"

    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "backup_check.sh"), database_url(), str(dump)],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK:" in result.stdout and dump.stat().st_size > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s",
                       [f"{connection.settings_dict['NAME']}_restore_check_%"])
        assert cursor.fetchone()[0] == 0, "the restored copy is dropped afterwards"
