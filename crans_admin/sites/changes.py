"""The name and domain of the current Site (``settings.SITE_ID``).

django-mailman3 shows the current Site's ``name`` as ``site_name`` (page
titles, navigation bar) and maps mail domains to Sites with its ``MailDomain``
model (hyperkitty and postorius use it to build links and, with
``FILTER_VHOST``, to show on each web host only the lists of its mail domains).

The Site is changed in place, keeping its primary key, so every ``MailDomain``
mapped to it stays mapped to it; no ``MailDomain`` row is created, changed or
deleted. The report names the mail domains mapped to the site and warns where
the new domain breaks that mapping or will not be served.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext as _
from django_mailman3.models import MailDomain

from .validation import check_domain_is_free, validate_site_domain, validate_site_name

logger = logging.getLogger(__package__)


@dataclass(frozen=True)
class SiteChange:
    """What setting the current Site does (a plan until ``applied``)."""

    site_id: int
    domain: str
    name: str
    old_domain: str | None  # None when the Site does not exist yet
    old_name: str | None
    mail_domains: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    applied: bool = False

    @property
    def created(self) -> bool:
        return self.old_domain is None

    @property
    def changes(self) -> list[tuple[str, str | None, str]]:
        """``(field, old, new)`` for each field that differs."""
        pairs = [("domain", self.old_domain, self.domain), ("name", self.old_name, self.name)]
        return [(name, old, new) for name, old, new in pairs if old != new]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def plan_site_change(
    domain: str, name: str, *, site_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> SiteChange:
    """Validate ``domain`` and ``name`` and say what setting them on Site ``site_id`` changes.

    ``site_id`` defaults to ``settings.SITE_ID``. Raise ``InvalidSite`` for
    a bad domain or name, or a domain that another Site already has. The Site
    row is locked: call it inside a transaction, as ``set_current_site`` does.
    """
    site_id = settings.SITE_ID if site_id is None else site_id
    domain = validate_site_domain(domain)
    name = validate_site_name(name)
    check_domain_is_free(domain, site_id, using=using)
    site = Site.objects.using(using).select_for_update().filter(pk=site_id).first()
    mail_domains = tuple(
        MailDomain.objects.using(using)
        .filter(site_id=site_id)
        .order_by("mail_domain")
        .values_list("mail_domain", flat=True)
    )
    return SiteChange(
        site_id=site_id,
        domain=domain,
        name=name,
        old_domain=site.domain if site else None,
        old_name=site.name if site else None,
        mail_domains=mail_domains,
        warnings=tuple(_warnings(domain, site_id, using)),
    )


def _warnings(domain: str, site_id: int, using: str) -> list[str]:
    """Say where ``domain`` will not be served, or disagrees with the MailDomain mapping."""
    warnings = []
    host, port = split_domain_port(domain)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:  # as HttpRequest.get_host() does
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not validate_host(host, allowed_hosts):
        warnings.append(
            _("%(host)r is not in ALLOWED_HOSTS: Django will refuse requests for it.")
            % {"host": host}
        )
    if port and getattr(settings, "FILTER_VHOST", False):
        warnings.append(
            _(
                "FILTER_VHOST compares the site's domain with the request's host "
                "without its port: with %(domain)r, no list matches."
            )
            % {"domain": domain}
        )
    misplaced = (
        MailDomain.objects.using(using)
        .filter(mail_domain__iexact=host)
        .exclude(site_id=site_id)
        .select_related("site")
        .first()
    )
    if misplaced is not None:
        warnings.append(
            _(
                "The mail domain %(mail_domain)r is mapped to site #%(id)d (%(domain)r), "
                "not to this one: its archive links point to %(domain)r. Change it in "
                "Postorius' domain settings if that is not intended."
            )
            % {
                "mail_domain": misplaced.mail_domain,
                "id": misplaced.site_id,
                "domain": misplaced.site.domain,
            }
        )
    return warnings


def apply_site_change(plan: SiteChange, *, actor: str, using: str = DEFAULT_DB_ALIAS) -> SiteChange:
    """Write ``plan`` and clear Django's Site cache; return it marked as applied."""
    if plan.changed:
        Site(pk=plan.site_id, domain=plan.domain, name=plan.name).save(using=using)
        if plan.created:
            _reset_site_sequence(using)
        logger.info(
            "Site #%d %s by %s: %s",
            plan.site_id,
            "created" if plan.created else "changed",
            actor,
            ", ".join(f"{name} {old!r} -> {new!r}" for name, old, new in plan.changes),
        )
    Site.objects.clear_cache()
    return replace(plan, applied=True)


def set_current_site(
    domain: str,
    name: str,
    *,
    actor: str,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SiteChange:
    """Set the domain and name of the current Site (creating it if missing), in one transaction."""
    with transaction.atomic(using=using):
        plan = plan_site_change(domain, name, using=using)
        return plan if dry_run else apply_site_change(plan, actor=actor, using=using)


def _reset_site_sequence(using: str) -> None:
    """Move the id sequence past a Site saved with an explicit id (as Django does, #17415)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Site]):
            cursor.execute(statement)
