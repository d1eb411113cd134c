"""Why a lead is with the person who holds it, in words: "round robin", "returning customer",
"dedicated by the rule …", "transferred by overflow from …", "transferred by hand by … with
their note", "from the queue". Read from the lead's history, whose events already carry how
each arrival was decided (``how``, ``strategy``, ``from_queue``, ``self_assigned``, the
creation's ``rule_id`` and ``returning``)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from history.models import LeadEvent
from routing.models import RoutingRule
from routing.services import DEDICATED, STICKY, STRATEGY
from teams.models import Membership, Team

from .models import Lead
from .queue import AWAY, IDLE, OFFLINE

ARRIVALS = (LeadEvent.Type.ASSIGNED, LeadEvent.Type.OVERFLOWED, LeadEvent.Type.TRANSFERRED)


def _pass_on_reason(code: str) -> str:
    labels = {
        OFFLINE: _("they went offline"),
        AWAY: _("they were set away"),
        IDLE: _("they were idle too long"),
    }
    return labels.get(code) or str(dict(Lead.OverflowReason.choices).get(code, code))


def _name(membership: Membership | None) -> str:
    return membership.display_name if membership is not None else _("someone no longer here")


class _Context:
    """What the sentences need beyond the events, loaded once per lead."""

    def __init__(self, lead: Lead, events: list[LeadEvent]):
        self.lead = lead
        created = next((e for e in events if e.type == LeadEvent.Type.CREATED), None)
        data = created.data if created is not None else {}
        self.rule_id = data.get("rule_id")
        self.returning = bool(data.get("returning"))
        self._rule = self._previous = None
        self._loaded_rule = self._loaded_previous = False

    @property
    def rule(self) -> RoutingRule | None:
        if not self._loaded_rule and self.rule_id:
            self._rule = RoutingRule.objects.filter(
                organization_id=self.lead.organization_id, pk=self.rule_id
            ).first()
        self._loaded_rule = True
        return self._rule

    @property
    def previous_holder(self) -> Membership | None:
        """Who held the customer's previous lead (by normalized e-mail or phone)."""
        if not self._loaded_previous and self.returning:
            lead = self.lead
            match = Q()
            if lead.email_normalized:
                match |= Q(email_normalized=lead.email_normalized)
            if lead.phone_normalized:
                match |= Q(phone_normalized=lead.phone_normalized)
            if match:
                previous = (
                    Lead.objects.for_org(lead.organization)
                    .filter(match, created_at__lte=lead.created_at)
                    .exclude(pk=lead.pk).exclude(assignee=None)
                    .select_related("assignee__user")
                    .order_by("-created_at", "-id").first()
                )
                self._previous = previous.assignee if previous else None
        self._loaded_previous = True
        return self._previous


def _strategy_text(strategy: str | None, name: str, team: str) -> str:
    if strategy == Team.Strategy.LEAST_OPEN:
        return _("Least open leads: %(name)s had the fewest open leads in %(team)s.") % {
            "name": name, "team": team}
    if strategy == Team.Strategy.ROUND_ROBIN:
        return _("Round robin: it was %(name)s's turn in %(team)s.") % {
            "name": name, "team": team}
    return _("The team's rotation chose %(name)s.") % {"name": name}


def _explain(event: LeadEvent, ctx: _Context) -> tuple[str, str]:
    """``(kind, sentence)`` for one arrival event; kind is a stable code for pages and tests."""
    data = event.data or {}
    to = _name(event.to_member)
    if event.type == LeadEvent.Type.TRANSFERRED:
        giver = event.from_member
        if giver is None or giver.user_id == event.actor_user_id:
            return "by_hand", _("Transferred by hand by %(actor)s.") % {
                "actor": event.actor_label}
        return "by_hand", _("Transferred by hand by %(actor)s, from %(from)s.") % {
            "actor": event.actor_label, "from": _name(giver)}
    if event.type == LeadEvent.Type.OVERFLOWED:
        return "overflow", _(
            "Transferred by overflow (transbordo) from %(from)s, who did not open it in time."
        ) % {"from": _name(event.from_member)}
    if data.get("self_assigned"):
        return "self", _("%(name)s took it from the queue.") % {"name": to}
    if event.from_member_id is not None:
        return "passed_on", _("Passed on from %(from)s: %(reason)s.") % {
            "from": _name(event.from_member), "reason": _pass_on_reason(event.reason)}
    how = data.get("how")
    if data.get("from_queue"):
        return "queue", _("From the queue: it waited until %(name)s could take it.") % {
            "name": to}
    if how == DEDICATED:
        rule = ctx.rule
        if rule is None:
            return "dedicated", _("Dedicated to %(name)s by a routing rule removed since.") % {
                "name": to}
        return "dedicated", _("Dedicated to %(name)s by the rule “%(rule)s”.") % {
            "name": to, "rule": rule.name}
    if how == STICKY:
        return "returning", _(
            "Returning customer: back to %(name)s, who attended them before."
        ) % {"name": to}
    team = ctx.lead.team.name if ctx.lead.team else ""
    if how == STRATEGY:
        text = _strategy_text(data.get("strategy"), to, team)
        previous = ctx.previous_holder
        if ctx.returning and previous is not None and previous.pk != event.to_member_id:
            text += " " + _(
                "A returning customer: %(previous)s attended them before but could not "
                "take it now."
            ) % {"previous": previous.display_name}
        return data.get("strategy") or "strategy", text
    return "assigned", _("Assigned to %(name)s.") % {"name": to}


def arrivals_explain(*, lead: Lead, events: list[LeadEvent]) -> LeadEvent | None:
    """Sets ``why`` (a sentence) and ``why_kind`` on each event by which the lead reached
    someone, and ``note`` on hand transfers; returns the event that brought the lead to its
    current holder (``None`` when nobody holds it)."""
    ctx = _Context(lead, events)
    current = None
    for event in events:
        if event.type in ARRIVALS and event.to_member_id is not None:
            event.why_kind, event.why = _explain(event, ctx)
            if event.to_member_id == lead.assignee_id:
                current = event
        elif event.type == LeadEvent.Type.QUEUED:
            event.why_kind, event.why = "queued", _(
                "Waiting in the queue: nobody could take it yet.")
            current = None
    if lead.assignee_id is None:
        return None
    return current
