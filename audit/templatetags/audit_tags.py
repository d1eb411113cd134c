"""How the audit page shows a change: the field's name and its values, in the reader's
language."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The fields the services record, named as the pages name them.
FIELD_LABELS = {
    "name": _("Name"), "slug": _("Slug"), "strategy": _("Strategy"),
    "online_only": _("Only online attendants"), "business_hours_enabled": _("Business hours"),
    "sticky_returning": _("Returning customers to their attendant"),
    "idle_limit_minutes": _("Idle limit (minutes)"), "missed_limit": _("Missed leads limit"),
    "message_assigned": _("Message: assigned"), "message_out_of_hours": _("Message: out of hours"),
    "message_queued": _("Message: queued"),
    "whatsapp_greeting": _("WhatsApp greeting"), "is_archived": _("Archived"),
    "members": _("Members (in rotation order)"), "weekly": _("Weekly hours"),
    "exceptions": _("Dated exceptions"), "enabled": _("Enabled"),
    "service_minutes": _("Service time (minutes)"), "max_transfers": _("Transfer limit"),
    "include_bot_leads": _("Bot leads overflow"), "further_teams": _("Further teams"),
    "position": _("Position"), "is_active": _("Active"), "customer": _("Customer"),
    "conditions": _("Conditions"), "team": _("Team"), "attendant": _("Attendant"),
    "required_skills": _("Required skills"), "redirect_to": _("Redirect to"),
    "role": _("Role"), "can_see_all": _("Sees all leads"), "username": _("Username"),
    "email": _("E-mail"), "skills": _("Skills"), "time_zone": _("Time zone"),
    "language": _("Language"), "attendants_see_all": _("Attendants see all leads"),
    "default_team": _("Default team"), "url": _("URL"), "description": _("Description"),
    "event_types": _("Events"), "prefix": _("Prefix"), "holders": _("Held by"),
    "behaviour": _("Behaviour"), "points": _("Points"), "order": _("Order"),
    "kind": _("Kind"), "lead_source": _("Leads count as"), "field_mapping": _("Field mapping"),
    "honeypot_field": _("Honeypot field"), "allowed_origins": _("Allowed origins"),
    "thank_you_url": _("Thank-you page"), "google_key": _("Google key"),
    "typeform_secret": _("Typeform secret"), "reason": _("Reason"),
    "suspended_at": _("Suspended since"), "max_attendants": _("Maximum active people"),
    "leads_per_month": _("Leads per month"), "invitation": _("Invitation"),
    "sent_at": _("Sent at"), "teams": _("Teams"),
}

# Stored codes in words, per field ("strategy": {"round_robin": "Round robin"}). The apps
# that record a field with choices register them (their AppConfig.ready): audit sits below
# them and may not import their models.
VALUE_LABELS: dict[str, dict] = {}


def value_labels_register(field: str, choices) -> None:
    VALUE_LABELS.setdefault(field, {}).update({key: label for key, label in choices if key})


@register.filter
def audit_field(name: str) -> str:
    return FIELD_LABELS.get(name, name)


@register.filter
def audit_value(value, field: str = "") -> str:
    if value is None or value == "" or value == []:
        return "—"
    labels = VALUE_LABELS.get(field)
    if labels and isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(audit_value(item, field) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {audit_value(v)}" for k, v in value.items())
    return str(value)
