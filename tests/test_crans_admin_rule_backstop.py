"""The rule holds even for an admin that checks nothing itself, as the next upstream one might.

Careless ModelAdmins, registered on a site of the bundle's (``CransAdminSite``):
permission methods that allow everything, custom pages that write, inlines.
The wrapped permissions, and behind them the write guard, refuse what the
rule forbids to a staff user given every permission of these models.
"""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from hyperkitty.models import Favorite, MailingList, Thread

from crans_admin.admin.site import CransAdminSite
from tests.admin_pages import form_data, give, make, model_permissions

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls(__name__),
    pytest.mark.usefixtures("silent_core"),
]

careless = CransAdminSite(name="careless")


class CarelessAdmin(admin.ModelAdmin):
    """Allows everything; its custom page ``<pk>/write/`` writes."""

    def has_view_permission(self, request, obj=None):
        return True

    def has_change_permission(self, request, obj=None):
        return True

    def has_delete_permission(self, request, obj=None):
        return True

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_write"
        return [
            path("<int:pk>/write/", self.admin_site.admin_view(self.write_view), name=name),
            *super().get_urls(),
        ]

    def write_view(self, request, pk):
        self.write(self.model._default_manager.get(pk=pk), request)
        return HttpResponse("written")


class CarelessUserAdmin(CarelessAdmin):
    def write(self, user, request):
        user.groups.add(Group.objects.get_or_create(name="moderators")[0])
        user.is_staff = True
        user.save()


class CarelessFavoriteAdmin(CarelessAdmin):
    def write(self, favorite, request):
        favorite.user = User.objects.get(username="root")
        favorite.save()


class CarelessListAdmin(CarelessAdmin):
    def write(self, mailing_list, request):
        mailing_list.archive_policy = 2  # public
        mailing_list.save()


class FavoriteInline(admin.TabularInline):
    model = Favorite


class CarelessThreadAdmin(CarelessAdmin):
    inlines = [FavoriteInline]


class TokenInline(admin.TabularInline):
    model = SocialToken


class CarelessAccountAdmin(CarelessAdmin):
    inlines = [TokenInline]


careless.register(User, CarelessUserAdmin)
careless.register(Favorite, CarelessFavoriteAdmin)
careless.register(MailingList, CarelessListAdmin)
careless.register(Thread, CarelessThreadAdmin)
careless.register(SocialAccount, CarelessAccountAdmin)

# The site's own URLs, and the careless site's.
urlpatterns = [path("careless/", careless.urls), path("", include(settings.ROOT_URLCONF))]


@pytest.fixture
def root():
    return User.objects.create_superuser("root", "root@crans.org", "secret")


@pytest.fixture
def staff_client():
    staff = User.objects.create_user("sam", is_staff=True)
    give(staff, model_permissions(User, Favorite, MailingList, Thread, SocialAccount, SocialToken))
    client = Client()
    client.force_login(staff)
    return client


# A refused m2m change ends the transaction it ran in (as a request's own, in production).
@pytest.mark.django_db(transaction=True)
def test_custom_pages_cannot_give_privileges_or_rows(staff_client, root):
    alice = User.objects.create_user("alice")
    favorite = make("hyperkitty.Favorite", alice)
    mailing_list = make("hyperkitty.MailingList")
    MailingList.objects.filter(pk=mailing_list.pk).update(archive_policy=1)  # private

    promoted = staff_client.get(f"/careless/auth/user/{alice.pk}/write/")
    given = staff_client.get(f"/careless/hyperkitty/favorite/{favorite.pk}/write/")
    published = staff_client.get(f"/careless/hyperkitty/mailinglist/{mailing_list.pk}/write/")

    assert promoted.status_code == given.status_code == published.status_code == 403
    alice.refresh_from_db()
    assert not alice.is_staff and not alice.groups.exists()
    favorite.refresh_from_db()
    assert favorite.user == alice
    mailing_list.refresh_from_db()
    assert mailing_list.archive_policy == 1


def test_permission_methods_that_allow_everything_still_refuse_privileged_rows(staff_client, root):
    favorite = make("hyperkitty.Favorite", root)

    page = staff_client.get(f"/careless/auth/user/{root.pk}/change/")
    url = f"/careless/hyperkitty/favorite/{favorite.pk}/delete/"
    deleted = staff_client.post(url, {"post": "yes"})

    assert page.context["has_change_permission"] is False
    assert deleted.status_code == 403
    assert Favorite.objects.filter(pk=favorite.pk).exists()


def test_an_inline_row_cannot_be_given_to_a_privileged_account(staff_client, root):
    alice = User.objects.create_user("alice")
    favorite = make("hyperkitty.Favorite", alice)
    url = f"/careless/hyperkitty/thread/{favorite.thread.pk}/change/"
    data = {**form_data(staff_client.get(url).content.decode(), "thread_form"), "_save": "Save"}
    [user_field] = [name for name in data if name.endswith("-0-user")]
    data[user_field] = str(root.pk)

    response = staff_client.post(url, data)

    assert response.status_code == 403
    favorite.refresh_from_db()
    assert favorite.user == alice


def test_an_inline_of_a_superuser_only_model_is_not_shown(staff_client, root):
    alice = User.objects.create_user("alice")
    token = make("socialaccount.SocialToken", alice)
    url = f"/careless/socialaccount/socialaccount/{token.account.pk}/change/"

    page = staff_client.get(url)
    superuser = Client()
    superuser.force_login(root)

    assert page.status_code == 200
    assert "t0ken" not in page.content.decode()
    assert "t0ken" in superuser.get(url).content.decode()
