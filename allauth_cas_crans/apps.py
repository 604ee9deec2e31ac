from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.core import checks
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class AllauthCasCransConfig(AppConfig):
    name = "allauth_cas_crans"
    verbose_name = _("Crans CAS login")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks as crans_checks
        from . import conf, signals

        checks.register(crans_checks.check_settings)
        setting_changed.connect(conf.clear_cache)
        social_account_updated.connect(signals.update_member)
        social_account_added.connect(signals.update_member)
        user_logged_out.connect(signals.forget_session)
