"""URLs of the CAS server that ``devstack.cas_server.CasServer`` runs."""

from django.urls import include, path

urlpatterns = [path("cas/", include("cas_server.urls", namespace="cas_server"))]
