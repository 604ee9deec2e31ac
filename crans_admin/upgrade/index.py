"""A search index the old site built: fields that the installed hyperkitty does not index.

haystack opens a Whoosh index with the schema of the installed search
indexes, whatever the index holds: an index built by another hyperkitty
answers with missing or wrong fields. Rebuilt by ``mailman-web rebuild_index``
(long: the upgrade never does it itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StaleIndex:
    path: Path
    missing: tuple[str, ...]  # fields the installed hyperkitty indexes, absent from the index
    extra: tuple[str, ...]  # fields of the index that nothing indexes any more
    unreadable: str = ""  # why the index cannot be opened


def stale_index() -> StaleIndex | None:
    """The Whoosh index, when it is not the one the installed search indexes build; else None."""
    from haystack import connections

    options = connections.connections_info["default"]
    if "whoosh" not in options.get("ENGINE", "").lower() or not options.get("PATH"):
        return None  # another engine: its own server checks its schema
    from whoosh.index import exists_in, open_dir

    path = Path(options["PATH"])
    if not (path.is_dir() and exists_in(str(path))):
        return None  # no index at all: the doctor's search check says so
    backend = connections["default"].get_backend()
    _, wanted = backend.build_schema(connections["default"].get_unified_index().all_searchfields())
    try:
        held = open_dir(str(path)).schema
    except Exception as exception:  # a pickle of classes gone, a truncated file
        return StaleIndex(path, (), (), f"{type(exception).__name__}: {exception}")
    missing = tuple(sorted(set(wanted.names()) - set(held.names())))
    extra = tuple(sorted(set(held.names()) - set(wanted.names())))
    return StaleIndex(path, missing, extra) if missing or extra else None
