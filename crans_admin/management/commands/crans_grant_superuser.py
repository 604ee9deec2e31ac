"""Grant (or revoke) superuser and staff status, or list who has them."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from crans_admin.audit import command_actor
from crans_admin.management.options import add_database_option, add_dry_run_option
from crans_admin.superusers import (
    InactiveUsersError,
    LastSuperuserError,
    SuperuserChange,
    SuperuserError,
    cas_uids,
    change_superusers,
    describe,
    find_users,
    privileged_users,
)


class Command(BaseCommand):
    help = "Grant or revoke superuser and staff status (by CAS username), or list who has them."

    CHANGE_OPTIONS = ("email", "local", "revoke", "activate", "dry_run")

    def add_arguments(self, parser):
        parser.add_argument(
            "users",
            nargs="*",
            metavar="name",
            help="CAS usernames (local usernames with --local, addresses with --email).",
        )
        selection = parser.add_mutually_exclusive_group()
        selection.add_argument(
            "--local",
            action="store_true",
            help="Select local accounts (connected to no CAS account) by their username.",
        )
        selection.add_argument(
            "--email",
            action="store_true",
            help="Select accounts by an address they verified (one account per address).",
        )
        parser.add_argument(
            "--revoke", action="store_true", help="Remove superuser and staff status."
        )
        parser.add_argument(
            "--activate",
            action="store_true",
            help="Reactivate deactivated accounts while granting (refused otherwise).",
        )
        parser.add_argument(
            "--list", action="store_true", help="List the users with superuser or staff status."
        )
        add_dry_run_option(parser)
        add_database_option(parser)

    def handle(self, *args, **options):
        if options["list"]:
            if options["users"] or any(options[name] for name in self.CHANGE_OPTIONS):
                raise CommandError(_("--list takes no username and no other option."))
            self.list_privileged_users(options["database"])
            return
        if not options["users"]:
            raise CommandError(
                _("Give at least one CAS username (or address with --email), or --list.")
            )
        if options["revoke"] and options["activate"]:
            raise CommandError(_("--activate only goes with granting, not with --revoke."))
        by = "email" if options["email"] else "local" if options["local"] else "cas"
        try:
            with transaction.atomic(using=options["database"]):
                users = find_users(options["users"], by=by, using=options["database"])
                change = change_superusers(
                    users,
                    grant=not options["revoke"],
                    actor=command_actor("crans_grant_superuser"),
                    activate=options["activate"],
                    dry_run=options["dry_run"],
                    using=options["database"],
                )
                uids = cas_uids(users, using=options["database"])
        except InactiveUsersError as error:
            raise CommandError(
                _("%(error)s Give --activate to reactivate them.") % {"error": error}
            ) from error
        except LastSuperuserError as error:
            raise CommandError(
                _("%(error)s Grant superuser status to another user first.") % {"error": error}
            ) from error
        except SuperuserError as error:
            raise CommandError(str(error)) from error
        if options["verbosity"] >= 1:
            self.report(change, uids)

    def report(self, change: SuperuserChange, uids: dict[object, str]):
        """Say what changed, or in a dry run what would."""
        dry_run = not change.applied
        if dry_run:
            self.stdout.write(_("Dry run: nothing is written."))
        for update in change.changed:
            name = describe(update.user, uids.get(update.user.pk))
            if change.grant:
                if dry_run:
                    message = _("%(name)s would have superuser and staff status.")
                else:
                    message = _("%(name)s now has superuser and staff status.")
            elif dry_run:
                message = _("%(name)s would no longer have superuser or staff status.")
            else:
                message = _("%(name)s no longer has superuser or staff status.")
            self.stdout.write(self.style.SUCCESS(message % {"name": name}))
            if update.reactivated:
                if dry_run:
                    message = _("%(name)s's account would be active again.")
                else:
                    message = _("%(name)s's account is active again.")
                self.stdout.write(self.style.SUCCESS(message % {"name": name}))
        for update in change.unchanged:
            name = describe(update.user, uids.get(update.user.pk))
            if change.grant:
                message = _("%(name)s already has superuser and staff status: nothing changed.")
            else:
                message = _("%(name)s has neither superuser nor staff status: nothing changed.")
            self.stdout.write(message % {"name": name})

    def list_privileged_users(self, using: str):
        users = list(privileged_users(using))
        if not users:
            self.stdout.write(_("No user has superuser or staff status."))
            return
        uids = cas_uids(users, using=using)
        cas = {user.pk: uids.get(user.pk, _("(local account)")) for user in users}
        width = max(len(user.get_username()) for user in users)
        cas_width = max(map(len, cas.values()))
        for user in users:
            status = [
                label
                for label, present in (
                    (_("superuser"), user.is_superuser),
                    (_("staff"), user.is_staff),
                    (_("deactivated"), not user.is_active),
                )
                if present
            ]
            self.stdout.write(
                f"{user.get_username():<{width}}  {', '.join(status):<30}  "
                f"{cas[user.pk]:<{cas_width}}  {user.email}".rstrip()
            )
