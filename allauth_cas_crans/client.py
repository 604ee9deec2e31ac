"""The CAS protocol side: ticket validation and single-logout requests, on python-cas."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import requests
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.base import AuthError
from cas import CASClient, CASClientBase, CASClientV2, CASClientWithSAMLV1
from django.utils.translation import gettext_lazy as _
from lxml import etree
from requests.structures import CaseInsensitiveDict

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


class CasTooSlow(CasUnavailable):
    """The CAS did not answer in full before the deadline (``TIMEOUT``)."""


class MalformedAnswer(CasError):
    message = _("The Crans CAS sent an answer that cannot be understood. Please try again later.")


class AnswerTooLarge(MalformedAnswer):
    """The CAS answer is longer than ``MAX_ANSWER_SIZE``."""


class UnusableIdentity(CasError):
    message = _(
        "The Crans CAS gave a username that this site cannot use. Please contact the "
        "administrators."
    )


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
    """The ``session`` python-cas calls: requests that end by a deadline, with a bounded answer.

    Each request runs on the standard library's ``http.client``, watched by a
    timer that cuts the connection at the deadline: a CAS that sends its
    answer (headers included) one byte at a time holds the worker no longer
    than ``timeout`` seconds from the session's creation. At most
    ``max_size`` bytes of the answer are read. HTTP errors raise.
    """

    def __init__(self, timeout: float, max_size: int) -> None:
        super().__init__()
        self.timeout = timeout
        self.max_size = max_size
        self.deadline = time.monotonic() + timeout

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        prepared = requests.Request(method, url, params=params, data=data, headers=headers)
        prepared = prepared.prepare()
        status, answer_headers, content = self.fetch(prepared)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(answer_headers)
        response.url = prepared.url
        response.request = prepared
        response._content = content
        response._content_consumed = True
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.raise_for_status()
        return response

    def fetch(self, prepared: requests.PreparedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send ``prepared``; return the status, headers and body of the answer."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise CasTooSlow(f"no answer within {self.timeout} s")
        parts = urlsplit(prepared.url)
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=remaining, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=remaining)
        watchdog = Watchdog(remaining)
        connection._create_connection = watchdog.create_connection  # type: ignore[attr-defined]
        try:
            with watchdog:
                connection.request(
                    prepared.method or "GET",
                    f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/",
                    body=prepared.body,
                    headers={**prepared.headers, "Accept-Encoding": "identity"},
                )
                answer = connection.getresponse()
                declared = answer.getheader("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_size:
                    raise AnswerTooLarge(f"the answer announces {declared} bytes")
                content = answer.read(self.max_size + 1)
        except (OSError, http.client.HTTPException) as error:
            if watchdog.fired:
                raise CasTooSlow(f"no complete answer within {self.timeout} s") from error
            raise requests.ConnectionError(f"{type(error).__name__}: {error}") from error
        finally:
            connection.close()
        if watchdog.fired:
            raise CasTooSlow(f"no complete answer within {self.timeout} s")
        if len(content) > self.max_size:
            raise AnswerTooLarge(f"the answer is longer than {self.max_size} bytes")
        return answer.status, answer.getheaders(), content


class Watchdog:
    """Cuts a connection at the deadline, waking up the thread blocked reading it.

    A context manager around the exchange; its ``create_connection`` opens the
    socket (for TLS too, before the handshake). Once the exchange is over,
    before the socket is closed, it cuts nothing.
    """

    def __init__(self, seconds: float) -> None:
        self.lock = threading.Lock()
        self.fileno: int | None = None
        self.fired = False
        self.over = False
        self.timer = threading.Timer(seconds, self.cut)
        self.timer.daemon = True

    def create_connection(self, *args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(*args, **kwargs)
        with self.lock:
            self.fileno = sock.fileno()
        return sock

    def cut(self) -> None:
        with self.lock:
            if self.over:
                return
            self.fired = True
            if self.fileno is None:
                return
            sock = socket.socket(fileno=self.fileno)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                sock.detach()

    def __enter__(self) -> Watchdog:
        self.timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self.lock:
            self.over = True
        self.timer.cancel()


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

    Raises ``TicketRejected``, ``CasUnavailable`` (unreachable, HTTP error,
    ``CasTooSlow``), ``MalformedAnswer`` (``AnswerTooLarge``) or
    ``UnusableIdentity`` (a CAS user that cannot be a uid). Messages name the
    ticket by its beginning only.
    """
    with CasSession(settings["TIMEOUT"], settings["MAX_ANSWER_SIZE"]) as session:
        client = cas_client(settings, service_url, session)
        try:
            user, attributes = verify(client, ticket)
        except CasError as error:
            raise type(error)(redact(str(error), ticket)) from error
        except requests.RequestException as error:
            raise CasUnavailable(redact(f"{settings['SERVER_URL']}: {error}", ticket)) from error
        except MALFORMED_ANSWER_ERRORS as error:
            message = redact(f"{settings['SERVER_URL']}: {error!r}", ticket)
            raise MalformedAnswer(message) from error
    if not user or not user.strip():
        raise TicketRejected(f"{settings['SERVER_URL']} rejected ticket {short(ticket)}")
    uid_length = SocialAccount._meta.get_field("uid").max_length
    if len(user.strip()) > uid_length or not user.strip().isprintable():
        raise UnusableIdentity(
            f"the CAS user {user[:40]!r}... is longer than {uid_length} characters or "
            "holds control characters"
        )
    return CasIdentity(user=user, attributes=attributes or {})


def short(ticket: str) -> str:
    """The beginning of ``ticket``, enough to tell it apart in a log, useless to replay."""
    return f"{ticket[:8]}..."


def redact(text: str, ticket: str) -> str:
    """``text`` with ``ticket`` shortened (error messages may quote the validation URL)."""
    return text.replace(ticket, short(ticket)) if ticket else text


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
            f"{client.server_url} rejected ticket {short(ticket)}: "
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


def is_cas_server(address: str, settings: CransSettings) -> bool:
    """Whether ``address`` (a request's ``REMOTE_ADDR``) may send single-logout requests.

    Allowed: ``LOGOUT_REQUEST_ADDRESSES``, or when it is None the addresses
    the host of ``SERVER_URL`` resolves to now.
    """
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    allowed = settings["LOGOUT_REQUEST_ADDRESSES"]
    if allowed is None:
        host = urlsplit(settings["SERVER_URL"]).hostname or ""
        try:
            allowed = [info[4][0] for info in socket.getaddrinfo(host, None)]
        except OSError:
            return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in allowed)
