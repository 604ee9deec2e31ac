from django.contrib.admin.apps import AdminConfig


class CransAdminSiteConfig(AdminConfig):
    """``django.contrib.admin`` with the bundle's admin site and its pages of upstream models.

    In INSTALLED_APPS in place of ``django.contrib.admin``.
    """

    default_site = "crans_admin.admin.site.CransAdminSite"

    def ready(self) -> None:
        super().ready()  # every installed app registers its admin classes
        from django.contrib.admin import site
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.contrib.sites.models import Site
        from hyperkitty.models import MailingList

        from .lists import CransMailingListAdmin
        from .sites import CransSiteAdmin
        from .users import CransGroupAdmin, CransUserAdmin

        site.replace(Site, CransSiteAdmin)
        site.replace(get_user_model(), CransUserAdmin)
        site.replace(Group, CransGroupAdmin)
        site.replace(MailingList, CransMailingListAdmin)
