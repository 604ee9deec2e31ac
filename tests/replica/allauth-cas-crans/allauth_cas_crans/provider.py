"""The "crans" provider: django-allauth-cas' CASProvider with Crans' addresses verified."""

from allauth.account.models import EmailAddress
from allauth.socialaccount.providers.base import ProviderAccount
from allauth_cas.providers import CASProvider


class CransAccount(ProviderAccount):
    pass


class CransProvider(CASProvider):
    id = "crans"
    name = "Crans"
    account_class = CransAccount

    def extract_email_addresses(self, data):
        uid, extra = data
        email = extra.get("email")
        return [EmailAddress(email=email, verified=True, primary=True)] if email else []


provider_classes = [CransProvider]
