from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from crans_admin.checks import installed_version

DISTRIBUTIONS = ("Django", "django-allauth", "postorius", "hyperkitty", "django-mailman3")


class Command(BaseCommand):
    help = "Say whether Crans' settings are active, on which mailman-web and versions."

    def handle(self, **options):
        # The system checks ran before handle(): an error stopped the command.
        self.stdout.write(
            self.style.SUCCESS(
                _("Crans' settings are active (%(module)s) on %(base)s.")
                % {"module": settings.SETTINGS_MODULE, "base": settings.CRANS_SETTINGS_BASE}
            )
        )
        if options["verbosity"] >= 1:
            versions = ", ".join(
                f"{name} {installed_version(name) or '?'}" for name in DISTRIBUTIONS
            )
            self.stdout.write(_("Versions: %(versions)s.") % {"versions": versions})
