"""Helpers of the admin tests: forms posted as a browser posts them, rows of every admin's model."""

from __future__ import annotations

import itertools
from datetime import timedelta
from html.parser import HTMLParser
from uuid import uuid4

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

SAVE = {"_save": "Save"}
_numbers = itertools.count(1)


class FormScraper(HTMLParser):
    """The fields of one form of a page, with the values a browser would send."""

    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: list[tuple[str, str]] = []
        self.select: str | None = None
        self.multiple = False
        self.select_values: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or attributes.get("id") == self.form_id
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.data.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.data.append((name, attributes.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.select_values = name, []
            self.multiple = "multiple" in attributes
        elif tag == "option" and self.select is not None:
            self.select_values.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_data(self, data):
        if self.textarea is not None:
            self.text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = [value for value, selected in self.select_values if selected]
            if not chosen and not self.multiple and self.select_values:
                chosen = [self.select_values[0][0]]  # what a browser sends
            self.data.extend((self.select, value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.data.append((self.textarea, "".join(self.text).lstrip("\n")))
            self.textarea = None


def form_data(html: str, form_id: str | None = None) -> dict[str, str | list[str]]:
    """The values that posting the form ``form_id`` of ``html`` sends (lists for repeats)."""
    scraper = FormScraper(form_id)
    scraper.feed(html)
    data: dict[str, str | list[str]] = {}
    for name, value in scraper.data:
        if name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    return data


def admin_url(model: type[Model] | Model, view: str, *args: object) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def change_form(client: Client, row: Model) -> dict[str, str | list[str]]:
    """The change form of ``row`` as its page gives it to ``client`` (who may change it)."""
    response = client.get(admin_url(row, "change", row.pk))
    assert response.status_code == 200, response.status_code
    return {**form_data(response.content.decode(), f"{row._meta.model_name}_form"), **SAVE}


def csrf_token(client: Client) -> str:
    client.get(reverse("admin:index"))
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def model_permissions(*models: type[Model]) -> list[Permission]:
    """Every permission of ``models`` (a proxy's own included)."""
    types = [ContentType.objects.get_for_model(model, for_concrete_model=False) for model in models]
    return list(Permission.objects.filter(content_type__in=types))


def give(user, permissions: list[Permission], *, through_group: bool = False) -> None:
    if through_group:
        group = Group.objects.create(name=f"delegated-{next(_numbers)}")
        group.permissions.set(permissions)
        user.groups.add(group)
    else:
        user.user_permissions.add(*permissions)


def snapshot(row: Model) -> dict[str, object]:
    """The stored values of ``row`` (all its concrete fields)."""
    stored = type(row)._default_manager.filter(pk=row.pk).values().first()
    assert stored is not None, f"{row!r} is gone"
    return stored


# Rows of every registered admin's model: ``make(label, owner)``.


def _thread(owner=None):
    thread = _email().thread
    thread.category = _category()
    thread.save()
    return thread


def _mailing_list():
    from hyperkitty.models import MailingList

    number = next(_numbers)
    mailing_list = MailingList.objects.create(
        name=f"list{number}@lists.example.org",
        display_name=f"List {number}",
        description="A list",
        subject_prefix=f"[List {number}] ",
        archive_rendering_mode="text",
    )
    # The admin's form requires owners and moderators: a member's account.
    owner, _created = User.objects.get_or_create(username="list-owner")
    mailing_list.owners.add(owner)
    mailing_list.moderators.add(owner)
    return mailing_list


def _email(owner=None):
    from hyperkitty.models import Email, Sender

    number = next(_numbers)
    sender, _created = Sender.objects.get_or_create(address="sender@example.org")
    return Email.objects.create(
        mailinglist=_mailing_list(),
        message_id=f"message-{number}@example.org",
        sender=sender,
        subject=f"Subject {number}",
        content="Content",
        date=timezone.now(),
        timezone=0,
    )


def _tag(owner=None):
    from hyperkitty.models import Tag

    return Tag.objects.create(name=f"tag{next(_numbers)}")


def _category(owner=None):
    from hyperkitty.models import ThreadCategory

    return ThreadCategory.objects.create(name=f"category{next(_numbers)}", color="#ff0000")


def _favorite(owner):
    from hyperkitty.models import Favorite

    return Favorite.objects.create(thread=_thread(), user=owner)


def _last_view(owner):
    from hyperkitty.models import LastView

    return LastView.objects.create(thread=_thread(), user=owner)


def _vote(owner):
    from hyperkitty.models import Vote

    return Vote.objects.create(email=_email(), user=owner, value=1)


def _hyperkitty_profile(owner):
    from hyperkitty.models import Profile

    return Profile.objects.get_or_create(user=owner)[0]


def _mailman3_profile(owner):
    from django_mailman3.models import Profile

    return Profile.objects.get_or_create(user=owner)[0]


def _mail_domain(owner=None):
    from django_mailman3.models import MailDomain

    site = Site.objects.get(pk=settings.SITE_ID)
    return MailDomain.objects.create(site=site, mail_domain=f"lists{next(_numbers)}.example.org")


def _social_app(owner=None):
    return SocialApp.objects.create(
        provider="crans", name=f"app{next(_numbers)}", client_id="id", secret="s3cret"
    )


def _social_token(owner=None):
    account = SocialAccount.objects.create(
        user=owner, provider="crans", uid=f"token-owner-{next(_numbers)}"
    )
    return SocialToken.objects.create(app=_social_app(), account=account, token="t0ken")


def _group(owner=None):
    return Group.objects.create(name=f"group{next(_numbers)}")


def _site(owner=None):
    return Site.objects.create(domain=f"site{next(_numbers)}.example.org", name="Other")


def _schedule(owner=None):
    from django_q.models import Schedule

    return Schedule.objects.create(func="math.floor", args="1.5", name=f"s{next(_numbers)}")


def _task(success: bool):
    def make(owner=None):
        from django_q.models import Task

        started = timezone.now()
        return Task.objects.create(
            id=uuid4().hex,
            name=f"task{next(_numbers)}",
            func="math.floor",
            started=started,
            stopped=started + timedelta(seconds=1),
            success=success,
        )

    return make


def _queued(owner=None):
    from django_q.models import OrmQ

    return OrmQ.objects.create(key="default", payload="payload")


def _email_address(owner):
    return EmailAddress.objects.create(
        user=owner, email=f"{owner.username}-{next(_numbers)}@example.org", verified=False
    )


def _social_account(owner):
    uid = f"{owner.username}-{next(_numbers)}"
    return SocialAccount.objects.create(
        user=owner, provider="crans", uid=uid, extra_data={"uid": uid}
    )


MAKERS = {
    "account.EmailAddress": _email_address,
    "auth.Group": _group,
    "auth.User": lambda owner: owner,
    "django_mailman3.MailDomain": _mail_domain,
    "django_mailman3.Profile": _mailman3_profile,
    "django_q.Failure": _task(False),
    "django_q.OrmQ": _queued,
    "django_q.Schedule": _schedule,
    "django_q.Success": _task(True),
    "hyperkitty.Email": _email,
    "hyperkitty.Favorite": _favorite,
    "hyperkitty.LastView": _last_view,
    "hyperkitty.MailingList": lambda owner=None: _mailing_list(),
    "hyperkitty.Profile": _hyperkitty_profile,
    "hyperkitty.Tag": _tag,
    "hyperkitty.Thread": _thread,
    "hyperkitty.ThreadCategory": _category,
    "hyperkitty.Vote": _vote,
    "sites.Site": _site,
    "socialaccount.SocialAccount": _social_account,
    "socialaccount.SocialApp": _social_app,
    "socialaccount.SocialToken": _social_token,
}


def make(label: str, owner=None) -> Model:
    """A row of the model ``label`` (belonging to ``owner`` when the model's rows belong to one)."""
    return MAKERS[label](owner)
