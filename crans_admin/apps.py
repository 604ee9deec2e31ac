from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.core import checks
from django.db.models.signals import post_migrate, pre_delete, pre_save


class CransAdminConfig(AppConfig):
    """The commands and admin pages of the bundle, its system checks, the superuser guard."""

    name = "crans_admin"

    def ready(self) -> None:
        from .checks import check_crans_settings, check_old_packages
        from .superusers import (
            install_after_migrate,
            keep_a_superuser_on_delete,
            keep_a_superuser_on_save,
        )

        checks.register(check_crans_settings, "crans")
        # Apart, so that crans_doctor reports them once, in its own "old-packages" check.
        checks.register(check_old_packages, "crans")

        # Every path, third-party pages included (django-mailman3's account deletion).
        pre_save.connect(keep_a_superuser_on_save, sender=get_user_model())
        pre_delete.connect(keep_a_superuser_on_delete, sender=get_user_model())
        # And the database, whatever writes the users' table (superusers/trigger.py).
        post_migrate.connect(install_after_migrate, sender=self)
