"""Check the running deployment and say, for each fault, how to fix it."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crans_admin.doctor import CHECKS, CheckResult, Report, Status, run_checks

STYLES = {Status.OK: "SUCCESS", Status.WARNING: "WARNING", Status.ERROR: "ERROR"}


class Command(BaseCommand):
    help = "Check the running deployment, each fault with its fix; exit 0 ok, 1 warnings, 2 errors."
    # The doctor reports what the system checks find; they must not stop it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", help="Print the report as JSON, for monitoring."
        )
        parser.add_argument(
            "--check",
            action="append",
            dest="checks",
            choices=list(CHECKS),
            metavar="NAME",
            help=f"Run this check only (repeatable): {', '.join(CHECKS)}.",
        )

    def handle(self, *args, **options):
        report = run_checks(options["checks"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.print_report(report, options["verbosity"])
        if report.status != Status.OK:
            raise SystemExit(int(report.status))

    def print_report(self, report: Report, verbosity: int) -> None:
        width = max(len(name) for name in CHECKS)
        for result in report.results:
            if result.status != Status.OK or verbosity >= 1:
                self.print_result(result, width, verbosity)
        if verbosity >= 1:
            self.stdout.write(
                _(
                    "%(count)d check(s) in %(seconds).1f s: %(ok)d ok, %(warnings)d warning(s), "
                    "%(errors)d error(s)."
                )
                % {
                    "count": len(report.results),
                    "seconds": report.seconds,
                    "ok": report.count(Status.OK),
                    "warnings": report.count(Status.WARNING),
                    "errors": report.count(Status.ERROR),
                }
            )

    def print_result(self, result: CheckResult, width: int, verbosity: int) -> None:
        style = getattr(self.style, STYLES[result.status])
        indent = " " * (width + 12)
        timing = f" ({result.seconds:.2f} s)" if verbosity >= 2 else ""
        self.stdout.write(
            f"{style(f'{result.status.label.upper():<9}')} {result.name:<{width}}  "
            f"{result.finding.seen}{timing}"
        )
        for detail in result.finding.details:
            self.stdout.write(f"{indent}- {detail}")
        if result.finding.fix:
            fix = _("Fix:")
            self.stdout.write(f"{indent}{style(fix)} {result.finding.fix}")
