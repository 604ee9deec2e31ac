"""django-allauth-cas' views for the "crans" provider; the CAS URL from the settings."""

from allauth_cas import views
from django.conf import settings

from .provider import CransProvider


class CransCASAdapter(views.CASAdapter):
    provider_id = CransProvider.id
    url = settings.SOCIALACCOUNT_PROVIDERS["crans"]["SERVER_URL"]
    version = 3


login = views.CASLoginView.adapter_view(CransCASAdapter)
callback = views.CASCallbackView.adapter_view(CransCASAdapter)
logout = views.CASLogoutView.adapter_view(CransCASAdapter)
