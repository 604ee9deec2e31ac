"""Settings for upstream's own test suites, run by .ci/upstream with the theme first.

Each module imports the suite's own test settings and changes only what
:func:`theme_first` changes, so that a run with the theme and a run without
differ by the theme alone.
"""

import os

THEME = "mailman_crans_theme"


def theme_first(installed_apps) -> tuple[str, ...]:
    """``installed_apps`` with the theme first, unless CRANS_UPSTREAM_THEME is "without"."""
    apps = tuple(app for app in installed_apps if app != THEME)
    if os.environ.get("CRANS_UPSTREAM_THEME", "with") == "without":
        return apps
    return (THEME, *apps)


# Both runs, with the theme and without, use these instead of the suites' own:
# password hashing at Django's default cost is most of postorius' test time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
