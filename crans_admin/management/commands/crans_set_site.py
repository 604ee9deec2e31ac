"""Set the domain and name of the current Site."""

from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crans_admin.audit import command_actor
from crans_admin.conf import crans_admin_settings
from crans_admin.management.options import add_database_option, add_dry_run_option
from crans_admin.sites import InvalidSite, set_current_site


class Command(BaseCommand):
    help = "Set the domain and name of the current Site (SITE_ID), keeping its mail domains."

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain",
            default=crans_admin_settings().site_domain,
            help="Host name (and optional :port) of the site. Default: settings.CRANS_SITE_DOMAIN.",
        )
        parser.add_argument(
            "--name",
            default=crans_admin_settings().site_name,
            help="Name shown in page titles and the navigation bar. "
            "Default: settings.CRANS_SITE_NAME.",
        )
        add_dry_run_option(parser)
        add_database_option(parser)

    def handle(self, *args, **options):
        for option, setting in (("domain", "CRANS_SITE_DOMAIN"), ("name", "CRANS_SITE_NAME")):
            if options[option] is None:
                raise CommandError(
                    _("Give --%(option)s: settings.%(setting)s is not set.")
                    % {"option": option, "setting": setting}
                )
        try:
            change = set_current_site(
                options["domain"],
                options["name"],
                actor=command_actor("crans_set_site"),
                dry_run=options["dry_run"],
                using=options["database"],
            )
        except InvalidSite as error:
            raise CommandError(" ".join(error.messages)) from error
        if options["verbosity"] >= 1:
            self.report(change)

    def report(self, change):
        if not change.applied:
            self.stdout.write(_("Dry run: nothing is written."))
        if change.created:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Site #%(id)d created: domain %(domain)r, name %(name)r.")
                    % {"id": change.site_id, "domain": change.domain, "name": change.name}
                )
            )
        elif change.changed:
            for field, old, new in change.changes:
                self.stdout.write(
                    self.style.SUCCESS(
                        _("Site #%(id)d: %(field)s %(old)r -> %(new)r")
                        % {
                            "id": change.site_id,
                            "field": Site._meta.get_field(field).verbose_name,
                            "old": old,
                            "new": new,
                        }
                    )
                )
        else:
            self.stdout.write(
                _("Site #%(id)d already has domain %(domain)r and name %(name)r: nothing changed.")
                % {"id": change.site_id, "domain": change.domain, "name": change.name}
            )
        if change.mail_domains:
            self.stdout.write(
                _("Mail domains mapped to this site (kept): %(mail_domains)s")
                % {"mail_domains": ", ".join(change.mail_domains)}
            )
        else:
            self.stdout.write(
                _(
                    "No mail domain is mapped to this site yet: Postorius maps each mail "
                    "domain to the current site when its domain list is opened."
                )
            )
        for warning in change.warnings:
            self.stderr.write(self.style.WARNING(warning))
        if change.applied and change.changed:
            self.stdout.write(
                _(
                    "Restart the web server (e.g. systemctl restart mailman3-web): each "
                    "running process keeps the site in memory."
                )
            )
