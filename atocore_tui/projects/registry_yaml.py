"""The registry's YAML mirror: reading a file or text, checking its structure
(errors name the line), and replacing a file in one step."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..errors import NotFound, ValidationError

REGISTRY_FILENAME = "projects.yaml"
BUNDLED_REGISTRY = Path(".atocore") / "projects.yaml"
"""Inside the vault: a hidden folder, so the ingester never reads it."""
YAML_VERSION = 1
YAML_HEADER = "# AtoCore project registry. Import with: atocore-tui projects import FILE\n"
ENTRY_KEYS = ("id", "aliases", "description", "ingest_roots")


def write_text(path: Path, text: str) -> None:
    """Replace a file in one step, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def read_yaml_input(text_or_path: str | Path) -> tuple[str, str]:
    """A Path, or a one-line string naming a file, is read; any other string is the YAML itself."""
    try:
        as_path = isinstance(text_or_path, Path) or (
            isinstance(text_or_path, str) and "\n" not in text_or_path
            and (Path(text_or_path).expanduser().is_file() or text_or_path.strip().endswith((".yaml", ".yml"))))
    except (OSError, RuntimeError, ValueError):  # no home directory for "~", a NUL, a name too long
        as_path = False
    if not as_path:
        return str(text_or_path), "registry YAML"
    path = Path(text_or_path).expanduser()
    if not path.is_file():
        raise NotFound(f"registry file not found: {path}")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except UnicodeDecodeError as error:
        raise ValidationError(f"{path}: not UTF-8 (invalid byte at offset {error.start})") from None


def parse_registry_yaml(text: str, origin: str) -> list[dict]:
    """The ``projects`` list of a registry file; structure errors name the line."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ValidationError(f"{origin}{line}: invalid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ValidationError(f"{origin}: invalid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("projects", []), list):
        raise ValidationError(f"{origin}: a registry is a mapping with a 'projects' list")
    if data.get("version", YAML_VERSION) != YAML_VERSION:
        raise ValidationError(f"{origin}: unsupported registry version {data.get('version')!r}")
    unknown_top = set(data) - {"version", "projects"}
    if unknown_top:
        raise ValidationError(f"{origin}: unknown keys {', '.join(sorted(map(str, unknown_top)))}")
    entries = data.get("projects") or []
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise ValidationError(f"{origin}: project #{index} must be a mapping of {', '.join(ENTRY_KEYS)}")
        unknown = set(entry) - set(ENTRY_KEYS)
        if unknown:
            raise ValidationError(f"{origin}: project #{index} has unknown keys "
                                  f"{', '.join(sorted(map(str, unknown)))} (allowed: {', '.join(ENTRY_KEYS)})")
    return entries
