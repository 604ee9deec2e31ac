"""Login, callback (ticket validation, single logout) and logout of the "crans" provider."""

from __future__ import annotations

import logging

from allauth.account.internal.decorators import login_not_required
from allauth.account.views import LogoutView as AccountLogoutView
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login, render_authentication_error
from allauth.socialaccount.providers.base import AuthError, AuthProcess
from allauth.socialaccount.providers.base.views import BaseLoginView
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from .client import (
    AccountConflict,
    CasError,
    LoginExpired,
    cas_client,
    is_cas_server,
    logout_request_tickets,
    validate_ticket,
)
from .first_login import prepare_first_login
from .models import LoginLock, ServiceTicket
from .provider import CransProvider
from .single_logout import record_login
from .uids import join_old_account

logger = logging.getLogger(__name__)


@method_decorator(login_not_required, name="dispatch")
class LoginView(BaseLoginView):
    provider_id = CransProvider.id


# GET needs no CSRF protection; the CAS server's single-logout POST carries no token.
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class CallbackView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        """The CAS sends the browser back with a ticket: validate it, then log in."""
        provider = get_adapter().get_provider(request, CransProvider.id)
        ticket = request.GET.get("ticket", "")
        if not ticket:
            return render_authentication_error(request, provider, error=AuthError.CANCELLED)
        try:
            state = self.unstash_state(request, provider)
            identity = validate_ticket(provider.get_settings(), ticket, state["service_url"])
            sociallogin = provider.sociallogin_from_response(request, identity)
            sociallogin.state = state
            with transaction.atomic():
                LoginLock.acquire(sociallogin.account.uid)
                # A row an older provider stored un-normalised ("Bob") becomes
                # this uid's row, whatever the process: never a second account.
                join_old_account(sociallogin.account.uid)
                # A connection (from the account connections page) goes to the
                # logged-in user, as allauth decides. Any other process picks
                # the account by the first-login rules: allauth takes an
                # unknown one (?process=foo) for a login.
                if state.get("process") != AuthProcess.CONNECT:
                    prepare_first_login(sociallogin)
                response = complete_social_login(request, sociallogin)
                # Logged in now or later in this session (signup form, e-mail
                # confirmation): single logout ends the session either way.
                record_login(request, ticket, sociallogin.account)
        except IntegrityError as error:
            return self.error(request, provider, AccountConflict(str(error)))
        except CasError as error:
            return self.error(request, provider, error)
        return response

    def post(self, request: HttpRequest) -> HttpResponse:
        """Single logout: end the sessions that carry the tickets the CAS server names.

        Only the CAS server's addresses may ask (``LOGOUT_REQUEST_ADDRESSES``).
        """
        provider = get_adapter().get_provider(request, CransProvider.id)
        if not is_cas_server(request.META["REMOTE_ADDR"], provider.get_settings()):
            logger.warning(
                "Single-logout request from %s refused: not an address of the CAS server.",
                request.META["REMOTE_ADDR"],
            )
            return HttpResponseForbidden()
        try:
            tickets = logout_request_tickets(request.POST.get("logoutRequest", ""))
        except etree.XMLSyntaxError as error:
            logger.warning(
                "Malformed single-logout request from %s: %s", request.META["REMOTE_ADDR"], error
            )
            return HttpResponseBadRequest()
        ended = ServiceTicket.objects.end_sessions(tickets)
        logger.info(
            "Single logout from %s: %d session(s) ended.", request.META["REMOTE_ADDR"], ended
        )
        return HttpResponse()

    @staticmethod
    def unstash_state(request: HttpRequest, provider: CransProvider) -> dict:
        try:
            state = provider.unstash_redirect_state(request, request.GET.get("state", ""))
        except PermissionDenied as error:
            raise LoginExpired("no pending login for this state") from error
        if not isinstance(state.get("service_url"), str):
            raise LoginExpired("the state has no service URL")
        return state

    @staticmethod
    def error(request: HttpRequest, provider: CransProvider, error: CasError) -> HttpResponse:
        logger.warning("CAS login failed (%s): %s", type(error).__name__, error)
        messages.error(request, error.message)
        return render_authentication_error(request, provider, error=error.code, exception=error)


class LogoutView(AccountLogoutView):
    """allauth's logout; with ``LOGOUT_FROM_CAS``, then the CAS logout page."""

    def get_redirect_url(self) -> str:
        url = super().get_redirect_url()
        settings = get_adapter().get_provider(self.request, CransProvider.id).get_settings()
        if not settings["LOGOUT_FROM_CAS"]:
            return url
        return cas_client(settings).get_logout_url(self.request.build_absolute_uri(url))


login = LoginView.as_view()
callback = CallbackView.as_view()
logout = LogoutView.as_view()
