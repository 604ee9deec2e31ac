"""The "crans" provider: Crans members log in through Crans' CAS."""

from __future__ import annotations

import re
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from .client import CasIdentity, cas_client
from .conf import PROVIDER_ID, CransSettings, crans_settings
from .uids import cas_attributes, normalise_uid

# Room left for the digits allauth adds to make a username unique (150 at most).
USERNAME_LENGTH = 140


class CransAccount(ProviderAccount):
    def to_str(self) -> str:
        return self.account.uid


class CransProvider(Provider):
    id = PROVIDER_ID
    name = "Crans"
    account_class = CransAccount
    uses_apps = False
    supports_redirect = True

    def get_settings(self) -> CransSettings:
        return crans_settings()

    def get_login_url(self, request: HttpRequest, next: str | None = None, **kwargs: Any) -> str:
        # django-allauth 65.0.2 passes ``next`` on its own, newer ones among kwargs.
        url = reverse("crans_login")
        query = {
            name: value for name, value in {"next": next, **kwargs}.items() if value is not None
        }
        return f"{url}?{urlencode(query)}" if query else url

    def redirect(
        self, request: HttpRequest, process, next_url=None, data=None, **kwargs: Any
    ) -> HttpResponseRedirect:
        """Send the browser to the CAS login page.

        The service URL carries the id of the stashed state (``next``,
        ``process``) and is stashed with it: the ticket is validated against
        exactly the string the CAS issued it for.
        """
        state_id = get_adapter().generate_state_param({})
        service_url = request.build_absolute_uri(
            f"{reverse('crans_callback')}?{urlencode({'state': state_id})}"
        )
        self.stash_redirect_state(
            request, process, next_url, data, state_id=state_id, service_url=service_url, **kwargs
        )
        return HttpResponseRedirect(cas_client(self.get_settings(), service_url).get_login_url())

    def attribute(self, attributes: Any, field: str) -> str | None:
        """Return the first non-empty CAS attribute that ``ATTRIBUTES[field]`` names.

        ``attributes``: the CAS's, or a stored ``extra_data`` of either shape.
        """
        attributes = cas_attributes(attributes)
        for name in self.get_settings()["ATTRIBUTES"].get(field, []):
            values = attributes.get(name)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and value.strip():
                    return value.strip()
        return None

    def names(self, attributes: Any) -> dict[str, str]:
        """Return the ``first_name``, ``last_name`` and ``name`` the CAS released."""
        fields = {field: self.attribute(attributes, field) for field in ("first_name", "last_name")}
        fields["name"] = self.attribute(attributes, "name")
        return {field: value for field, value in fields.items() if value}

    def extract_uid(self, data: CasIdentity) -> str:
        return normalise_uid(data.user)

    def extract_extra_data(self, data: CasIdentity) -> dict[str, Any]:
        return data.attributes

    def extract_common_fields(self, data: CasIdentity) -> dict[str, Any]:
        username = self.attribute(data.attributes, "username") or data.user
        return {"username": local_username(username), **self.names(data.attributes)}

    def extract_email_addresses(self, data: CasIdentity) -> list[EmailAddress]:
        """The CAS e-mail, else ``<uid>@EMAIL_DOMAIN``; verified if its domain is trusted."""
        email = self.attribute(data.attributes, "email")
        if not email:
            domain = self.get_settings()["EMAIL_DOMAIN"]
            if not domain:
                return []
            email = f"{self.extract_uid(data)}@{domain}"
        return [EmailAddress(email=email, verified=self.is_trusted(email), primary=True)]

    def is_trusted(self, email: str) -> bool:
        """Whether the CAS address ``email`` counts as verified (``VERIFIED_EMAIL``)."""
        domain = email.rpartition("@")[2].strip().lower()
        return domain in self.get_settings()["VERIFIED_EMAIL"]


def local_username(name: str) -> str:
    """A local username made of ``name``: the characters Django accepts, lower-cased, cut.

    allauth makes it unique (adding digits) and falls back on the names or
    the address when nothing is left.
    """
    kept = "".join(re.findall(r"[\w.@+-]", name.strip().lower()))
    return kept[:USERNAME_LENGTH]


provider_classes = [CransProvider]
