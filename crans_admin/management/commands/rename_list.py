"""Rename a mailing list on mailman-web's side, and on Mailman core's side if told where it is."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crans_admin.audit import command_actor
from crans_admin.lists import CoreOptions, RenameError, apply_rename, plan_rename


class Command(BaseCommand):
    help = (
        "Rename a mailing list: its archives, templates, attachment folder and search index in "
        "mailman-web and, with --core-db and --core-var-dir, its rows and folders in Mailman "
        "core (which must be stopped). OLD and NEW are posting addresses (name@domain) or "
        "list-ids (name.domain)."
    )

    def add_arguments(self, parser):
        parser.add_argument("old", help="The list to rename: posting address or list-id.")
        parser.add_argument("new", help="Its new name: posting address or list-id.")
        parser.add_argument(
            "--display-name",
            help="New display name. Default: the new local part, capitalised (as Mailman does).",
        )
        parser.add_argument(
            "--new-domain",
            action="store_true",
            help="Allow a mail domain that mailman-web does not know yet.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show every change, change nothing."
        )
        parser.add_argument(
            "--core-db",
            metavar="URL",
            help="Mailman core's database (e.g. postgresql://mailman:...@host/mailman3).",
        )
        parser.add_argument(
            "--core-var-dir",
            metavar="DIR",
            type=Path,
            help="Mailman core's var dir (e.g. /var/lib/mailman3).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Skip the check that Mailman core is stopped and has no queued message.",
        )
        parser.add_argument(
            "--mailman-bin",
            metavar="PATH",
            help="Run `PATH aliases` afterwards to regenerate the MTA maps.",
        )

    def handle(self, *args, **options):
        core = self.core_options(options)
        try:
            plan = plan_rename(
                options["old"],
                options["new"],
                display_name=options["display_name"],
                allow_new_domain=options["new_domain"],
                core=core,
            )
        except RenameError as error:
            raise CommandError(str(error)) from error
        verbosity = options["verbosity"]
        if options["dry_run"]:
            if verbosity >= 1:
                self.stdout.write(
                    _("Dry run, nothing is changed. Renaming %(old)s to %(new)s would do:")
                    % {"old": plan.old, "new": plan.new}
                )
                self.write_lines(plan.describe())
            return
        try:
            report = apply_rename(
                plan, actor=command_actor("rename_list"), progress=self.progress(verbosity)
            )
        except RenameError as error:
            raise CommandError(str(error)) from error
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Renamed %(old)s to %(new)s:") % {"old": plan.old, "new": plan.new}
                )
            )
            self.write_lines(report.describe())
            if report.aliases_output:
                self.stdout.write(report.aliases_output)
            if report.follow_up:
                self.stdout.write(self.style.WARNING(report.follow_up))

    def core_options(self, options):
        if options["core_db"] is None and options["core_var_dir"] is None:
            for option in ("force", "mailman_bin"):
                if options[option]:
                    raise CommandError(
                        _("--%(option)s goes with --core-db and --core-var-dir.")
                        % {"option": option.replace("_", "-")}
                    )
            return None
        if options["core_db"] is None or options["core_var_dir"] is None:
            raise CommandError(_("Give both --core-db and --core-var-dir, or neither."))
        if not options["core_var_dir"].is_dir():
            raise CommandError(
                _("--core-var-dir %(dir)s is not a folder.") % {"dir": options["core_var_dir"]}
            )
        return CoreOptions(
            db_url=options["core_db"],
            var_dir=options["core_var_dir"],
            force=options["force"],
            mailman_bin=options["mailman_bin"],
        )

    def write_lines(self, lines):
        for line in lines:
            self.stdout.write(f"  {line}")

    def progress(self, verbosity):
        """Show emails reindexed / total on a terminal, on one line."""
        if verbosity < 1 or not self.stdout.isatty():
            return None

        def show(done, total):
            self.stdout.write(
                "\r"
                + _("Search index: %(done)d / %(total)d emails") % {"done": done, "total": total},
                ending="\n" if done == total else "",
            )
            self.stdout.flush()

        return show
