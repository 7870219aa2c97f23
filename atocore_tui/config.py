"""Settings: defaults < YAML config file < ``ATOCORE_*`` environment < CLI flags.

Every setting is a field of a small dataclass below; its environment variable is
derived from its dotted name (``ingest.max_file_bytes`` ->
``ATOCORE_INGEST_MAX_FILE_BYTES``), with a few short aliases. A bad config file
raises :class:`ConfigError` naming the file and the line.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs
import yaml

from .errors import ConfigError

APP_NAME = "atocore-tui"
SOURCE_NAMES = ("vault", "drive")


@dataclass
class SourcesSettings:
    """Folders the engine may ingest from; every ingested path lies inside one."""

    vault: Path | None = None
    drive: Path | None = None


@dataclass
class IngestSettings:
    max_file_bytes: int = 2_000_000
    chunk_max_chars: int = 1200
    chunk_min_chars: int = 200
    lock_timeout: float = 0.0
    """Seconds to wait for another process's ingestion to finish; 0 refuses at once."""


@dataclass
class EmbeddingSettings:
    model: str = ""
    """A local model2vec folder; empty means the model bundled in the package."""
    allow_download: bool = False
    """Let a non-path model name be fetched from the hub. Off: offline always."""
    batch_size: int = 512


@dataclass
class IndexSettings:
    dtype: str = "f16"
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 128
    exact_below: int = 50_000
    """Below this many vectors, search is exact (a brute-force scan: 1.2 ms for
    20k vectors here), so answers do not depend on how the graph was built."""


@dataclass
class RetrievalSettings:
    top_k: int = 10
    candidates: int = 60
    rrf_k: int = 10
    """Kept for old config files; fusion is by standardised scores now."""
    semantic: bool = True
    """Use the semantic model's vectors (filled in after ingestion) where they cover a chunk."""
    semantic_threads: int = 1
    """Threads of the semantic pass; 1 leaves the other cores to the user."""
    semantic_background: bool = True
    """Start the semantic pass by itself: in a detached low-priority process after
    a CLI ingest, in a background thread of the workstation and the server (at
    start and after each ingestion). Off: only ``atocore-tui index semantic``."""
    lexical_weight: float = 0.35
    """Share of BM25 in the fused score; the vector side has the rest."""
    static_lexical_weight: float = 0.5
    """BM25's share where the static model stands in for the semantic one (no
    semantic vector yet, or semantic off): the static model is weaker."""
    adaptive_power: float = 0.0
    """Scale each side's share per query by how far its best answer stands out
    (its top z-score to this power); 0 keeps the shares fixed."""
    norm_depth: int = 200
    """How many of each side's best answers standardise its scores."""
    project_boost: float = 0.5
    """Added to the fused score (in standard deviations) of chunks of the hinted project."""
    duplicate_similarity: float = 0.97
    max_postings: int = 5000
    """Full-text work budget per query: the most common terms are left out of
    the match until the chunks they appear in add up to this (at least one
    term always stays). Small vaults never reach it."""


@dataclass
class ExtractionSettings:
    on_record: bool = True
    """Propose candidate memories from every recorded interaction."""
    command: str = ""
    """An external extractor (e.g. a local LLM CLI), split like a shell line but
    never run through one; JSON in on stdin, candidates out on stdout. Off when empty."""
    timeout: float = 30.0


@dataclass
class ContextSettings:
    budget: int = 3000


@dataclass
class TuiSettings:
    theme: str = ""
    """A Textual or themes/ theme name; empty = the last one chosen in the app."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. ``{review.promote: "y"}`` (``ATOCORE_TUI_KEYMAP``:
    ``review.promote=y,pane.graph=G``)."""
    themes_dir: Path | None = None
    """Extra folder of theme files, read beside the bundled themes/."""


@dataclass
class DatabaseSettings:
    synchronous: str = "normal"
    """SQLite's durability: ``normal`` (WAL default: a power loss may drop the
    last transactions, never corrupts) or ``full`` (every commit is synced
    to disk: nothing acknowledged is lost on power loss; commits are slower)."""


@dataclass
class BackupSettings:
    keep: int = 0
    """Backups kept: after each new backup the oldest beyond this many are
    deleted. 0 (the default) keeps every backup: deleting a user's backups
    is opt-in."""


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))
    sources: SourcesSettings = field(default_factory=SourcesSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    extraction: ExtractionSettings = field(default_factory=ExtractionSettings)
    tui: TuiSettings = field(default_factory=TuiSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    backup: BackupSettings = field(default_factory=BackupSettings)
    config_path: Path | None = None
    """The file these settings were read from (not itself a setting)."""

    def source_root(self, name: str) -> Path | None:
        return getattr(self.sources, name)

    def configured_sources(self) -> dict[str, Path]:
        return {n: p for n in SOURCE_NAMES if (p := self.source_root(n)) is not None}


ENV_ALIASES = {
    "ATOCORE_VAULT": "sources.vault",
    "ATOCORE_DRIVE": "sources.drive",
}
_NOT_SETTINGS = {"config_path"}
_INDEX_DTYPES = ("f16", "f32", "i8")


def bundled_sample_vault() -> Path | None:
    """The sample vault beside the package (a source checkout or editable install)."""
    candidate = Path(__file__).resolve().parent.parent / "sample_vault"
    return candidate if candidate.is_dir() else None


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.yaml"


def load_settings(
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the layers in order; later layers win."""
    env = os.environ if env is None else env
    settings = Settings()
    explicit = config_path is not None or "ATOCORE_CONFIG" in env
    path = Path(config_path or env.get("ATOCORE_CONFIG") or default_config_path()).expanduser()
    if path.exists() or explicit:
        _apply_file(settings, path)
        settings.config_path = path
    _apply_env(settings, env)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _assign(settings, dotted, value, origin=f"option for {dotted}")
    if settings.sources.vault is None and settings.sources.drive is None:
        settings.sources.vault = bundled_sample_vault()
    _validate(settings)
    return settings


def setting_names() -> list[str]:
    """Every dotted setting name, for help texts and docs."""
    return [name for name, _ in _leaves(Settings)]


def env_name(dotted: str) -> str:
    return "ATOCORE_" + dotted.replace(".", "_").upper()


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, Any]]:
    hints = get_type_hints(cls)
    out: list[tuple[str, Any]] = []
    for f in dataclasses.fields(cls):
        if f.name in _NOT_SETTINGS:
            continue
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            out.extend(_leaves(hint, f"{prefix}{f.name}."))
        else:
            out.append((f"{prefix}{f.name}", hint))
    return out


_LEAF_TYPES = dict(_leaves(Settings))


def _convert(dotted: str, value: Any) -> Any:
    hint = _LEAF_TYPES[dotted]
    if value is None:
        if hint in (Path | None,):
            return None
        raise ValueError("must not be empty")
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected a whole number, got {value!r}")
        try:
            return int(str(value).strip().replace("_", ""))
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
    if hint is float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if not math.isfinite(number):  # .nan passed every range check, then broke a lock wait
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if hint == dict[str, str]:
        if isinstance(value, str):
            pairs = [p for p in value.split(",") if p.strip()]
            if any("=" not in p for p in pairs):
                raise ValueError(f"expected id=keys pairs separated by commas, got {value!r}")
            value = dict(p.split("=", 1) for p in pairs)
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping, got {type(value).__name__}")
        return {str(k).strip(): str(v).strip() for k, v in value.items()}
    if hint in (Path, Path | None):
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected a path, got {type(value).__name__}")
        text = str(value).strip()
        if not text:
            return None if hint != Path else Path(".")
        return Path(text).expanduser()
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value)


def _assign(settings: Settings, dotted: str, value: Any, origin: str,
            base_dir: Path | None = None, line: int | None = None,
            file: Path | None = None) -> None:
    if dotted not in _LEAF_TYPES:
        raise ConfigError(f"unknown setting {dotted!r} ({origin})", str(file) if file else None, line)
    try:
        converted = _convert(dotted, value)
    except ValueError as exc:
        raise ConfigError(f"{dotted}: {exc} ({origin})", str(file) if file else None, line) from None
    if isinstance(converted, Path) and base_dir is not None and not converted.is_absolute():
        converted = (base_dir / converted)
    target: Any = settings
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = getattr(target, part)
    setattr(target, leaf, converted)


def _apply_file(settings: Settings, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", str(path)) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", str(path), line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", str(path)) from None
    if root is None:
        return
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError("the config file must be a mapping of settings", str(path), root.start_mark.line + 1)
    _apply_node(settings, root, "", path)


def _apply_node(settings: Settings, node: yaml.MappingNode, prefix: str, path: Path) -> None:
    loader = yaml.SafeLoader("")
    for key_node, value_node in node.value:
        key = str(key_node.value)
        dotted = prefix + key
        line = key_node.start_mark.line + 1
        if isinstance(value_node, yaml.MappingNode) and _LEAF_TYPES.get(dotted) != dict[str, str]:
            if not any(name.startswith(dotted + ".") for name in _LEAF_TYPES):
                raise ConfigError(f"unknown setting section {dotted!r}", str(path), line)
            _apply_node(settings, value_node, dotted + ".", path)
            continue
        if dotted not in _LEAF_TYPES:
            if any(name.startswith(dotted + ".") for name in _LEAF_TYPES):
                raise ConfigError(f"{dotted!r} is a section: expected a mapping", str(path), line)
            raise ConfigError(f"unknown setting {dotted!r}", str(path), line)
        value = loader.construct_object(value_node, deep=True)
        _assign(settings, dotted, value, origin="config file", base_dir=path.parent,
                line=value_node.start_mark.line + 1, file=path)


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    names = {env_name(dotted): dotted for dotted in _LEAF_TYPES}
    names.update(ENV_ALIASES)
    for var, dotted in names.items():
        if var in env:
            _assign(settings, dotted, env[var], origin=f"environment variable {var}")


def _validate(settings: Settings) -> None:
    def bad(message: str) -> None:
        where = str(settings.config_path) if settings.config_path else None
        raise ConfigError(message, where)

    if settings.index.dtype not in _INDEX_DTYPES:
        bad(f"index.dtype must be one of {', '.join(_INDEX_DTYPES)}, got {settings.index.dtype!r}")
    positive = {
        "ingest.max_file_bytes": settings.ingest.max_file_bytes,
        "ingest.chunk_max_chars": settings.ingest.chunk_max_chars,
        "embedding.batch_size": settings.embedding.batch_size,
        "retrieval.top_k": settings.retrieval.top_k,
        "retrieval.candidates": settings.retrieval.candidates,
        "retrieval.rrf_k": settings.retrieval.rrf_k,
        "retrieval.max_postings": settings.retrieval.max_postings,
        "retrieval.norm_depth": settings.retrieval.norm_depth,
        "retrieval.semantic_threads": settings.retrieval.semantic_threads,
        "index.connectivity": settings.index.connectivity,
    }
    for name, value in positive.items():
        if value <= 0:
            bad(f"{name} must be positive, got {value}")
    if not 0 <= settings.ingest.chunk_min_chars < settings.ingest.chunk_max_chars:
        bad("ingest.chunk_min_chars must be at least 0 and below ingest.chunk_max_chars")
    if settings.context.budget < 0:
        bad(f"context.budget must not be negative, got {settings.context.budget}")
    if not 0 < settings.retrieval.duplicate_similarity <= 1:
        bad("retrieval.duplicate_similarity must lie in (0, 1]")
    if not 0 <= settings.retrieval.lexical_weight <= 1:
        bad("retrieval.lexical_weight must lie in [0, 1]")
    if not 0 <= settings.retrieval.static_lexical_weight <= 1:
        bad("retrieval.static_lexical_weight must lie in [0, 1]")
    if not 0 <= settings.retrieval.adaptive_power <= 4:
        bad("retrieval.adaptive_power must lie in [0, 4]")
    if settings.extraction.timeout <= 0:
        bad("extraction.timeout must be positive")
    if settings.ingest.lock_timeout < 0:
        bad("ingest.lock_timeout must not be negative")
    if settings.database.synchronous not in ("normal", "full"):
        bad(f"database.synchronous must be normal or full, got {settings.database.synchronous!r}")
    if settings.backup.keep < 0:
        bad(f"backup.keep must not be negative, got {settings.backup.keep}")
