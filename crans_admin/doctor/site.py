"""Check of the Site: its domain is allowed, the lists' mail domains are mapped to it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sites.models import Site
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .registry import Finding, check, error, ok, warning


@check("site", gettext_lazy("The Site: allowed host, lists' mail domains"))
def check_site(timeout: float) -> Finding:
    from django_mailman3.models import MailDomain
    from hyperkitty.models import MailingList

    site = Site.objects.filter(pk=settings.SITE_ID).first()
    if site is None:
        return error(
            _("There is no Site #%(id)d (SITE_ID).") % {"id": settings.SITE_ID},
            _("Create it with mailman-web crans_set_site."),
        )
    host, _port = split_domain_port(site.domain)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:  # as HttpRequest.get_host() does
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not validate_host(host, allowed_hosts):
        return error(
            _(
                "The Site's domain %(domain)r is not in ALLOWED_HOSTS %(allowed)s: Django "
                "answers 400 to every request for it."
            )
            % {"domain": site.domain, "allowed": list(allowed_hosts)},
            _(
                "Add %(host)r to ALLOWED_HOSTS and restart mailman-web, or give the Site its "
                "right domain with mailman-web crans_set_site --domain."
            )
            % {"host": host},
        )
    list_domains = sorted(
        {
            name.rpartition("@")[2].lower()
            for name in MailingList.objects.values_list("name", flat=True)
        }
    )
    mapped = {
        mail_domain.lower(): site_id
        for mail_domain, site_id in MailDomain.objects.values_list("mail_domain", "site_id")
    }
    elsewhere = [domain for domain in list_domains if mapped.get(domain, site.pk) != site.pk]
    unmapped = [domain for domain in list_domains if domain not in mapped and domain != host]
    problems = [
        _("%(domain)s is mapped to Site #%(id)d") % {"domain": domain, "id": mapped[domain]}
        for domain in elsewhere
    ] + [
        _("%(domain)s is mapped to no Site: its archive links point to https://%(domain)s/")
        % {"domain": domain}
        for domain in unmapped
    ]
    seen = _("The Site %(domain)r (%(name)r) is allowed; lists' mail domains: %(domains)s.") % {
        "domain": site.domain,
        "name": site.name,
        "domains": ", ".join(list_domains) or "-",
    }
    if problems:
        return warning(
            seen,
            _(
                "Map each mail domain below to the Site %(domain)r (admin, Mail domains), "
                "so that archive links in emails point to this site."
            )
            % {"domain": site.domain},
            problems,
        )
    return ok(seen)
