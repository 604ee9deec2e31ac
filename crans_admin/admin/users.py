"""The admin page of users: the superuser actions; no change removes the last superuser.

Who may change which account is the admin-wide rule's (``policy.py``): for
anyone but a superuser, superuser and staff status, groups and permissions are
read-only, and accounts with staff or superuser status (their own included)
can be neither changed (password included) nor deleted. No change, action or
deletion removes the last active superuser.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext_lazy

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
from .rule import is_superuser

# What the admin log (LogEntry) says changed, per (field, new value). Stored in
# English, as Django stores field names, and translated when shown.
LOG_LABELS = {
    ("is_superuser", True): gettext_noop("superuser status (granted)"),
    ("is_superuser", False): gettext_noop("superuser status (revoked)"),
    ("is_staff", True): gettext_noop("staff status (granted)"),
    ("is_staff", False): gettext_noop("staff status (revoked)"),
    ("is_active", True): gettext_noop("active (account reactivated)"),
}

# What a superuser action says of the users it changed and of those it left,
# per (granted, changed).
REPORTS = {
    (True, True): ngettext_lazy(
        "%(names)s now has superuser and staff status.",
        "%(names)s now have superuser and staff status.",
        "count",
    ),
    (False, True): ngettext_lazy(
        "%(names)s no longer has superuser or staff status.",
        "%(names)s no longer have superuser or staff status.",
        "count",
    ),
    (True, False): ngettext_lazy(
        "%(names)s already has superuser and staff status: unchanged.",
        "%(names)s already have superuser and staff status: unchanged.",
        "count",
    ),
    (False, False): ngettext_lazy(
        "%(names)s has neither superuser nor staff status: unchanged.",
        "%(names)s have neither superuser nor staff status: unchanged.",
        "count",
    ),
}


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
        for updates, changed, level in (
            (change.changed, True, messages.SUCCESS),
            (change.unchanged, False, messages.INFO),
        ):
            if updates:
                names = ", ".join(describe(u.user, uids.get(u.user.pk)) for u in updates)
                message = REPORTS[change.grant, changed] % {"names": names, "count": len(updates)}
                self.message_user(request, message, level)
