"""Checks of Mailman core: its REST API, and its archiver's link to hyperkitty.

:func:`core_get` is how every check asks core's REST API.
"""

from __future__ import annotations

import configparser
import hmac
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.contrib.sites.models import Site
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..conf import DEFAULTS, crans_admin_settings
from ..text import first_line
from .exceptions import Found
from .network import network_error, network_timeout
from .registry import Finding, check, error, ok, warning


def core_url() -> str:
    return settings.MAILMAN_REST_API_URL.rstrip("/")


def core_get(path: str, timeout: float) -> dict:
    """GET ``/3.1/<path>`` from core's REST API; raise ``Found`` with the fault otherwise."""
    url = f"{core_url()}/3.1/{path}"
    try:
        response = requests.get(
            url,
            auth=(settings.MAILMAN_REST_API_USER, settings.MAILMAN_REST_API_PASS),
            timeout=network_timeout(timeout),
        )
    except requests.RequestException as exception:
        raise Found(
            error(
                _("Mailman core's REST API at %(url)s does not answer: %(error)s")
                % {"url": core_url(), "error": network_error(exception)},
                _(
                    "Start Mailman core (systemctl start mailman3), or correct "
                    "MAILMAN_REST_API_URL."
                ),
            )
        ) from exception
    if response.status_code == 401:
        raise Found(
            error(
                _("Mailman core at %(url)s refuses the credentials of %(user)r (HTTP 401).")
                % {"url": core_url(), "user": settings.MAILMAN_REST_API_USER},
                _(
                    "Set MAILMAN_REST_API_USER and MAILMAN_REST_API_PASS to admin_user and "
                    "admin_pass of the [webservice] section of core's mailman.cfg, then restart "
                    "mailman-web."
                ),
            )
        )
    if response.status_code != 200:
        raise Found(
            error(
                _("Mailman core answered %(url)s with HTTP %(status)d.")
                % {"url": url, "status": response.status_code},
                _("Read Mailman core's log (mailman.log) for the cause, and correct it."),
            )
        )
    try:
        return response.json()
    except ValueError as exception:
        raise Found(
            error(
                _("%(url)s does not answer as Mailman core does (not JSON).") % {"url": url},
                _("Correct MAILMAN_REST_API_URL: it must name Mailman core's REST API."),
            )
        ) from exception


@check("core", gettext_lazy("Mailman core's REST API"))
def check_core(timeout: float) -> Finding:
    versions = core_get("system/versions", timeout)
    return ok(
        _("%(version)s, REST API %(api)s, at %(url)s with user %(user)r.")
        % {
            "version": versions.get("mailman_version", "?"),
            "api": versions.get("api_version", "?"),
            "url": core_url(),
            "user": settings.MAILMAN_REST_API_USER,
        }
    )


# The archiver: core's mailman-hyperkitty.cfg and hyperkitty's archiver API.


def read_hyperkitty_cfg() -> tuple[Path, str, str]:
    """``(path, base_url, api_key)`` of core's mailman-hyperkitty.cfg; raise ``Found`` otherwise."""
    path = crans_admin_settings().hyperkitty_cfg
    # Missing from Debian's place, core may run elsewhere; from a chosen place, it is a fault.
    chosen = path != Path(DEFAULTS["CRANS_MAILMAN_HYPERKITTY_CFG"])
    fix_path = _(
        "Set CRANS_MAILMAN_HYPERKITTY_CFG to the path of core's mailman-hyperkitty.cfg, "
        "and run this as a user who can read it (root, or the group list on Debian)."
    )
    parser = configparser.ConfigParser()
    try:
        with path.open() as cfg:
            parser.read_file(cfg)
    except FileNotFoundError as exception:
        finding = error if chosen else warning
        raise Found(
            finding(
                _("No %(path)s: the archiver's key and address are not checked.") % {"path": path},
                fix_path,
            )
        ) from exception
    except OSError as exception:
        raise Found(
            warning(
                _("%(path)s cannot be read: %(error)s") % {"path": path, "error": exception},
                fix_path,
            )
        ) from exception
    except configparser.Error as exception:
        raise Found(
            error(
                _("%(path)s is not a valid configuration file: %(error)s")
                % {"path": path, "error": first_line(exception)},
                _("Correct %(path)s: a [general] section with base_url and api_key.")
                % {"path": path},
            )
        ) from exception
    base_url = parser.get("general", "base_url", fallback="").strip()
    api_key = parser.get("general", "api_key", fallback="").strip()
    if not base_url or not api_key:
        raise Found(
            error(
                _("%(path)s lacks base_url or api_key in its [general] section.") % {"path": path},
                _("Correct %(path)s: a [general] section with base_url and api_key.")
                % {"path": path},
            )
        )
    return path, base_url, api_key


@check("archiver", gettext_lazy("Archiving: core's key and hyperkitty's archiver API"))
def check_archiver(timeout: float) -> Finding:
    path, base_url, api_key = read_hyperkitty_cfg()
    same_key = hmac.compare_digest(api_key, settings.MAILMAN_ARCHIVER_KEY)
    key_fix = _(
        "Make MAILMAN_ARCHIVER_KEY and the api_key of %(path)s the same secret, then restart "
        "mailman-web and Mailman core."
    ) % {"path": path}
    key_seen = (
        _("The api_key of %(path)s is MAILMAN_ARCHIVER_KEY.")
        if same_key
        else _("The api_key of %(path)s differs from MAILMAN_ARCHIVER_KEY.")
    ) % {"path": path}
    url = urljoin(base_url if base_url.endswith("/") else base_url + "/", "api/mailman/urls")
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    try:
        # Read-only: the URL of a list's archive page, as core asks for it.
        response = requests.get(
            url,
            params={"mlist": f"crans-doctor@{site.domain if site else 'localhost'}"},
            headers={"Authorization": f"Token {api_key}"},
            timeout=network_timeout(timeout),
            allow_redirects=False,
        )
    except requests.RequestException as exception:
        return error(
            _("%(key)s mailman-web does not answer at %(url)s: %(error)s")
            % {"key": key_seen, "url": url, "error": network_error(exception)},
            _(
                "Start mailman-web, or correct base_url in %(path)s: core posts every email "
                "to archive there."
            )
            % {"path": path},
        )
    status = response.status_code
    if status == 401:
        return error(
            _("%(key)s hyperkitty's archiver API at %(url)s refuses core's key (HTTP 401).")
            % {"key": key_seen, "url": url},
            key_fix
            if not same_key
            else _(
                "Restart mailman-web: the running processes have another MAILMAN_ARCHIVER_KEY "
                "than the settings."
            ),
        )
    if status == 403:
        return error(
            _(
                "%(key)s hyperkitty's archiver API at %(url)s refuses requests from this "
                "host's address (HTTP 403): it is not in MAILMAN_ARCHIVER_FROM %(allowed)s."
            )
            % {"key": key_seen, "url": url, "allowed": list(settings.MAILMAN_ARCHIVER_FROM)},
            _(
                "Add the address Mailman core connects from (%(host)s) to "
                "MAILMAN_ARCHIVER_FROM, then restart mailman-web."
            )
            % {"host": urlsplit(url).hostname},
        )
    if status == 400:
        return error(
            _("%(key)s mailman-web refuses the host of %(url)s (HTTP 400).")
            % {"key": key_seen, "url": url},
            _("Add %(host)r to ALLOWED_HOSTS (or correct base_url in %(path)s).")
            % {"host": urlsplit(url).hostname, "path": path},
        )
    if status != 200 or "url" not in _json_or_empty(response):
        return error(
            _("%(key)s %(url)s answered HTTP %(status)d, not hyperkitty's archiver API.")
            % {"key": key_seen, "url": url, "status": status},
            _(
                "Correct base_url in %(path)s: mailman-web's address with hyperkitty's path "
                "(e.g. http://localhost:8000/archives/), served without redirection."
            )
            % {"path": path},
        )
    if not same_key:
        return error(
            _(
                "%(key)s The running mailman-web accepts core's key: its settings changed "
                "since it started."
            )
            % {"key": key_seen},
            key_fix,
        )
    return ok(
        _("%(key)s hyperkitty's archiver API at %(url)s accepts it from this host.")
        % {"key": key_seen, "url": url}
    )


def _json_or_empty(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
