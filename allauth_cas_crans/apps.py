from allauth.socialaccount.signals import social_account_added, social_account_updated
from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core import checks
from django.core.signals import setting_changed
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class AllauthCasCransConfig(AppConfig):
    name = "allauth_cas_crans"
    verbose_name = _("Crans CAS login")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks as crans_checks
        from . import conf, signals, single_logout

        checks.register(crans_checks.check_settings)
        checks.register(crans_checks.check_session_engine)
        setting_changed.connect(conf.clear_cache)
        social_account_updated.connect(signals.update_member)
        social_account_added.connect(signals.update_member)
        user_logged_in.connect(signals.keep_own_tickets)
        user_logged_out.connect(signals.forget_session)
        session_model = single_logout.session_model()
        if session_model is not None:
            post_save.connect(signals.follow_session, sender=session_model)
