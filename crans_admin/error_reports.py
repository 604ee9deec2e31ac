"""Django's error reports (the 500 mails to ADMINS, DEBUG pages) without database URLs."""

import re

from django.views.debug import SafeExceptionReporterFilter


class CransExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding settings and request variables that hold a database URL.

    ``CRANS_MAILMAN_CORE_DB_URL`` (a setting, or the environment seen in
    ``request.META`` under runserver) carries core's database password.
    """

    hidden_settings = re.compile(
        rf"{SafeExceptionReporterFilter.hidden_settings.pattern}|DB_URL|DATABASE_URL",
        flags=re.IGNORECASE,
    )
