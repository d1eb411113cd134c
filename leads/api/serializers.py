import json
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import RejectUnknownFieldsMixin, SharedFieldsMixin, StrictCharField
from core.schema import ERROR_SCHEMA
from history.models import LeadEvent
from leads import messages
from leads.batch import BATCH_MAX_ITEMS
from leads.models import Lead
from leads.queue import queue_position
from teams.models import Skill, Team

PHONE_RE = re.compile(r"^\+?[0-9 ()\-.]{6,32}$")
MAX_CUSTOM_BYTES = 16 * 1024
MAX_CUSTOM_KEYS = 100


class MemberSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    first_name = serializers.CharField()


class TeamSummarySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class OverflowStateSerializer(serializers.Serializer):
    active = serializers.BooleanField(source="overflow_active")
    due_at = serializers.DateTimeField(source="overflow_due_at", allow_null=True)
    reason = serializers.CharField(source="overflow_reason", allow_blank=True)
    transfers = serializers.IntegerField(source="transfer_count")


class BlankAsNullField(serializers.CharField):
    """An empty text as ``null``: the lost reason of a lead that is not lost."""

    def to_representation(self, value):
        return value or None


class CustomerMessageSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=messages.KINDS)
    text = serializers.CharField()


# A plain Serializer with its fields built once (SharedFieldsMixin): every POST answers
# with one, and a ModelSerializer would rebuild its fields from the model each time.
class LeadSerializer(SharedFieldsMixin, serializers.Serializer):
    """A lead as the API shows it."""

    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)
    phone = serializers.CharField(read_only=True)
    source = serializers.ChoiceField(choices=Lead.Source.choices, read_only=True)
    origin = serializers.IntegerField(
        source="origin_id", read_only=True, allow_null=True,
        help_text="The lead source (`/api/v1/sources`) it came in by, if any.")
    status = serializers.ChoiceField(choices=Lead.Status.choices, read_only=True)
    custom = serializers.JSONField(read_only=True)
    team = TeamSummarySerializer(allow_null=True)
    assignee = MemberSummarySerializer(allow_null=True)
    is_returning = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    assigned_at = serializers.DateTimeField(read_only=True, allow_null=True)
    first_accessed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    concluded_at = serializers.DateTimeField(read_only=True, allow_null=True)
    stage = serializers.CharField(
        read_only=True, help_text="Key of its stage in the organization's funnel "
        "(`GET /api/v1/stages`): `new`, `qualified`, `opportunity`, `customer` (won), `lost`, "
        "or one the organization added.",
    )
    lost_reason = BlankAsNullField(
        read_only=True, allow_null=True,
        help_text="Key of the reason it was lost (`GET /api/v1/lost-reasons`); null unless "
        "its stage is `lost`.",
    )
    score = serializers.IntegerField(
        read_only=True, help_text="The sum of the organization's scoring rules that hold; "
        "its history (`scored` and `created` events) says how it is made up.",
    )
    overflow = OverflowStateSerializer(source="*")
    customer_message = serializers.SerializerMethodField(
        help_text="What to tell the customer: who answers and when, the next opening, "
        "the place in line, or where to go instead. Null for leads that have none."
    )
    queue_position = serializers.SerializerMethodField(
        help_text="1 for the first lead waiting in its team's queue; null when assigned."
    )

    @extend_schema_field(CustomerMessageSerializer(allow_null=True))
    def get_customer_message(self, lead) -> dict | None:
        return lead.customer_message or None

    def get_queue_position(self, lead) -> int | None:
        if lead.assignee_id is not None or lead.status != Lead.Status.OPEN or not lead.team_id:
            return None
        # A batch knows the places of the leads it just queued: no count per lead.
        known = self.context.get("queue_positions")
        if known and lead.pk in known:
            return known[lead.pk]
        return queue_position(lead=lead) + 1

    def to_representation(self, lead):
        """What DRF's generic walk over the fields above answers, written out: every new
        lead is answered with one, and the walk was a tenth of a POST's CPU. The fields
        stay declared for the schema and for input; tests/test_hot_path.py holds this to
        the generic answer for leads in every state."""
        moment = self.fields["created_at"].to_representation
        team, assignee = lead.team, lead.assignee
        return {
            "id": lead.pk,
            "external_id": lead.external_id,
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "source": str(lead.source),
            "origin": lead.origin_id,
            "status": str(lead.status),
            "custom": lead.custom,
            "team": None if team is None else {"slug": team.slug, "name": team.name},
            "assignee": None if assignee is None else {
                "id": assignee.pk, "name": assignee.display_name,
                "first_name": assignee.first_name},
            "is_returning": bool(lead.is_returning),
            "created_at": moment(lead.created_at),
            "assigned_at": None if lead.assigned_at is None else moment(lead.assigned_at),
            "first_accessed_at": (None if lead.first_accessed_at is None
                                  else moment(lead.first_accessed_at)),
            "concluded_at": None if lead.concluded_at is None else moment(lead.concluded_at),
            "stage": lead.stage,
            "lost_reason": lead.lost_reason or None,
            "score": lead.score,
            "overflow": {
                "active": bool(lead.overflow_active),
                "due_at": (None if lead.overflow_due_at is None
                           else moment(lead.overflow_due_at)),
                "reason": lead.overflow_reason,
                "transfers": lead.transfer_count,
            },
            "customer_message": self.get_customer_message(lead),
            "queue_position": self.get_queue_position(lead),
        }


class LeadCreateSerializer(SharedFieldsMixin, RejectUnknownFieldsMixin, serializers.Serializer):
    """What an external system may send. Everything else is the server's to decide."""

    name = StrictCharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)
    external_id = StrictCharField(max_length=128, required=False, allow_blank=True)
    team = StrictCharField(
        max_length=60, required=False, allow_blank=True,
        help_text="Slug of the team that takes the lead; the default team without it.",
    )
    custom = serializers.DictField(required=False, help_text="Free fields, kept as given.")
    required_skills = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=20,
        help_text="Slugs of skills the attendant must hold (e.g. a language).",
    )

    def validate_email(self, value):
        return value.strip().lower()

    def validate_phone(self, value):
        value = value.strip()
        if value and not PHONE_RE.match(value):
            raise serializers.ValidationError(
                _("Enter a phone number: digits, optionally with +, spaces, dashes, parentheses.")
            )
        return value

    def validate_team(self, value):
        if not value:
            return None
        organization = self.context["organization"]
        # A batch validates its items with one context: each slug is looked up once.
        known = self.context.setdefault("teams_by_slug", {})
        if value not in known:
            known[value] = (
                Team.objects.for_org(organization)
                .filter(slug=value, is_archived=False)
                .select_related("overflow_policy")
                .first()
            )
        team = known[value]
        if team is None:
            raise serializers.ValidationError(_("Unknown team “%(slug)s”.") % {"slug": value})
        return team

    def validate_required_skills(self, slugs):
        organization = self.context["organization"]
        # A batch validates its items with one context: each slug is looked up once.
        known = self.context.setdefault("skills_by_slug", {})
        unknown = set(slugs) - set(known)
        if unknown:
            known.update(dict.fromkeys(unknown))
            known.update({s.slug: s for s in
                          Skill.objects.for_org(organization).filter(slug__in=unknown)})
        found = {slug: known[slug] for slug in slugs if known[slug] is not None}
        missing = sorted(set(slugs) - set(found))
        if missing:
            raise serializers.ValidationError(
                _("Unknown skill: %(slugs)s.") % {"slugs": ", ".join(missing)}
            )
        return [found[s] for s in dict.fromkeys(slugs)]

    def validate_custom(self, value):
        if len(value) > MAX_CUSTOM_KEYS:
            raise serializers.ValidationError(
                _("At most %(n)d custom fields.") % {"n": MAX_CUSTOM_KEYS}
            )
        if len(json.dumps(value)) > MAX_CUSTOM_BYTES:
            raise serializers.ValidationError(
                _("Custom fields may take at most %(n)d bytes.") % {"n": MAX_CUSTOM_BYTES}
            )
        return value

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {"contact": [_("Give an e-mail or a phone number.")]}
            )
        return attrs


class LeadBatchSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """``POST /api/v1/leads/batch``: the list is checked here, each item on its own."""

    leads = serializers.ListField(
        child=serializers.JSONField(), max_length=BATCH_MAX_ITEMS,
        help_text="Leads as `POST /api/v1/leads` takes them, at most 500.",
    )


class LeadBatchRequestSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The batch's body as the schema shows it (the view checks each item apart)."""

    leads = LeadCreateSerializer(
        many=True, max_length=BATCH_MAX_ITEMS,
        help_text="Leads as `POST /api/v1/leads` takes them, at most 500. Each item is "
        "answered on its own: one refused item does not stop the others.",
    )


@extend_schema_field(ERROR_SCHEMA)
class ItemErrorField(serializers.JSONField):
    pass


class LeadBatchResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[201, 200, 400],
        help_text="`201` created, `200` the lead created first with the same `external_id` "
        "(or by the same request's `Idempotency-Key`), `400` refused (see `error`).",
    )
    lead = LeadSerializer(allow_null=True, help_text="The lead; null when refused.")
    error = ItemErrorField(
        allow_null=True,
        help_text="Why the item was refused, as any 400 answers; null otherwise.",
    )


class LeadBatchAnswerSerializer(serializers.Serializer):
    results = LeadBatchResultSerializer(
        many=True, help_text="One result per item, in the order of the request."
    )


class LeadUpdateSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """What another system may change of a lead: its place in the funnel."""

    stage = StrictCharField(
        max_length=40, required=False,
        help_text="Key of the stage to move it to. `customer` (won) and `lost` conclude an "
        "open lead; a concluded lead moves only between those two.",
    )
    lost_reason = StrictCharField(
        max_length=40, required=False, allow_blank=True, allow_null=True,
        help_text="Key of the reason, required with `lost` and refused with any other stage. "
        "Left out, a lead that stays lost keeps its reason.",
    )

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"stage": [_("Give the stage to move the lead to.")]})
        if "lost_reason" in attrs and attrs["lost_reason"] is None:
            attrs["lost_reason"] = ""
        return attrs


class LeadAcceptSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    attendant = serializers.IntegerField(help_text="Membership id of the attendant accepting.")


class EventMemberField(serializers.Field):
    def to_representation(self, value):
        return {"id": value.pk, "name": value.display_name}


@extend_schema_field({"type": "object", "properties": {"kind": {"type": "string"},
                                                       "label": {"type": "string"}}})
class ActorField(serializers.Field):
    def to_representation(self, event):
        return {"kind": event.actor_kind, "label": event.actor_label}


class LeadEventSerializer(serializers.ModelSerializer):
    actor = ActorField(source="*")
    from_member = MemberSummarySerializer(allow_null=True)
    to_member = MemberSummarySerializer(allow_null=True)

    class Meta:
        model = LeadEvent
        fields = ["id", "type", "actor", "from_member", "to_member", "reason", "sequence",
                  "data", "created_at"]
        read_only_fields = fields


class TranscriptMessageSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    author = StrictCharField(max_length=80, help_text="Who said it: bot, customer, …")
    text = StrictCharField(max_length=4000)
    at = serializers.DateTimeField(required=False, help_text="When it was said (ISO 8601).")


class HandoffContactSerializer(LeadCreateSerializer):
    """A chat channel may know the customer only by its own conversation id."""

    def validate(self, attrs):
        if not (attrs.get("email") or attrs.get("phone") or attrs.get("external_id")):
            raise serializers.ValidationError(
                {"contact": [_("Give an e-mail, a phone number or an external id.")]}
            )
        return attrs


class HandoffSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A bot hands a conversation to a person."""

    contact = HandoffContactSerializer(
        help_text="The customer: name, email or phone, external_id, custom fields; "
        "and optionally team and required_skills as routing hints."
    )
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    transcript = TranscriptMessageSerializer(many=True, max_length=500, allow_empty=True)

    def validate_transcript(self, messages):
        return [
            {**m, "at": m["at"].isoformat()} if m.get("at") else m for m in messages
        ]


class HandoffAnswerSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False when the contact's open lead was reused.")
    lead = LeadSerializer()
