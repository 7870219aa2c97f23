"""Finding and reading vault files: sources, scope, hidden folders, bad files."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import NotFound, ValidationError

TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text"}
BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Scope:
    """What one ingestion covers: a folder or a file inside one source."""

    source: str
    root: Path
    """The source's root folder (resolved)."""
    relative: str
    """Posix path of the scope inside the root; '' for the whole source."""
    is_file: bool

    def contains(self, document_path: str) -> bool:
        if self.relative == "":
            return True
        if self.is_file:
            return document_path == self.relative
        return document_path == self.relative or document_path.startswith(self.relative + "/")


@dataclass
class ReadFile:
    text: str
    content_hash: str
    size: int
    mtime: float
    kind: str


class Skip(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user."""


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def resolve_scope(path: str | Path, sources: dict[str, Path]) -> Scope:
    """Map a user-given path onto a configured source, refusing anything outside.

    A relative path is tried against each source root, then against the working
    directory (a server's working directory is nobody's business, so the
    sources come first). Symlinks are resolved first, so a link cannot escape
    a source.
    """
    if not sources:
        raise ValidationError("no sources are configured: set sources.vault (or --vault)")
    raw = Path(path).expanduser()
    candidates = [raw] if raw.is_absolute() else [*[root / raw for root in sources.values()], Path.cwd() / raw]
    existing = [c for c in candidates if c.exists()]
    if not existing:
        raise NotFound(f"path not found: {path}")
    roots = {name: root.resolve() for name, root in sources.items()}
    for candidate in existing:
        resolved = candidate.resolve()
        for name, root in roots.items():
            if resolved == root or root in resolved.parents:
                relative = resolved.relative_to(root).as_posix()
                relative = "" if relative == "." else relative
                if any(is_hidden(part) for part in Path(relative).parts):
                    raise ValidationError(f"path is inside a hidden folder: {path}")
                return Scope(name, root, relative, resolved.is_file())
    allowed = ", ".join(f"{n}={r}" for n, r in roots.items())
    raise ValidationError(f"path is outside the configured sources ({allowed}): {path}")


def source_scope(name: str, root: Path) -> Scope:
    if not root.is_dir():
        raise NotFound(f"source {name!r} folder does not exist: {root}")
    return Scope(name, root.resolve(), "", False)


def walk(scope: Scope) -> list[str]:
    """Every non-hidden file in the scope, as sorted posix paths relative to the root."""
    if scope.is_file:
        return [scope.relative]
    start = scope.root / scope.relative if scope.relative else scope.root
    found: list[str] = []
    for folder, dirs, files in os.walk(start, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        base = Path(folder)
        for name in files:
            if is_hidden(name):
                continue
            found.append((base / name).relative_to(scope.root).as_posix())
    return sorted(found)


def read_file(root: Path, relative: str, max_bytes: int) -> ReadFile:
    """Read and check one file; raises :class:`Skip` with the reason if it is unusable.

    Plain ``os`` calls on strings, one ``lstat`` for a regular file: the
    ``pathlib`` version (a Path per file, ``is_symlink`` then ``stat`` then
    ``read_bytes``) took about twice as long, a fifth of a 5,000-note ingest.
    """
    path = os.path.join(root, relative)
    suffix = os.path.splitext(relative)[1]
    kind = TEXT_SUFFIXES.get(suffix.lower())
    if kind is None:
        raise Skip(f"unsupported file type ({suffix or 'no extension'})")
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            if root not in Path(path).resolve().parents:
                raise Skip("symlink points outside the source")
            info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a named pipe would block the read
            raise Skip("not a regular file")
        if info.st_size > max_bytes:
            raise Skip(f"too large ({info.st_size:,} bytes; limit {max_bytes:,})")
        with open(path, "rb", buffering=0) as handle:
            data = handle.readall()
    except OSError as exc:
        raise Skip(f"unreadable: {exc.strerror or exc}") from None
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise Skip("binary content")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Skip(f"not UTF-8 (invalid byte at offset {exc.start})") from None
    return ReadFile(
        text=text,
        content_hash=hashlib.sha256(data).hexdigest(),
        size=len(data),
        mtime=info.st_mtime,
        kind=kind,
    )
