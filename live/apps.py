from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    """Live updates for the inbox: a short server-sent events stream that tells an attendant
    a lead reached them or left them. Reads leads; nothing below imports it."""

    name = "live"
    verbose_name = _("Live updates")
