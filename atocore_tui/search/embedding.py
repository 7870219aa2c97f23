"""Static embeddings with model2vec; the default model ships in the package.

The model is loaded on first use (0.2-0.3 s), never at import. A configured
model that is a folder on disk replaces the bundled one; a name that is not a
folder is refused unless ``embedding.allow_download`` is set, because model2vec
would otherwise treat it as a hub id and reach for the network.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

BUNDLED_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"
REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")


def embedding_text(title: str, heading_path: str, content: str) -> str:
    """What a chunk's vector is computed from: where it sits, then what it says."""
    head = " > ".join(part for part in (title, heading_path) if part)
    return f"{head}\n{content}" if head else content


def model_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in REQUIRED_FILES:
        digest.update(name.encode())
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:16]


def _load_folder(folder: Path):
    """A model2vec model from a local folder, as ``StaticModel.from_pretrained``
    builds it, without importing the hub client and its model cards (which
    took 0.27 s of the 0.38 s load)."""
    import json

    import safetensors
    from model2vec import StaticModel
    from model2vec.model import _DEFAULT_NORMALIZE, DEFAULT_MAX_LENGTH
    from tokenizers import Tokenizer

    with safetensors.safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
        names = set(tensors.keys())
        arrays = {name: tensors.get_tensor(name) for name in ("embeddings", "weights", "mapping")
                  if name in names}
    if "embeddings" not in arrays:  # another layout: let model2vec work it out
        return StaticModel.from_pretrained(str(folder), force_download=False)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return StaticModel(
        vectors=arrays["embeddings"], tokenizer=Tokenizer.from_file(str(folder / "tokenizer.json")),
        weights=arrays.get("weights"), token_mapping=arrays.get("mapping"),
        config=config, normalize=config.get("normalize", _DEFAULT_NORMALIZE),
        max_length=config.get("max_length", DEFAULT_MAX_LENGTH))


_LOADED: dict[str, tuple[object, str]] = {}
"""Models already loaded in this process, by folder or hub id: (model, fingerprint).
A static model is read-only, so engines in one process share it."""
_LOADED_LOCK = threading.Lock()


class Embedder:
    """Turns texts into L2-normalised float32 vectors; thread-safe lazy load."""

    def __init__(self, model: str = "", allow_download: bool = False):
        self.reference = model
        self.allow_download = allow_download
        self._model: Any = None  # a model2vec StaticModel (untyped)
        self._lock = threading.Lock()
        self.name = ""
        self.fingerprint = ""
        self._folder = self._resolve_folder()

    def _resolve_folder(self) -> Path | None:
        if not self.reference:
            return BUNDLED_MODEL
        folder = Path(self.reference).expanduser()
        if folder.is_dir():
            missing = [n for n in REQUIRED_FILES if not (folder / n).is_file()]
            if missing:
                raise ModelError(f"embedding model folder {folder} lacks {', '.join(missing)}")
            return folder
        looks_like_path = any(sep in self.reference for sep in ("/", os.sep)) and (
            self.reference.startswith((".", "/", "~")) or folder.parent.exists())
        if looks_like_path or not self.allow_download:
            raise ModelError(
                f"embedding model folder not found: {self.reference}"
                + ("" if looks_like_path else
                   " (hub ids are used only with embedding.allow_download: true)"))
        return None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self):
        with self._lock:
            if self._model is not None:
                return self._model
            source = str(self._folder) if self._folder is not None else self.reference
            with _LOADED_LOCK:
                if source not in _LOADED:
                    _LOADED[source] = self._load_from(source)
                model, self.fingerprint = _LOADED[source]
            if self._folder is not None:
                self.name = "bundled:minilm-l6-m2v-256" if self._folder == BUNDLED_MODEL else str(self._folder)
            else:
                self.name = f"hub:{self.reference}"
            self._model = model
            return model

    def _load_from(self, source: str) -> tuple[object, str]:
        if self._folder is not None and not self.allow_download:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            if self._folder is not None:
                model = _load_folder(self._folder)
            else:
                from model2vec import StaticModel

                model = StaticModel.from_pretrained(source, force_download=False)
        except Exception as exc:  # model2vec raises many kinds; one message here
            raise ModelError(f"cannot load embedding model {self.reference or 'bundled'}: {exc}") from exc
        if self._folder is not None:
            return model, model_fingerprint(self._folder)
        return model, hashlib.sha256(self.reference.encode()).hexdigest()[:16]

    @property
    def dim(self) -> int:
        return int(self.load().dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self.load()
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        vectors = np.asarray(model.encode(list(texts), use_multiprocessing=False), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms
