"""Reads of sources and their logs; every one but the intake's names the organization."""

from django.db.models import Count, Max, QuerySet

from teams.models import Organization

from .models import Source, SourceSubmission

# Tokens are URL-safe base64; anything else is not worth a query.
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def source_for_token(*, token: str) -> Source | None:
    """The source of an intake URL: the token alone names the organization (it is the
    secret), so this is the one read without one."""
    if not token or len(token) > 64 or not set(token) <= TOKEN_CHARS:
        return None
    # The team with its overflow policy, as the API's team lookup reads it: routing the
    # lead needs both, and this saves their queries on every post.
    return (Source.objects.select_related("organization", "team", "team__overflow_policy")
            .filter(token=token).first())


def source_list(*, organization: Organization) -> QuerySet[Source]:
    return (Source.objects.for_org(organization).select_related("team")
            .annotate(submission_count=Count("submissions"),
                      last_received_at=Max("submissions__received_at"))
            .order_by("name", "id"))


def source_get(*, organization: Organization, source_id: int) -> Source:
    return Source.objects.for_org(organization).select_related("team").get(pk=source_id)


def submission_list(*, organization: Organization, source: Source) -> QuerySet[SourceSubmission]:
    return (SourceSubmission.objects.for_org(organization).filter(source=source)
            .prefetch_related("leads").order_by("-received_at", "-id"))


def submission_get(*, organization: Organization, submission_id: int) -> SourceSubmission:
    return (SourceSubmission.objects.for_org(organization).select_related("source")
            .prefetch_related("leads").get(pk=submission_id))
