"""What the checks that talk to a server share: their requests' timeout, the reason of a failure."""

from __future__ import annotations

import re

import requests
from django.utils.translation import gettext as _

from ..text import first_line

# Share of a check's timeout given to one network request, so that the check
# itself says what did not answer before its timeout runs out.
NETWORK_SHARE = 0.6


def network_timeout(timeout: float) -> float:
    """The seconds one request of a check with ``timeout`` may take."""
    return timeout * NETWORK_SHARE


def network_error(exception: BaseException) -> str:
    """The reason of a failed connection, without the layers of requests and urllib3."""
    text = str(exception)
    reason = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if reason:
        return reason.group(1)
    if isinstance(exception, requests.Timeout | TimeoutError) or "timed out" in text:
        return _("no answer in time")
    return first_line(exception)
