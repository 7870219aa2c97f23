"""Theme files: YAML in ``themes/`` (and an optional user folder), validated
and turned into Textual ``Theme`` objects. A bad file is reported, never fatal.

A theme file::

    name: atocore-dark          # required, lowercase letters, digits, dashes
    dark: true
    primary: "#5fafff"          # required; the other colours are optional
    secondary: "#87d7af"
    background: "#11151c"
    variables:                  # extra theme variables, e.g. the tier-bar colours
      tier-used: "#5fafff"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from textual.color import Color, ColorParseError
from textual.theme import Theme

BUNDLED_THEMES = Path(__file__).resolve().parent.parent.parent / "themes"
COLOUR_KEYS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground",
               "background", "surface", "panel", "boost")
OTHER_KEYS = ("name", "dark", "variables", "luminosity_spread", "text_alpha")
TIER_VARIABLES = {
    "tier-used": "$primary",
    "tier-share": "$primary 25%",
    "tier-over": "$warning",
    "tier-empty": "$panel",
}
"""Theme variables the tier bars read; a theme may set any of them."""
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


@dataclass
class ThemeProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.message}"


def _colour(value, where: str) -> str:
    try:
        Color.parse(str(value))
    except ColorParseError:
        raise ValueError(f"{where}: not a colour: {value!r}") from None
    return str(value)


def parse_theme(path: Path) -> Theme:
    """One theme file -> a Theme; ValueError with a readable reason otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{line}invalid YAML") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("a theme file is a mapping of name, colours and variables")
    unknown = sorted(set(data) - set(COLOUR_KEYS) - set(OTHER_KEYS))
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError("name must be lowercase letters, digits and dashes")
    if "primary" not in data:
        raise ValueError("primary colour is required")
    colours = {key: _colour(data[key], key) for key in COLOUR_KEYS if data.get(key) is not None}
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ValueError("variables must be a mapping")
    variables = {str(k): str(v) for k, v in variables.items()}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("dark must be true or false")
    return Theme(name=name, dark=dark, variables=variables, **cast(dict[str, Any], colours))


def load_themes(*folders: Path | None) -> tuple[list[Theme], list[ThemeProblem]]:
    """Every valid theme file in the folders (later folders win on a name clash)."""
    themes: dict[str, Theme] = {}
    problems: list[ThemeProblem] = []
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                theme = parse_theme(path)
            except ValueError as exc:
                problems.append(ThemeProblem(path, str(exc)))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
