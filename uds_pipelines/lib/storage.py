"""Where lake and export files live: a local folder, or S3-compatible object storage via fsspec.

Local paths are `pathlib.Path`; remote ones are `upath.UPath` objects, which offer the same
methods (`/`, `exists`, `iterdir`, `glob`, `open`, `unlink`, `stat`) over s3fs. Everything that
differs between the two (walking a tree, making a write visible, DuckDB access) is here.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

SUPPORTED_SCHEMES = ("s3",)

# Files with personal data are private to the user running the pipelines, whatever the umask:
# files 0600, folders 0700. UDS_FILE_MODE opts in to group access (640: the group may read,
# 660: it may also write; folders get x wherever r is set). Others never get any access.
FILE_MODE_VARIABLE = "UDS_FILE_MODE"
FILE_MODES = {0o600: 0o700, 0o640: 0o750, 0o660: 0o770}
_REMOTE_ROOTS: list = []  # every remote root opened in this process; DuckDB connections get their filesystems


def is_remote(path) -> bool:
    return not isinstance(path, Path)


@lru_cache(maxsize=8)
def remote_root(url: str, endpoint_url: str | None = None):
    """The UPath for `url`; credentials come from the usual AWS variables or instance role."""
    try:
        import s3fs  # noqa: F401  (UPath would fail later, with a less helpful message)
        from upath import UPath
    except ImportError as exc:
        raise RuntimeError(
            f"{url} is on object storage, which needs s3fs and universal_pathlib: "
            "pip install 'uds_pipelines[s3]'"
        ) from exc

    options: dict = {"use_listings_cache": False}  # other processes add files between our reads
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    root = UPath(url, **options)
    _REMOTE_ROOTS.append(root)
    return root


def register_with_duckdb(con) -> None:
    """Let DuckDB read and write `s3://...` through our fsspec filesystems (its own httpfs
    extension would have to be downloaded, which production images often cannot do)."""
    # DuckDB takes one filesystem per protocol: the store opened last wins (one store per process).
    by_protocol = {}
    for root in _REMOTE_ROOTS:
        protocol = root.fs.protocol if isinstance(root.fs.protocol, str) else root.fs.protocol[0]
        by_protocol[protocol] = root.fs
    for fs in by_protocol.values():
        con.register_filesystem(duckdb_filesystem(fs))


def duckdb_filesystem(fs):
    """`fs` as DuckDB is given it: the same store, with fewer requests per file DuckDB reads.

    Through s3fs, DuckDB's fsspec bridge costs per file and statement: an existence check (HEAD)
    or a glob (four listing requests per folder), then for each of the (up to three) times it opens
    the file a HEAD to open it and two more for its size and modification time. Here a glob of one
    folder (`folder/*.parquet`) is one listing request; the details (size, ETag, modification time)
    that listing or the existence check just returned are what the file is opened with, and size
    and modification time are answered from them, so each file costs that one request plus its
    reads. Every statement lists or checks a file before it opens it, which refreshes its details;
    details older than `SEEN_SECONDS`, or of a file this process has since written, renamed or
    deleted (`publish`, `rename`, `remove`), are not used (the file is asked again).
    """
    base = type(fs)
    cls = _DUCKDB_FILESYSTEM_CLASSES.get(base)
    if cls is None:
        cls = _DUCKDB_FILESYSTEM_CLASSES[base] = type(f"DuckDB{base.__name__}", (_FewerRequests, base), {})
    return cls(**fs.storage_options)


_DUCKDB_FILESYSTEM_CLASSES: dict[type, type] = {}
SEEN_SECONDS = 5.0
_SEEN: dict[str, tuple[float, dict]] = {}  # stripped path -> (monotonic time, details) for DuckDB's opens


def _forget(path) -> None:
    """Drop what DuckDB's filesystem last saw of `path` (this process changed it)."""
    if is_remote(path) and _SEEN:
        _SEEN.pop(str(path.path).rstrip("/"), None)


class _FewerRequests:
    """Mixin over an fsspec filesystem class; see `duckdb_filesystem`."""

    def _remember(self, details: dict) -> None:
        if details.get("type") == "file" and "size" in details:
            if len(_SEEN) > 10_000:  # a long-lived process: drop what is too old to be used
                now = time.monotonic()
                for stale in [k for k, (at, _d) in list(_SEEN.items()) if now - at > SEEN_SECONDS]:
                    _SEEN.pop(stale, None)
            _SEEN[self._strip_protocol(details["name"]).rstrip("/")] = (time.monotonic(), details)

    def _seen(self, path) -> dict | None:
        entry = _SEEN.get(self._strip_protocol(path).rstrip("/"))
        if entry is None or time.monotonic() - entry[0] > SEEN_SECONDS:
            return None
        return entry[1]

    def exists(self, path, **kwargs):
        _bucket, key, version = self.split_path(path)
        if not key or version or kwargs:
            return super().exists(path, **kwargs)
        try:
            details = self.info(path)  # one HEAD (a folder: a listing too), as s3fs's exists
        except FileNotFoundError:
            _SEEN.pop(self._strip_protocol(path).rstrip("/"), None)
            return False
        self._remember(details)
        return True

    def _open(self, path, mode="rb", **kwargs):
        seen = self._seen(path) if mode == "rb" and kwargs.get("size") is None else None
        if seen is not None:
            kwargs["size"] = seen["size"]
        handle = super()._open(path, mode, **kwargs)
        if seen is not None:
            handle.details = seen  # no HEAD: the details the statement's listing or check returned
        return handle

    def size(self, path):
        seen = self._seen(path)
        return seen["size"] if seen is not None else super().size(path)

    def modified(self, path):
        seen = self._seen(path)
        if seen is not None and seen.get("LastModified"):
            return seen["LastModified"]
        return super().modified(path)

    def glob(self, path, maxdepth=None, **kwargs):
        from fsspec.utils import glob_translate

        stripped = self._strip_protocol(path)
        folder, _slash, pattern = stripped.rpartition("/")
        simple = maxdepth is None and not kwargs and folder and not _has_magic(folder) and "**" not in pattern
        if not (simple and _has_magic(pattern)):
            return super().glob(path, maxdepth=maxdepth, **kwargs)
        try:
            entries = self.ls(folder, detail=True)  # one listing request
        except FileNotFoundError:
            return []
        matches = re.compile(glob_translate(stripped)).match
        found = []
        for entry in entries:
            name = entry["name"].rstrip("/")
            if matches(name):  # folders too, as fsspec's glob
                self._remember(entry)
                found.append(name)
        return sorted(found)


def _has_magic(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def key(path) -> str:
    """A comparable identity for a path: resolved local path, or the full URL."""
    return str(path.resolve()) if not is_remote(path) else str(path)


def as_path(value):
    """`value` as a path: strings become local paths, paths (local or remote) pass through."""
    return Path(value) if isinstance(value, str) else value


def same_kind_path(name: str, like):
    """A path for `name` (as DuckDB reports file names) on the storage of `like`."""
    if not is_remote(like):
        return Path(name)
    from upath import UPath

    return UPath(name, **like.storage_options)


def relative(path, root) -> str:
    """`path` below `root` as a slash-separated string."""
    if not is_remote(path):
        return str(path.relative_to(root))
    return str(path)[len(str(root)) :].lstrip("/")


def list_names(folder) -> list[str]:
    """Names of the entries directly in a remote folder; empty when there is none."""
    try:
        return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in folder.fs.ls(folder.path, detail=False)]
    except FileNotFoundError:
        return []


def walk_files(root, include_hidden: bool = False) -> Iterator:
    """Every file under `root` in sorted order; folders whose name starts with a dot (work in
    progress: claims, temp files) are skipped unless `include_hidden`."""
    if not is_remote(root):
        if not root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if include_hidden or not d.startswith("."))
            for name in sorted(filenames):
                yield Path(dirpath) / name
        return
    base = root.path.rstrip("/")
    for found in sorted(root.fs.find(base)):
        relative = found[len(base) :].lstrip("/")
        hidden = any(part.startswith(".") for part in relative.split("/")[:-1])
        if relative and (include_hidden or not hidden):
            yield root.joinpath(*relative.split("/"))


def file_mode(environ=None) -> int:
    """The mode for files with personal data (`UDS_FILE_MODE`, octal 600, 640 or 660; default 600)."""
    raw = ((os.environ if environ is None else environ).get(FILE_MODE_VARIABLE) or "600").strip()
    mode = int(raw, 8) if raw.isdigit() and len(raw) <= 4 else None
    if mode not in FILE_MODES:
        raise ValueError(
            f"{FILE_MODE_VARIABLE}={raw!r} must be 600 (owner only), 640 (group may read) or 660 (group may write)"
        )
    return mode


def dir_mode(environ=None) -> int:
    return FILE_MODES[file_mode(environ)]


def make_private_dirs(folder) -> None:
    """Create `folder` and its missing parents with `dir_mode()`, and close `folder` itself if it
    is more open (a folder from an earlier version), which also closes the older files inside it.

    Parents that already exist are left alone: above the lake they are the operator's. mkdir's
    mode is masked by the umask and makedirs applies it to the last folder only, hence chmod.
    Object stores have no folders (their access is the bucket's policy).
    """
    if is_remote(folder):
        return
    mode = dir_mode()
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        try:
            created.mkdir()
        except FileExistsError:
            continue  # a concurrent writer made it
        os.chmod(created, mode)
    if not missing:
        restrict_mode(folder, mode)


def restrict_mode(path: Path, mode: int) -> None:
    """Take away bits beyond `mode` from an existing local file or folder we own."""
    current = os.stat(path).st_mode & 0o777
    if current & ~mode:
        try:
            os.chmod(path, current & mode)
        except PermissionError:
            pass  # another user's folder: not ours to change


def fsync_dir(path) -> None:
    """Make a rename inside a local folder durable; object stores have no folders to sync."""
    if is_remote(path):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final) -> None:
    """Make the fully written local file `tmp` visible as `final`, all or nothing.

    Local: chmod to `file_mode()`, fsync, rename over `final`, fsync the folder. Object storage: one upload; S3 makes an
    object visible only when its PUT (or CompleteMultipartUpload) succeeds, and readers see the
    previous version until then, so a crash never exposes a partial file.
    """
    with open(tmp, "rb+") as handle:
        os.fchmod(handle.fileno(), file_mode())  # writers (DuckDB, Arrow, open) create with the umask
        os.fsync(handle.fileno())
    if is_remote(final):
        _forget(final)
        final.fs.put_file(str(tmp), final.path)
        _forget(final)
        return
    os.replace(tmp, final)
    fsync_dir(final.parent)


def rename(src, dst) -> None:
    """Move a file in the same store, replacing `dst` all at once (S3: server-side copy, then delete)."""
    if is_remote(src):
        _forget(src)
        _forget(dst)
        src.fs.mv(src.path, dst.path)
        _forget(src)
        _forget(dst)
        return
    os.replace(src, dst)
    fsync_dir(dst.parent)


def remove(path) -> None:
    """Delete a file durably."""
    _forget(path)
    path.unlink()
    fsync_dir(path.parent)
