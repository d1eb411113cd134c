"""Demo data for a first look: run it as often as you like.

The first run also writes a few days of past leads (demo.history) so the managers'
dashboard shows something real on a fresh install; later runs leave them as they are.
"""

from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from demo.history import DAYS, history_seed
from funnel.models import ScoringRule
from funnel.services import scoring_rule_create
from overflow.services import policy_save
from routing.models import RoutingRule
from routing.services_rules import routing_rule_create
from sources.models import Source
from sources.services import source_create
from teams.config_cache import config_changed
from teams.models import (
    ApiKey,
    BusinessHoursInterval,
    Membership,
    Organization,
    Team,
    TeamMember,
)
from teams.services.keys import api_key_create, api_key_revoke

DEMO_PASSWORD = "transbordo-demo"
KEY_PREFIX = "demo "
# Lead scoring (name, points, conditions, behaviour), and the routing rule that sends the
# high scores to a dedicated attendant of Vendas.
SCORING_RULES = [
    ("orçamento ≥ 10000", 50, [{"field": "custom.budget", "op": "gte", "value": 10000}], ""),
    ("origem google", 10, [{"field": "custom.utm_source", "op": "eq", "value": "google"}], ""),
    ("cliente que volta", 15, [], "returning_customer"),
    ("aberto no prazo", 10, [], "opened_in_time"),
    ("chegou a qualificado", 20, [], "reached_qualified"),
]
HIGH_SCORE = 50
HIGH_VALUE_RULE = f"Alto valor: score ≥ {HIGH_SCORE} para a Ana"
DEDICATED = ("ana", "vendas")
LANDING_PAGE = "Landing page"
TEAMS = {
    "vendas": ("Vendas", True, [("ana", "Ana", "Souza"), ("bruno", "Bruno", "Lima"),
                                ("carla", "Carla", "Dias")]),
    "plantao": ("Plantão", False, [("diego", "Diego", "Alves"), ("elisa", "Elisa", "Rocha"),
                                   ("fabio", "Fábio", "Nunes")]),
}


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization, its people and teams; print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--no-key", action="store_true", help="do not create an API key")

    @transaction.atomic
    def handle(self, *args, no_key=False, **options):
        org, _ = Organization.objects.get_or_create(
            slug="demo", defaults={"name": "Demo Transbordo", "time_zone": "America/Sao_Paulo",
                                   "first_steps_pending": False},  # a demo is set up already
        )
        self._person(org, "gerente", "Gabriela", "Gerente", Membership.Role.MANAGER)
        logins = [("gerente", Membership.Role.MANAGER.label, "/manage/")]
        teams = {}
        for slug, (name, with_hours, people) in TEAMS.items():
            team, _ = Team.objects.get_or_create(
                organization=org, slug=slug,
                defaults={"name": name, "business_hours_enabled": with_hours},
            )
            if with_hours and not team.hours.exists():
                BusinessHoursInterval.objects.bulk_create(
                    BusinessHoursInterval(team=team, weekday=d, start=time(8), end=time(18))
                    for d in range(5)
                )
                config_changed(org.pk)
            for order, (username, first, last) in enumerate(people):
                member = self._person(org, username, first, last, Membership.Role.ATTENDANT)
                TeamMember.objects.get_or_create(
                    team=team, membership=member, defaults={"order": order}
                )
                logins.append((username, f"{Membership.Role.ATTENDANT.label} · {name}", "/inbox/"))
            policy_save(team=team, enabled=True, service_minutes=10)
            teams[slug] = team
        if org.default_team_id is None:
            org.default_team = Team.objects.get(organization=org, slug="plantao")
            org.save(update_fields=["default_team"])
        dedicated = self._scoring(org, teams)
        landing = self._landing_page(org, teams["vendas"])
        past = history_seed(organization=org, teams=teams)

        out = self.stdout.write
        out(self.style.SUCCESS(f"Demo organization “{org.name}” (slug {org.slug}) is ready."))
        if past:
            out(f"History: {past} leads over the last {DAYS} days, for the dashboard.")
        out(f"Scoring: a lead with custom.budget ≥ 10000 scores {HIGH_SCORE} or more and goes "
            f"to {dedicated.display_name} ({teams[DEDICATED[1]].name}).")
        intake = settings.SITE_URL.rstrip("/") + reverse("source-intake",
                                                         kwargs={"token": landing.token})
        out(f"Lead source “{landing.name}”: an HTML form posting to {intake} sends leads to "
            f"{teams['vendas'].name} (see /manage/sources/).")
        login = settings.SITE_URL.rstrip("/") + reverse("login")
        out(f"Log in at {login} with password {DEMO_PASSWORD!r}:")
        for username, role, where in logins:
            out(f"  {username:<8} {role}  → {where}")
        if not no_key:
            out(f"API key (shown once): {self._key(org)}")

    def _key(self, org) -> str:
        """A new demo key named in the organization's time (as its pages show times), made
        by nobody (seed_demo, not the manager); the one an earlier run made is revoked, so
        running ``make run`` again leaves one valid demo key."""
        earlier = ApiKey.objects.for_org(org).filter(
            name__startswith=KEY_PREFIX, created_by__isnull=True, revoked_at__isnull=True)
        for key_id in earlier.values_list("pk", flat=True):
            api_key_revoke(organization=org, key_id=key_id)
        local = timezone.localtime(timezone.now(), org.tzinfo)
        _key, raw = api_key_create(organization=org, name=f"{KEY_PREFIX}{local:%Y-%m-%d %H:%M}",
                                   created_by=None)
        return raw

    def _landing_page(self, org, team) -> Source:
        """A web form source, so that a plain HTML form can send a lead straight away."""
        existing = Source.objects.for_org(org).filter(name=LANDING_PAGE).first()
        return existing or source_create(organization=org, name=LANDING_PAGE, team=team,
                                         honeypot_field="website")

    def _scoring(self, org, teams) -> Membership:
        """The scoring rules and the routing rule on score, unless made before (by name)."""
        existing = set(ScoringRule.objects.for_org(org).values_list("name", flat=True))
        for name, points, conditions, behaviour in SCORING_RULES:
            if name not in existing:
                scoring_rule_create(organization=org, name=name, points=points,
                                    conditions=conditions, behaviour=behaviour)
        username, team = DEDICATED
        dedicated = Membership.objects.select_related("user").get(
            organization=org, user__username=username)
        if not RoutingRule.objects.for_org(org).filter(name=HIGH_VALUE_RULE).exists():
            routing_rule_create(
                organization=org, name=HIGH_VALUE_RULE, team=teams[team], attendant=dedicated,
                conditions=[{"field": "score", "op": "gte", "value": HIGH_SCORE}],
            )
        return dedicated

    def _person(self, org, username, first, last, role) -> Membership:
        user, _ = get_user_model().objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last,
                      "email": f"{username}@demo.transbordo.app"},
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        membership, _ = Membership.objects.get_or_create(
            organization=org, user=user,
            defaults={"role": role, "presence": Membership.Presence.ONLINE},
        )
        return membership
