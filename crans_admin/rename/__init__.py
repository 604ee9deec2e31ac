"""Renaming a mailing list, on mailman-web's side and on Mailman core's.

What the command, the admin, the doctor and the benchmarks use is here; the
modules behind it:

- :mod:`.names`: posting addresses and list-ids, checked as Mailman does;
- :mod:`.plan`: everything checked and counted before anything changes (the
  dry run, the admin's report);
- :mod:`.core_options`: where Mailman core's side is (the admin's settings, the
  command's options);
- :mod:`.mailman_core`: Mailman core's side (its database, its folders, its
  REST API, ``mailman aliases``);
- :mod:`.web_rows`: the web database's rows; :mod:`.search_index`: the search
  index;
- :mod:`.journal`: every rename is recorded before anything moves, step by
  step, so that a rename interrupted anywhere can be resumed or rolled back;
- :mod:`.steps`: the steps, each with its change and its undoing, and the
  functions that run them (rename, resume, rollback);
- :mod:`.aliases`: the Postfix map that keeps mail to old addresses arriving;
- :mod:`.redirects`: old URLs of a renamed list answer 301 to the new ones;
- :mod:`.exceptions`: ``RenameError`` and its kinds.
"""

from .core_options import (
    CoreOptions,
    command_core_options,
    command_db_url,
    read_db_url,
    settings_core_options,
)
from .exceptions import (
    CoreServesOldName,
    MailmanCoreError,
    RenameError,
    UnfinishedRename,
    unfinished_message,
)
from .journal import history, history_of_list, unfinished_rename_of, unfinished_renames
from .names import DISPLAY_NAME_MAX_LENGTH, NAME_MAX_LENGTH, ListName, parse_list_name
from .plan import RenamePlan, plan_rename
from .search_index import Reindexed, reindex_list, reindex_renamed_list
from .steps import (
    RenameReport,
    apply_rename,
    check_no_unfinished_rename,
    find_unfinished,
    plan_digest,
    resume_rename,
    rollback_rename,
    unfinished_same_rename,
)
from .web_rows import rename_web_rows

__all__ = [
    "DISPLAY_NAME_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "CoreOptions",
    "CoreServesOldName",
    "ListName",
    "MailmanCoreError",
    "Reindexed",
    "RenameError",
    "RenamePlan",
    "RenameReport",
    "UnfinishedRename",
    "apply_rename",
    "check_no_unfinished_rename",
    "command_core_options",
    "command_db_url",
    "find_unfinished",
    "history",
    "history_of_list",
    "parse_list_name",
    "plan_digest",
    "plan_rename",
    "read_db_url",
    "reindex_list",
    "reindex_renamed_list",
    "rename_web_rows",
    "resume_rename",
    "rollback_rename",
    "settings_core_options",
    "unfinished_message",
    "unfinished_rename_of",
    "unfinished_renames",
    "unfinished_same_rename",
]
