"""/accounts/crans/login/, callback/ and logout/ (allauth includes them)."""

from allauth_cas.urls import default_urlpatterns

from .provider import CransProvider

urlpatterns = default_urlpatterns(CransProvider)
