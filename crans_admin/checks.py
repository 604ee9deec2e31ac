"""System checks: Crans' settings are the ones in effect, whole.

Debian's settings.py ignores an ImportError from /etc/mailman3/mailman-web.py
and a hand-written INSTALLED_APPS can drop an app or reorder the theme: both
leave a site that runs without a word. These checks turn what the bundle can
see of it into errors (``mailman-web check``, and every command and start-up).
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, requires, version
from typing import Any

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

from allauth_cas_crans.conf import PROVIDER_ID
from crans_mailman_web_settings.allauth_compat import (
    LOGIN_METHODS_SINCE,
    SIGNUP_FIELDS_SINCE,
    allauth_version,
)

from .conf import crans_admin_settings

THEME = "mailman_crans_theme"
# In place of django.contrib.admin: the admin site with the privilege rules.
ADMIN_APP = "crans_admin.admin.apps.CransAdminSiteConfig"
REQUIRED_APPS = (
    THEME,
    "allauth.account",
    "allauth.socialaccount",
    "allauth_cas_crans",
    "crans_admin",
    ADMIN_APP,
)
SETTINGS_MODULE = "crans_mailman_web_settings.production"
DISTRIBUTION = "crans-mailman-web"
# The apps whose versions the bundle pins, the extra "mailman-web" included
# (Debian's mailman3-web provides them without pip checking the pins).
PINNED = ("Django", "django-allauth", "django-mailman3", "postorius", "hyperkitty")


def check_crans_settings(**kwargs: Any) -> list[Error]:
    """Report what keeps Crans' settings, theme, CAS login or commands from being active."""
    return [
        *check_settings_module(hasattr(settings, "CRANS_SETTINGS_BASE")),
        *check_installed_apps(list(settings.INSTALLED_APPS)),
        *check_providers(getattr(settings, "SOCIALACCOUNT_PROVIDERS", {})),
        *check_account_setting_names(allauth_version(), set(dir(settings))),
        *check_pinned_versions(),
        *check_bundle_settings(),
    ]


def check_old_packages(**kwargs: Any) -> list[Error]:
    """Report what an older site's packages left under the bundle's modules."""
    return [*check_old_distributions(), *check_leftover_files()]


def check_settings_module(imported: bool) -> list[Error]:
    """Report settings that did not import Crans' (``imported``: they did)."""
    if imported:
        return []
    return [
        Error(
            "Crans' settings are not in effect: the settings module "
            f"{settings.SETTINGS_MODULE!r} does not import them.",
            hint=f"Make /etc/mailman3/mailman-web.py `from {SETTINGS_MODULE} import *`.",
            id="crans.E001",
        )
    ]


def check_installed_apps(apps: list[str]) -> list[Error]:
    """Report the theme not first, and Crans' apps missing."""
    errors = []
    if apps and apps[0] != THEME:
        errors.append(
            Error(
                f"{THEME!r} is not the first of INSTALLED_APPS (the first is {apps[0]!r}): "
                "the templates of the apps before it win over the Crans theme.",
                hint=f"Put {THEME!r} first.",
                id="crans.E002",
            )
        )
    missing = [app for app in REQUIRED_APPS if app not in apps]
    if missing:
        errors.append(
            Error(
                f"INSTALLED_APPS lacks {', '.join(missing)}.",
                hint="Keep the INSTALLED_APPS of Crans' settings.",
                id="crans.E003",
            )
        )
    return errors


def check_providers(providers: dict[str, Any]) -> list[Error]:
    """Report SOCIALACCOUNT_PROVIDERS without Crans' CAS."""
    if PROVIDER_ID in providers:
        return []
    return [
        Error(
            f"SOCIALACCOUNT_PROVIDERS has no {PROVIDER_ID!r} entry: no login through Crans' CAS.",
            hint="Keep the SOCIALACCOUNT_PROVIDERS of Crans' settings.",
            id="crans.E004",
        )
    ]


def check_account_setting_names(allauth: tuple[int, int], names: set[str]) -> list[Error]:
    """Report the settings among ``names`` that django-allauth ``allauth`` ignores."""
    newer = {"ACCOUNT_LOGIN_METHODS": LOGIN_METHODS_SINCE}
    newer["ACCOUNT_SIGNUP_FIELDS"] = SIGNUP_FIELDS_SINCE
    return [
        Error(
            f"{name} is set, but django-allauth {'.'.join(map(str, allauth))} ignores it "
            f"(it appeared in {'.'.join(map(str, since))}).",
            hint="Keep the values that Crans' settings choose for the installed django-allauth.",
            id="crans.E005",
        )
        for name, since in newer.items()
        if allauth < since and name in names
    ]


def version_tuple(text: str) -> tuple[int, ...]:
    """Return the leading numbers of a version: "65.0.2" -> (65, 0, 2)."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


def pins() -> dict[str, list[tuple[str, str]]]:
    """Return the bundle's ``>=`` and ``<`` pins of ``PINNED``, from its metadata."""
    found: dict[str, list[tuple[str, str]]] = {}
    for requirement in requires(DISTRIBUTION) or []:
        name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
        if name in PINNED:
            found[name] = re.findall(r"(>=|<)\s*([0-9.]+)", requirement.split(";")[0])
    return found


def installed_version(name: str) -> str | None:
    """Return the installed version of the distribution ``name``, None when absent."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def check_pinned_versions(installed_version=installed_version) -> list[Error]:
    """Report an installed app outside the versions the bundle's pins allow."""
    errors = []
    for name, specifiers in pins().items():
        installed = installed_version(name)
        if installed is None:
            continue  # Not installed: INSTALLED_APPS or the import fails loudly.
        allowed = all(
            version_tuple(installed) >= version_tuple(bound)
            if operator == ">="
            else version_tuple(installed) < version_tuple(bound)
            for operator, bound in specifiers
        )
        if not allowed:
            pin = ",".join(operator + bound for operator, bound in specifiers)
            errors.append(
                Error(
                    f"{name} {installed} is installed; Crans' bundle needs {name}{pin}.",
                    hint="Install a version that the bundle supports.",
                    id="crans.E006",
                )
            )
    return errors


def check_bundle_settings() -> list[Error]:
    """Report a ``CRANS_*`` setting of the wrong kind."""
    try:
        crans_admin_settings()
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See crans_admin/conf.py.", id="crans.E007")]
    return []


def check_old_distributions(path: list[str] | None = None) -> list[Error]:
    """Report distributions other than the bundle owning its modules or ``allauth_cas``.

    Uninstalling one after the bundle deletes the bundle's files of the same name.
    """
    from .upgrade import foreign_distributions, uninstall_command

    foreign = foreign_distributions(path)
    if not foreign:
        return []
    return [
        Error(
            "Old distributions own modules of the bundle or django-allauth-cas': "
            + "; ".join(
                f"{d.name} {d.version} ({', '.join(d.modules)}, in {d.location})" for d in foreign
            )
            + ".",
            hint=f"Run `{uninstall_command(foreign)}` (it deletes the bundle's files of the same "
            "names too), then install the bundle again: `pip install --force-reinstall "
            "--no-deps <the bundle's wheel>`. See docs/upgrade.md.",
            id="crans.E008",
        )
    ]


def check_leftover_files(path: list[str] | None = None) -> list[Error]:
    """Report files in the bundle's module folders that the bundle does not ship."""
    from .upgrade import leftover_files

    leftovers = leftover_files(path)
    if not leftovers:
        return []
    return [
        Error(
            f"{len(leftovers)} file(s) in the bundle's folders are no file of the bundle, left "
            "by an old package (old templates keep overriding): "
            + ", ".join(map(str, leftovers[:10]))
            + (f" and {len(leftovers) - 10} more" if len(leftovers) > 10 else "")
            + ".",
            hint="Delete them (mailman-web crans_upgrade --check lists them all).",
            id="crans.E009",
        )
    ]
