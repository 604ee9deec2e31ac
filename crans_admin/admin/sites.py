"""The Site's admin page: the domain and name checked as ``crans_set_site`` does."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.sites.admin import SiteAdmin
from django.contrib.sites.models import Site
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..sites import check_domain_is_free, validate_site_domain, validate_site_name


class SiteForm(forms.ModelForm):
    """The Site form, checking the domain and the name as ``crans_set_site`` does."""

    class Meta:
        model = Site
        fields = ("domain", "name")

    def clean_domain(self):
        domain = validate_site_domain(self.cleaned_data["domain"])
        check_domain_is_free(domain, self.instance.pk)
        return domain

    def clean_name(self):
        return validate_site_name(self.cleaned_data["name"])


class CransSiteAdmin(SiteAdmin):
    form = SiteForm
    list_display = (*SiteAdmin.list_display, "is_current", "mail_domains")
    fields = ("domain", "name", "is_current", "mail_domains")
    readonly_fields = ("is_current", "mail_domains")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("mailman_domains")

    @admin.display(boolean=True, description=gettext_lazy("current site (SITE_ID)"))
    def is_current(self, site: Site) -> bool:
        return site.pk == settings.SITE_ID

    @admin.display(description=gettext_lazy("mail domains"))
    def mail_domains(self, site: Site) -> str:
        if site.pk is None:  # the add form
            return ""
        return ", ".join(sorted(domain.mail_domain for domain in site.mailman_domains.all()))

    def get_deleted_objects(self, objs, request):
        """Protect the current site: without it, every page fails."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        current = [
            _("%(site)s is the current site (SITE_ID): it cannot be deleted.") % {"site": site}
            for site in objs
            if site.pk == settings.SITE_ID
        ]
        return deleted, counts, perms_needed, [*protected, *current]
