from django.urls import path

from . import views

urlpatterns = [
    path("crans/login/", views.login, name="crans_login"),
    path("crans/login/callback/", views.callback, name="crans_callback"),
    path("crans/logout/", views.logout, name="crans_logout"),
]
