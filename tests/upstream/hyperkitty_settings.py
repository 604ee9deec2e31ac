"""hyperkitty's test settings, the theme first.

Its tasks run at once (django-q's ``sync``), and django-q2 1.10 reads every
stored success before storing one more (up to Q_CLUSTER's ``save_limit``,
250): a test posting hundreds of emails runs for minutes and its tasks pass
their 30 s timeout. Successes are not stored here (``save_limit`` -1), in
both runs; hyperkitty's tests never read them.
"""

from hyperkitty.tests.settings_test import *  # noqa: F403

from tests.upstream import PASSWORD_HASHERS, theme_first  # noqa: F401

INSTALLED_APPS = theme_first(INSTALLED_APPS)  # noqa: F405
Q_CLUSTER = {**Q_CLUSTER, "save_limit": -1}  # noqa: F405
