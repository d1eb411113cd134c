from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OnboardingConfig(AppConfig):
    """A new organization's first steps (issue 15, section 2): the checklist at /manage/start/,
    its banner, and the test lead. Sits at the top beside demo and reads the apps below."""

    name = "onboarding"
    verbose_name = _("First steps")
