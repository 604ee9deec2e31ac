from django.contrib.admin.apps import AdminConfig
from django.core import checks


class CransAdminSiteConfig(AdminConfig):
    """``django.contrib.admin`` with the bundle's admin site and its pages of upstream models.

    In INSTALLED_APPS in place of ``django.contrib.admin``. The site puts the
    admin-wide rule (``crans_admin.admin.rule``) on every registered
    ModelAdmin; the write guard behind it is connected here.
    """

    default_site = "crans_admin.admin.site.CransAdminSite"

    def ready(self) -> None:
        super().ready()  # every installed app registers its admin classes
        from django.apps import apps
        from django.contrib.admin import site
        from django.contrib.auth import get_user_model
        from django.contrib.sites.models import Site
        from django.db.models.signals import m2m_changed, pre_delete, pre_save
        from hyperkitty.models import MailingList

        from .checks import check_admin_rule
        from .lists import CransMailingListAdmin
        from .policy import owned_policy
        from .rule import (
            refuse_permission_changes,
            refuse_privileged_deletions,
            refuse_privileged_saves,
        )
        from .sites import CransSiteAdmin
        from .users import CransUserAdmin

        site.replace(Site, CransSiteAdmin)
        site.replace(get_user_model(), CransUserAdmin)
        site.replace(MailingList, CransMailingListAdmin)

        checks.register(check_admin_rule, "crans", checks.Tags.admin)
        uid = "crans_admin.admin.rule"
        pre_save.connect(refuse_privileged_saves, dispatch_uid=uid)
        m2m_changed.connect(refuse_permission_changes, dispatch_uid=uid)
        # Deletions: the owned models only (a receiver for every model would turn
        # every cascade, everywhere, into row-by-row deletes).
        for model in apps.get_models():
            if owned_policy(model) is not None:
                pre_delete.connect(refuse_privileged_deletions, sender=model, dispatch_uid=uid)
