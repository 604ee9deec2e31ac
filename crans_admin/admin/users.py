"""The admin pages of users and groups: privileges change only by a superuser's hand.

For anyone but a superuser, superuser and staff status, groups and permissions
are read-only (on users and on groups), and accounts with staff or superuser
status other than their own can be neither changed (password included) nor
deleted. No change, action or deletion removes the last active superuser.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from allauth_cas_crans.conf import PROVIDER_ID

from ..superusers import (
    AmbiguousUserError,
    InactiveUsersError,
    LastSuperuserError,
    SuperuserChange,
    cas_uids,
    change_superusers,
    check_a_superuser_remains,
    check_cas_connections,
    describe,
)

# What the admin log (LogEntry) says changed, per (field, new value). Stored in
# English, as Django stores field names, and translated when shown.
LOG_LABELS = {
    ("is_superuser", True): gettext_noop("superuser status (granted)"),
    ("is_superuser", False): gettext_noop("superuser status (revoked)"),
    ("is_staff", True): gettext_noop("staff status (granted)"),
    ("is_staff", False): gettext_noop("staff status (revoked)"),
    ("is_active", True): gettext_noop("active (account reactivated)"),
}


# Fields that only a superuser may change, on users and on groups.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class CransUserChangeForm(UserChangeForm):
    """The user form, refusing a change that would leave no active superuser."""

    def clean(self):
        cleaned_data = super().clean()
        user = self.instance
        keeps = all(cleaned_data.get(field, True) for field in ("is_superuser", "is_active"))
        if user.pk is not None and user.is_superuser and user.is_active and not keeps:
            try:
                check_a_superuser_remains([user])
            except LastSuperuserError as error:
                raise forms.ValidationError(
                    _("%(error)s Grant superuser status to another user first.") % {"error": error}
                ) from error
        return cleaned_data


def is_privileged(user) -> bool:
    return user.is_staff or user.is_superuser


class CransUserAdmin(UserAdmin):
    form = CransUserChangeForm
    list_display = (*UserAdmin.list_display, "is_superuser", "cas_account")
    actions = (
        *UserAdmin.actions,
        "grant_superuser",
        "grant_superuser_local",
        "revoke_superuser",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("socialaccount_set")

    @admin.display(description=gettext_lazy("CAS account"))
    def cas_account(self, user) -> str:
        return ", ".join(
            account.uid
            for account in user.socialaccount_set.all()
            if account.provider == PROVIDER_ID
        )

    def has_superuser_permission(self, request) -> bool:
        """Only superusers may hand out (or take back) superuser status."""
        return is_superuser(request)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if is_superuser(request):
            return readonly
        return (*readonly, *PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None) -> bool:
        """Others than superusers change no privileged account but their own."""
        if obj is not None and is_privileged(obj) and not is_superuser(request):
            if obj.pk != request.user.pk:
                return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and is_privileged(obj) and not is_superuser(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        """Protect the last active superusers."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        try:
            check_a_superuser_remains(list(objs))
        except LastSuperuserError as error:
            protected = [*protected, str(error)]
        return deleted, counts, perms_needed, protected

    @admin.action(
        description=gettext_lazy("Grant superuser status to the selected Crans members"),
        permissions=["superuser"],
    )
    def grant_superuser(self, request, queryset):
        self.change_superusers(request, queryset, grant=True)

    @admin.action(
        description=gettext_lazy(
            "Grant superuser status to the selected local accounts (not connected to the CAS)"
        ),
        permissions=["superuser"],
    )
    def grant_superuser_local(self, request, queryset):
        self.change_superusers(request, queryset, grant=True, local=True)

    @admin.action(
        description=gettext_lazy("Revoke superuser status from the selected users"),
        permissions=["superuser"],
    )
    def revoke_superuser(self, request, queryset):
        self.change_superusers(request, queryset, grant=False)

    def change_superusers(self, request, queryset, *, grant: bool, local: bool = False) -> None:
        """Apply the change, log it for each user changed, tell the user what happened.

        Granting goes to CAS members, or with ``local`` to local accounts only.
        """
        actor = f"{request.user.get_username()} through the admin"
        try:
            with transaction.atomic():
                if grant:
                    check_cas_connections(list(queryset), local=local)
                change = change_superusers(queryset, grant=grant, actor=actor)
                for update in change.changed:
                    fields = [LOG_LABELS[item] for item in update.updates.items()]
                    self.log_change(request, update.user, [{"changed": {"fields": fields}}])
        except AmbiguousUserError as error:
            self.message_user(request, str(error), messages.ERROR)
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
        uids = cas_uids(update.user for update in change.users)
        changed = ", ".join(describe(u.user, uids.get(u.user.pk)) for u in change.changed)
        unchanged = ", ".join(describe(u.user, uids.get(u.user.pk)) for u in change.unchanged)
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


class CransGroupAdmin(GroupAdmin):
    """Groups, whose permissions only superusers change."""

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return readonly if is_superuser(request) else (*readonly, "permissions")
