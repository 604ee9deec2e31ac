"""Read configuration and secrets from the environment."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def secret(name: str) -> str:
    """Return the secret ``name`` from ``$name`` or from the file named by ``$name_FILE``.

    A missing, empty or blank (whitespace only) secret stops start-up with a
    message naming the variable.
    """
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE")
    if not value.strip() and path:
        try:
            value = Path(path).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE names {path!r}, which cannot be read: {error.strerror}."
            ) from error
    if not value.strip():
        raise ImproperlyConfigured(
            f"The secret {name} is not set (or blank): export {name}, or {name}_FILE "
            "with the path of a file that holds it."
        )
    return value


def setting(name: str, default: str) -> str:
    """Return ``$name``, or ``default`` when it is unset or empty."""
    return os.environ.get(name) or default
