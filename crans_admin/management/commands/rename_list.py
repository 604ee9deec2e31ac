"""Rename a mailing list on mailman-web's side, and on Mailman core's side if told where it is."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crans_admin.audit import command_actor
from crans_admin.conf import CORE_DB_URL
from crans_admin.management.options import add_dry_run_option
from crans_admin.rename import (
    RenameError,
    apply_rename,
    check_no_unfinished_rename,
    command_core_options,
    command_db_url,
    find_unfinished,
    history,
    plan_rename,
    resume_rename,
    rollback_rename,
    unfinished_same_rename,
)
from crans_admin.text import utc_minute

CORE_ONLY_OPTIONS = ("core_db_file", "force", "mailman_bin", "alias_map")


class Command(BaseCommand):
    help = "Rename a mailing list in mailman-web and, with --core-var-dir, in Mailman core."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # No abbreviations: `--core-db URL` must not pass for --core-db-file.
        return super().create_parser(prog_name, subcommand, allow_abbrev=False, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "old", nargs="?", help="The list to rename: posting address or list-id."
        )
        parser.add_argument("new", nargs="?", help="Its new name: posting address or list-id.")
        parser.add_argument(
            "--display-name",
            help="New display name. Default: the new local part, capitalised (as Mailman does).",
        )
        parser.add_argument(
            "--new-domain",
            action="store_true",
            help="Allow a mail domain that mailman-web does not know yet.",
        )
        add_dry_run_option(parser, help="Show every change, change nothing.")
        parser.add_argument(
            "--core-var-dir",
            metavar="DIR",
            type=Path,
            help="Mailman core's var dir (e.g. /var/lib/mailman3): rename core's side too.",
        )
        parser.add_argument(
            "--core-db-file",
            metavar="FILE",
            type=Path,
            help=(
                "A file holding Mailman core's database URL, or core's mailman.cfg "
                f"([database] url). Default: the {CORE_DB_URL} environment variable."
            ),
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
        parser.add_argument(
            "--alias-map",
            metavar="FILE",
            type=Path,
            help="The Postfix virtual_alias_maps table of old list addresses to keep up to date.",
        )
        parser.add_argument(
            "--core-renamed-separately",
            action="store_true",
            help="Without --core-var-dir: rename mailman-web's side even if core serves OLD.",
        )
        for option, does in (("--resume", "Finish"), ("--rollback", "Undo")):
            parser.add_argument(
                option,
                metavar="ID",
                nargs="?",
                type=int,
                const=0,
                help=f"{does} the unfinished rename ID (default: the only one).",
            )
        parser.add_argument(
            "--history",
            metavar="LIST",
            nargs="?",
            const="",
            help="Show the past renames (of the list that bore the name LIST).",
        )

    def handle(self, *args, **options):
        if options["history"] is not None:
            self.show_history(options["history"].strip().lower() or None)
            return
        try:
            if options["resume"] is not None or options["rollback"] is not None:
                self.carry_on(options)
                return
            if not options["old"] or not options["new"]:
                raise CommandError(_("Give OLD and NEW, or --resume, --rollback or --history."))
            pending = unfinished_same_rename(options["old"], options["new"])
            if pending is not None:
                self.resume(pending, options)
                return
            self.rename(options)
        except RenameError as error:
            raise CommandError(str(error)) from error

    def rename(self, options):
        check_no_unfinished_rename(options["old"], options["new"])
        plan = plan_rename(
            options["old"],
            options["new"],
            display_name=options["display_name"],
            allow_new_domain=options["new_domain"],
            core=self.core_options(options),
            core_renamed_separately=options["core_renamed_separately"],
            preview=options["dry_run"],
        )
        verbosity = options["verbosity"]
        if options["dry_run"]:
            if verbosity >= 1:
                self.stdout.write(
                    _("Dry run, nothing is changed. Renaming %(old)s to %(new)s would do:")
                    % {"old": plan.old, "new": plan.new}
                )
                self.write_lines(plan.describe())
                for obstacle in plan.obstacles:  # the real run refuses them
                    self.stdout.write(
                        self.style.WARNING(
                            _("Before the real run: %(obstacle)s") % {"obstacle": obstacle}
                        )
                    )
            return
        report = apply_rename(
            plan, actor=command_actor("rename_list"), progress=self.progress(verbosity)
        )
        self.write_report(report, _("Renamed %(old)s to %(new)s:"), verbosity)

    def carry_on(self, options):
        """--resume or --rollback of an unfinished rename."""
        rolling_back = options["rollback"] is not None
        rename_id = options["rollback"] if rolling_back else options["resume"]
        rename = find_unfinished(rename_id or None)
        if options["dry_run"]:
            self.stdout.write(
                _(
                    "Dry run: the rename #%(id)d of %(old)s to %(new)s is unfinished; "
                    "done: %(steps)s."
                )
                % {
                    "id": rename.pk,
                    "old": rename.old_name,
                    "new": rename.new_name,
                    "steps": self.steps_done(rename),
                }
            )
            return
        if rolling_back:
            plan = rollback_rename(rename, core_db_url=self.core_db_url(options))
            if options["verbosity"] >= 1:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Rolled back the rename #%(id)d: the list is %(old)s again.")
                        % {"id": rename.pk, "old": plan.old}
                    )
                )
            return
        self.resume(rename, options)

    def resume(self, rename, options):
        if options["verbosity"] >= 1:
            self.stdout.write(
                _("Resuming the unfinished rename #%(id)d of %(old)s to %(new)s (done: %(steps)s).")
                % {
                    "id": rename.pk,
                    "old": rename.old_name,
                    "new": rename.new_name,
                    "steps": self.steps_done(rename),
                }
            )
        report = resume_rename(
            rename,
            core_db_url=self.core_db_url(options),
            progress=self.progress(options["verbosity"]),
        )
        self.write_report(report, _("Renamed %(old)s to %(new)s:"), options["verbosity"])

    def steps_done(self, rename):
        names = [step.name for step in rename.steps.all() if step.done_at and not step.undone_at]
        return ", ".join(names) or _("nothing")

    def core_db_url(self, options):
        return command_db_url(options["core_db_file"])

    def core_options(self, options):
        """Core's side, from --core-var-dir and the database URL (environment or file)."""
        if options["core_var_dir"] is None:
            for option in CORE_ONLY_OPTIONS:
                if options[option]:
                    raise CommandError(
                        _("--%(option)s goes with --core-var-dir.")
                        % {"option": option.replace("_", "-")}
                    )
            return None
        if options["core_renamed_separately"]:
            raise CommandError(
                _("--core-renamed-separately and --core-var-dir exclude each other.")
            )
        return command_core_options(
            options["core_var_dir"],
            db_file=options["core_db_file"],
            force=options["force"],
            mailman_bin=options["mailman_bin"],
            alias_map=options["alias_map"],
        )

    def write_report(self, report, title, verbosity):
        if verbosity < 1:
            return
        plan = report.plan
        self.stdout.write(self.style.SUCCESS(title % {"old": plan.old, "new": plan.new}))
        self.write_lines(report.describe())
        if report.aliases_output:
            self.stdout.write(report.aliases_output)
        if report.follow_up:
            self.stdout.write(self.style.WARNING(report.follow_up))

    def show_history(self, name):
        renames = history(name)
        if not renames:
            self.stdout.write(_("No rename recorded."))
        for rename in renames:
            self.stdout.write(
                _("#%(id)d %(when)s %(old)s -> %(new)s, %(state)s, by %(actor)s")
                % {
                    "id": rename.pk,
                    "when": utc_minute(rename.started_at),
                    "old": rename.old_name,
                    "new": rename.new_name,
                    "state": rename.get_state_display(),
                    "actor": rename.actor,
                }
            )
            if rename.error:
                self.stdout.write(f"  {rename.error}")

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
