from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OverflowConfig(AppConfig):
    name = "overflow"
    verbose_name = _("Overflow (transbordo)")
