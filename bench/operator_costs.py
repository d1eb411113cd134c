"""What the operator's side (issue 15, section 4) costs on the hot paths.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/transbordo_bench_x \\
        .venv/bin/python -m bench.operator_costs [--stored 200000] [--repeat 200]

1. The sweep's claim with and without the suspended organizations' subquery
   (``EXPLAIN ANALYZE``, 1,000 due leads among ``--stored``, 50 organizations of which 5
   suspended): it must still use the partial index ``lead_overflow_due``.
2. A lead's intake (``lead_create``) without a monthly limit and with one not yet reached
   (the count of this month's leads, ``--stored`` of them): the median per lead.
"""

from __future__ import annotations

import argparse
import statistics
import time

from . import common
from .common import log


def _plan(sql: str, params) -> tuple[str, float]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
        plan = "\n".join(row[0] for row in cur.fetchall())
        transaction.set_rollback(True)
    took = float(plan.rsplit("Execution Time: ", 1)[1].split(" ")[0])
    return plan, took


def run(*, stored: int, repeat: int) -> None:
    common.fresh_database()
    common.django_setup()
    from django.db import transaction
    from django.utils import timezone

    from bench import seed
    from history.services import Actor
    from leads.models import Lead
    from leads.services import lead_create
    from leads.sweep import SWEEP_BATCH_SIZE
    from teams.models import Organization

    org = seed.organization(teams=10)
    now = timezone.now()
    seed.leads(org, kind="concluded", count=stored, now=now)
    seed.leads(org, kind="due", count=1000, now=now)
    Organization.objects.bulk_create(
        Organization(name=f"O{i}", slug=f"o-{i}", suspended_at=now if i < 5 else None)
        for i in range(50))
    seed.analyze()

    base = (Lead.objects.select_for_update(skip_locked=True)
            .filter(overflow_active=True, overflow_due_at__lte=now))
    claims = {
        "without": base,
        "with": base.exclude(organization_id__in=Organization.objects.filter(
            suspended_at__isnull=False).order_by().values("pk")),
    }
    for name, qs in claims.items():
        with transaction.atomic():
            sql, params = qs.order_by("overflow_due_at", "id")[:SWEEP_BATCH_SIZE].query \
                .sql_with_params()
        times, plan = [], ""
        for _ in range(7):
            plan, took = _plan(sql, params)
            times.append(took)
        log(f"claim {name} the subquery: median {statistics.median(times):.2f} ms")
        print(plan)

    organization = Organization.objects.get(pk=org.id)
    team = organization.teams.first()
    for limit in (None, stored * 10):
        organization.leads_per_month = limit
        Organization.objects.filter(pk=org.id).update(leads_per_month=limit)
        times = []
        for n in range(repeat):
            t0 = time.perf_counter()
            lead_create(organization=organization, data={"name": "x", "email": f"{n}@x.io"},
                        actor=Actor.system(), team=team)
            times.append((time.perf_counter() - t0) * 1000)
        log(f"lead_create, limit {limit}: median {statistics.median(times):.2f} ms, "
            f"p95 {sorted(times)[int(len(times) * .95)]:.2f} ms over {repeat}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    run(stored=args.stored, repeat=args.repeat)


if __name__ == "__main__":
    main()
