"""Who changes what, for the log of changes made outside the admin."""

import getpass
import os


def command_actor(command: str) -> str:
    """Describe who runs ``command``: the Unix user, and the one behind ``sudo``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (containers)
        user = f"uid {os.getuid()}"
    sudo_user = os.environ.get("SUDO_USER")
    by = f"{user} (sudo from {sudo_user})" if sudo_user else user
    return f"{by} through the {command} command"
