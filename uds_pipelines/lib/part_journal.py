"""All-or-nothing changes to several files of one folder: pending files, then a journal, then renames.

A keyed table's merge (`keyed_parts`) writes a new part and rewrites or deletes the parts that held
the keys it changed. Readers and a replay after a crash must see the folder before or after the
whole change, never between: a replay's SQL reads the table it merges into, and a key found in two
parts (or in none) would change what it computes. So a change

1. writes every new file as a pending file (`.<name>.<host>-<pid>.pending`: no reader's `*.parquet`
   glob sees it; the stale-temp sweep removes it once its writer is dead, unless a journal vouches
   for it: the erasure's sweep must reach a crashed writer's personal data),
2. commits by publishing the journal (`.journal.json`: renames and deletions) in one atomic write,
3. renames each pending file over its final name, deletes, and removes the journal.

`recover` finishes a committed change (each step can be repeated); whoever lists the folder calls it
first. The folder's writer also removes, before it writes, the pending files of a change a crash
left uncommitted.
"""

from __future__ import annotations

import json
from pathlib import Path

from uds_pipelines.lib import lake, storage

JOURNAL = lake.PART_JOURNAL
PENDING_SUFFIX = ".pending"


def pending_name(final_name: str) -> str:
    """This process's pending file for `final_name` (the same name on every call)."""
    return f".{final_name}.{lake.writer_id()}{PENDING_SUFFIX}"


def commit(folder: Path, written: list[str], deleted: list[str]) -> None:
    """Make the pending files of `written` (final names) visible and delete `deleted`, all or nothing."""
    if not written and not deleted:
        return
    journal = folder / JOURNAL
    pending = [[name, pending_name(name)] for name in written]
    missing = sorted(set(p for _, p in pending) - set(_names(folder)))
    if missing:  # swept as a dead writer's, say: committing would delete parts and write nothing
        raise RuntimeError(f"pending parts missing in {folder.name}, nothing committed: {missing}")
    tmp = lake.temp_path_for(journal)
    tmp.write_text(json.dumps({"written": pending, "deleted": deleted}))
    storage.publish(tmp, journal)
    recover(folder)


def recover(folder: Path, drop_uncommitted: bool = False) -> None:
    """Finish the change a journal describes (anyone may, and two may at once); with
    `drop_uncommitted` (the folder's one writer, before it writes), also delete pending files no
    journal vouches for: a crashed writer's."""
    names = _names(folder)
    change = None
    if JOURNAL in names:
        try:
            change = json.loads((folder / JOURNAL).read_text())
        except FileNotFoundError:  # another reader finished the change since the listing
            names = _names(folder)
    if change is not None:
        lost = False
        for entry in change["written"]:
            # [final, pending]; a journal written before pending names carried their writer: final
            name, pending = entry if isinstance(entry, list) else (entry, f".{entry}{PENDING_SUFFIX}")
            lost = lost or (pending not in names and name not in names)
            if pending in names:
                _quietly(storage.rename, folder / pending, folder / name)
                names.remove(pending)
        # a written part neither pending nor in place: keep what it was to replace rather than lose both
        for name in change["deleted"] if not lost else ():
            if name in names:
                _quietly(storage.remove, folder / name)
        _quietly(storage.remove, folder / JOURNAL)
    for name in names if drop_uncommitted else ():
        if name.startswith(".") and name.endswith(PENDING_SUFFIX):
            storage.remove(folder / name)


def _quietly(action, *paths: Path) -> None:
    try:
        action(*paths)
    except FileNotFoundError:  # another reader finished this step first
        pass


def _names(folder: Path) -> list[str]:
    if storage.is_remote(folder):
        return storage.list_names(folder)
    return [p.name for p in folder.iterdir()] if folder.is_dir() else []
