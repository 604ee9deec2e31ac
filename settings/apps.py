from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class CransSettingsConfig(AppConfig):
    """The settings package as an app: its system checks and `crans_settings`."""

    name = "crans_mailman_web_settings"
    verbose_name = _("Crans settings")

    def ready(self) -> None:
        from . import checks as settings_checks

        checks.register(settings_checks.check_crans_settings, "crans")
