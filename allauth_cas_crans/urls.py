from django.urls import path
from django.views.i18n import set_language

from . import views

urlpatterns = [
    path("crans/login/", views.login, name="crans_login"),
    path("crans/login/callback/", views.callback, name="crans_callback"),
    path("crans/logout/", views.logout, name="crans_logout"),
    # The theme's language switch (Django's view: a cookie remembers the choice).
    # allauth mounts these patterns under accounts/ on either mailman-web.
    path("crans/language/", set_language, name="set_language"),
]
