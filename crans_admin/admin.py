"""Admin pages of crans_admin: the current Site, superuser actions on users.

Both extend the admin classes that Django registers (unregistered, then
registered again as subclasses), so everything upstream offers stays.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.sites.admin import SiteAdmin
from django.contrib.sites.models import Site
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from .sites import check_domain_is_free, validate_site_domain, validate_site_name
from .users import (
    InactiveUsersError,
    LastSuperuserError,
    SuperuserChange,
    change_superusers,
)

User = get_user_model()

# What the admin log (LogEntry) says changed, per (field, new value). Stored in
# English, as Django stores field names, and translated when shown.
LOG_LABELS = {
    ("is_superuser", True): gettext_noop("superuser status (granted)"),
    ("is_superuser", False): gettext_noop("superuser status (revoked)"),
    ("is_staff", True): gettext_noop("staff status (granted)"),
    ("is_staff", False): gettext_noop("staff status (revoked)"),
    ("is_active", True): gettext_noop("active (account reactivated)"),
}


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


admin.site.unregister(Site)


@admin.register(Site)
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


admin.site.unregister(User)


@admin.register(User)
class CransUserAdmin(UserAdmin):
    list_display = (*UserAdmin.list_display, "is_superuser")
    actions = (*UserAdmin.actions, "grant_superuser", "revoke_superuser")

    def has_superuser_permission(self, request) -> bool:
        """Only superusers may hand out (or take back) superuser status."""
        return request.user.is_active and request.user.is_superuser

    @admin.action(
        description=gettext_lazy("Grant superuser status to the selected users"),
        permissions=["superuser"],
    )
    def grant_superuser(self, request, queryset):
        self.change_superusers(request, queryset, grant=True)

    @admin.action(
        description=gettext_lazy("Revoke superuser status from the selected users"),
        permissions=["superuser"],
    )
    def revoke_superuser(self, request, queryset):
        self.change_superusers(request, queryset, grant=False)

    def change_superusers(self, request, queryset, *, grant: bool) -> None:
        """Apply the change, log it for each user changed, tell the user what happened."""
        actor = f"{request.user.get_username()} through the admin"
        try:
            with transaction.atomic():
                change = change_superusers(queryset, grant=grant, actor=actor)
                for update in change.changed:
                    fields = [LOG_LABELS[item] for item in update.updates.items()]
                    self.log_change(request, update.user, [{"changed": {"fields": fields}}])
        except InactiveUsersError as error:
            self.message_user(
                request,
                _('%(error)s Tick "Active" on their page first.') % {"error": error},
                messages.ERROR,
            )
        except LastSuperuserError as error:
            self.message_user(
                request,
                _("%(error)s Grant superuser status to another user first.") % {"error": error},
                messages.ERROR,
            )
        else:
            self.report(request, change)

    def report(self, request, change: SuperuserChange) -> None:
        changed = ", ".join(update.username for update in change.changed)
        unchanged = ", ".join(update.username for update in change.unchanged)
        if change.changed:
            if change.grant:
                message = ngettext(
                    "%(names)s now has superuser and staff status.",
                    "%(names)s now have superuser and staff status.",
                    len(change.changed),
                )
            else:
                message = ngettext(
                    "%(names)s no longer has superuser or staff status.",
                    "%(names)s no longer have superuser or staff status.",
                    len(change.changed),
                )
            self.message_user(request, message % {"names": changed}, messages.SUCCESS)
        if change.unchanged:
            if change.grant:
                message = ngettext(
                    "%(names)s already has superuser and staff status: unchanged.",
                    "%(names)s already have superuser and staff status: unchanged.",
                    len(change.unchanged),
                )
            else:
                message = ngettext(
                    "%(names)s has neither superuser nor staff status: unchanged.",
                    "%(names)s have neither superuser nor staff status: unchanged.",
                    len(change.unchanged),
                )
            self.message_user(request, message % {"names": unchanged}, messages.INFO)


from . import admin_lists  # noqa: E402,F401  (the list rename pages)
from .admin_doctor import doctor_view  # noqa: E402,F401  (the deployment check page)
