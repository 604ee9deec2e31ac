"""Find what the old site (Debian 11, django-allauth-cas) left, and fix what can be fixed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crans_admin.upgrade import UpgradeError, UpgradeReport, apply_upgrade, inspect_upgrade


class Command(BaseCommand):
    help = "Fix what the old site left (see docs/upgrade.md); --check only reports."
    # It reports the old distributions that the system checks refuse: they must not stop it.
    requires_system_checks = []

    def add_arguments(self, parser):
        modes = parser.add_mutually_exclusive_group()
        modes.add_argument(
            "--check",
            action="store_true",
            help="Report only; exit 1 if something must be fixed by hand.",
        )
        modes.add_argument(
            "--dry-run",
            action="store_true",
            help="Make the changes in a transaction rolled back: show what would change.",
        )

    def handle(self, *args, **options):
        if options["check"]:
            report = inspect_upgrade()
            self.print_report(report, fixed=False, verbosity=options["verbosity"])
            if report.by_hand:
                raise SystemExit(1)
            return
        try:
            changes = apply_upgrade(dry_run=options["dry_run"])
        except UpgradeError as error:
            raise CommandError(str(error)) from error
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing is written."))
        self.print_report(
            changes.report, fixed=not options["dry_run"], verbosity=options["verbosity"]
        )
        if changes.report.by_hand:
            raise CommandError(_("Fix by hand what is listed above, then run crans_upgrade again."))

    def print_report(self, report: UpgradeReport, *, fixed: bool, verbosity: int) -> None:
        fixable, by_hand, rebuild = (
            report.fixable_lines(),
            report.by_hand_lines(),
            report.rebuild_lines(),
        )
        if fixable:
            self.stdout.write(_("Fixed:") if fixed else _("To fix (crans_upgrade does it):"))
            for line in fixable:
                self.stdout.write(self.style.SUCCESS(f"- {line}") if fixed else f"- {line}")
        if by_hand:
            self.stdout.write(self.style.ERROR(_("To fix by hand:")))
            for line in by_hand:
                self.stdout.write(self.style.ERROR(f"- {line}"))
        if rebuild:
            self.stdout.write(self.style.WARNING(_("To rebuild:")))
            for line in rebuild:
                self.stdout.write(self.style.WARNING(f"- {line}"))
        if not (fixable or by_hand or rebuild) and verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(_("Nothing left of the old site to fix.")))
