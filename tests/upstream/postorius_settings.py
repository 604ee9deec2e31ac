"""postorius' test settings (its sdist's example_project), the theme first.

Without the debug toolbar its example project runs (a development tool, in
neither run): its requests panel takes a stack trace of every call to core.
"""

from example_project.test_settings import *  # noqa: F403

from tests.upstream import PASSWORD_HASHERS, theme_first  # noqa: F401

DEBUG_TOOLBAR = (
    "debug_toolbar",
    "requests_panel",
    "debug_toolbar.middleware.DebugToolbarMiddleware",
)
INSTALLED_APPS = theme_first(app for app in INSTALLED_APPS if app not in DEBUG_TOOLBAR)  # noqa: F405
MIDDLEWARE = [name for name in MIDDLEWARE if name not in DEBUG_TOOLBAR]  # noqa: F405
