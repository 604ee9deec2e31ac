"""What a Site's domain and name may be."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.sites.models import Site
from django.db import DEFAULT_DB_ALIAS
from django.http.request import split_domain_port
from django.utils.translation import gettext as _

from .exceptions import InvalidSite

DOMAIN_MAX_LENGTH = Site._meta.get_field("domain").max_length
NAME_MAX_LENGTH = Site._meta.get_field("name").max_length


def validate_site_domain(value: str) -> str:
    """Return ``value`` lowercased if Django accepts it as a host; raise ``InvalidSite``.

    A host is what a browser sends in ``Host`` and what ``ALLOWED_HOSTS``
    holds: a host name or IP address, optionally followed by ``:port``; no
    scheme, no path, no space.
    """
    if not value:
        raise InvalidSite(_("The domain is empty."), code="required")
    if any(character.isspace() for character in value):
        raise InvalidSite(
            _("The domain %(domain)r contains a space.") % {"domain": value}, code="invalid"
        )
    if "://" in value:
        raise InvalidSite(
            _("The domain %(domain)r has a scheme: give the host alone, e.g. %(host)r.")
            % {"domain": value, "host": urlsplit(value).netloc},
            code="invalid",
        )
    if "/" in value:
        raise InvalidSite(
            _("The domain %(domain)r has a path: give the host alone, e.g. %(host)r.")
            % {"domain": value, "host": value.split("/", 1)[0]},
            code="invalid",
        )
    domain = value.lower()
    host, port = split_domain_port(domain)
    if not host or host.endswith(".") or domain != (f"{host}:{port}" if port else host):
        raise InvalidSite(
            _(
                "The domain %(domain)r is not a host name: expected e.g. "
                "'lists.crans.org' or 'localhost:8000'."
            )
            % {"domain": value},
            code="invalid",
        )
    if len(domain) > DOMAIN_MAX_LENGTH:
        raise InvalidSite(
            _("The domain %(domain)r is longer than %(max)d characters.")
            % {"domain": value, "max": DOMAIN_MAX_LENGTH},
            code="max_length",
        )
    return domain


def validate_site_name(value: str) -> str:
    """Return ``value`` without surrounding spaces if it is a usable name; raise otherwise."""
    name = value.strip()
    if not name:
        raise InvalidSite(_("The site name is empty."), code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidSite(
            _("The site name %(name)r is longer than %(max)d characters.")
            % {"name": name, "max": NAME_MAX_LENGTH},
            code="max_length",
        )
    return name


def check_domain_is_free(domain: str, site_id: int | None, *, using: str = DEFAULT_DB_ALIAS):
    """Raise ``InvalidSite`` if a Site other than ``site_id`` has ``domain`` (in any case)."""
    other = Site.objects.using(using).filter(domain__iexact=domain).exclude(pk=site_id).first()
    if other is not None:
        raise InvalidSite(
            _(
                "The domain %(domain)r is already used by site #%(id)d (%(name)r): "
                "rename or delete that site first."
            )
            % {"domain": domain, "id": other.pk, "name": other.name},
            code="unique",
        )
