"""The CAS protocol side: ticket validation and single-logout requests, on python-cas."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import requests
from allauth.socialaccount.providers.base import AuthError
from cas import CASClient, CASClientBase, CASClientV2, CASClientWithSAMLV1
from django.utils.translation import gettext_lazy as _
from lxml import etree

from .conf import CransSettings

CAS_NAMESPACE = "http://www.yale.edu/tp/cas"
SAML_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
# What python-cas raises while parsing an answer that is not a CAS answer.
MALFORMED_ANSWER_ERRORS = (
    ElementTree.ParseError,
    LookupError,
    AttributeError,
    StopIteration,
    ValueError,
)


class CasError(Exception):
    """A login that cannot go on; ``message`` is for the user, ``str()`` for the log."""

    message: str
    code: str = AuthError.UNKNOWN


class LoginExpired(CasError):
    message = _(
        "This sign-in attempt has expired or was already used. Please sign in through "
        "the Crans CAS again."
    )


class TicketRejected(CasError):
    message = _(
        "The Crans CAS did not confirm this sign-in: the ticket is invalid, expired or "
        "already used. Please sign in again."
    )
    code = AuthError.DENIED


class CasUnavailable(CasError):
    message = _("The Crans CAS cannot be reached at the moment. Please try again later.")


class MalformedAnswer(CasError):
    message = _("The Crans CAS sent an answer that cannot be understood. Please try again later.")


class AccountConflict(CasError):
    message = _(
        "Your account could not be saved because of a conflicting account. Please sign in "
        "again, or contact the administrators if it happens again."
    )


@dataclass(frozen=True)
class CasIdentity:
    """What the CAS says about a member: its login and the released attributes."""

    user: str
    attributes: dict[str, Any] = field(default_factory=dict)


class CasSession(requests.Session):
    """A requests session with a timeout on every request, failing on HTTP errors."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout
        self.hooks["response"].append(lambda response, **kwargs: response.raise_for_status())

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def cas_client(
    settings: CransSettings, service_url: str | None = None, session: CasSession | None = None
) -> CASClientBase:
    """Return python-cas' client for the configured CAS server and protocol version."""
    return CASClient(
        version=settings["VERSION"],
        server_url=settings["SERVER_URL"],
        service_url=service_url,
        renew=settings["RENEW"],
        session=session,
    )


def validate_ticket(settings: CransSettings, ticket: str, service_url: str) -> CasIdentity:
    """Ask the CAS server who ``ticket`` (issued for ``service_url``) belongs to.

    Raises ``TicketRejected``, ``CasUnavailable`` (unreachable, timeout, HTTP
    error) or ``MalformedAnswer``.
    """
    with CasSession(settings["TIMEOUT"]) as session:
        client = cas_client(settings, service_url, session)
        try:
            user, attributes = verify(client, ticket)
        except requests.RequestException as error:
            raise CasUnavailable(f"{settings['SERVER_URL']}: {error}") from error
        except MALFORMED_ANSWER_ERRORS as error:
            raise MalformedAnswer(f"{settings['SERVER_URL']}: {error!r}") from error
    if not user or not user.strip():
        raise TicketRejected(f"{settings['SERVER_URL']} rejected ticket {ticket[:12]}...")
    return CasIdentity(user=user, attributes=attributes or {})


def verify(client: CASClientBase, ticket: str) -> tuple[str | None, dict[str, Any] | None]:
    """Return the user and attributes python-cas reads in the CAS server's answer.

    python-cas reads any XML answer without a success as a refused ticket: a
    CAS 2 or 3 answer must first be a ``cas:serviceResponse``; its failure
    code goes to the log.
    """
    if not isinstance(client, CASClientV2) or isinstance(client, CASClientWithSAMLV1):
        user, attributes, _pgtiou = client.verify_ticket(ticket)
        return user, attributes
    answer = client.get_verification_response(ticket)
    root = ElementTree.fromstring(answer)
    if root.tag != f"{{{CAS_NAMESPACE}}}serviceResponse":
        raise MalformedAnswer(f"{client.server_url} answered {answer[:100]!r}")
    failure = root.find(f"{{{CAS_NAMESPACE}}}authenticationFailure")
    if failure is not None:
        raise TicketRejected(
            f"{client.server_url} rejected ticket {ticket[:12]}...: "
            f"{failure.get('code')} {(failure.text or '').strip()}"
        )
    user, attributes, _pgtiou = client.verify_response(answer)
    return user, attributes


def logout_request_tickets(logout_request: str) -> list[str]:
    """Return the service tickets named by a SAML ``LogoutRequest`` (single logout).

    Raises ``etree.XMLSyntaxError`` when it is not XML. Entities are not
    resolved and nothing is fetched: the request comes from anyone who can POST.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(logout_request.encode(), parser)
    return [
        index.text.strip()
        for index in root.iter(f"{{{SAML_PROTOCOL}}}SessionIndex")
        if index.text and index.text.strip()
    ]
