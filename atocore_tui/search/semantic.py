"""The semantic model: a small transformer run with onnxruntime.

The static model (model2vec) makes a note searchable the moment it is
ingested; it cannot tell "lift increase due to slipstream" from a bag of the
same words. all-MiniLM-L6-v2, the sentence transformer the original AtoCore
used, can. It ships in the package as an int8 ONNX graph
(``models/minilm-l6-int8``, built by ``scripts/build_deep_model.py``) that
returns mean-pooled, L2-normalised 384-d vectors, so the run time needs
onnxruntime and a tokenizer, never torch.

It is about a hundred times slower than the static model, so chunks are
encoded after ingestion by :mod:`.semantic_pass`; only the query is encoded on
the request path (2-4 ms).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

BUNDLED_SEMANTIC_MODEL = Path(__file__).resolve().parent.parent / "models" / "minilm-l6-int8"
SEMANTIC_FILES = ("model.onnx", "model.onnx.data", "tokenizer.json")
MAX_TOKENS = 256
"""The teacher's own ``max_seq_length``: longer chunks are cut, as the original stack cut them."""


_SESSIONS: dict[tuple[str, int], tuple[object, object, str, int]] = {}
"""Loaded models by (folder, threads): sessions are read-only and thread-safe,
so the engines of one process share them."""
_SESSIONS_LOCK = threading.Lock()


class SemanticEncoder:
    """Texts -> L2-normalised float32 vectors; thread-safe lazy load."""

    def __init__(self, folder: str | Path = "", threads: int = 1):
        self.folder = Path(folder).expanduser() if str(folder) else BUNDLED_SEMANTIC_MODEL
        self.threads = threads
        self._session: Any = None  # onnxruntime.InferenceSession (untyped)
        self._tokenizer: Any = None  # tokenizers.Tokenizer (untyped)
        self._lock = threading.Lock()
        self.fingerprint = ""
        self.name = "bundled:minilm-l6-int8" if self.folder == BUNDLED_SEMANTIC_MODEL else str(self.folder)
        self.dim = 384

    def available(self) -> bool:
        return all((self.folder / name).is_file() for name in SEMANTIC_FILES)

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            with _SESSIONS_LOCK:
                cache_key = (str(self.folder), self.threads)
                if cache_key not in _SESSIONS:
                    _SESSIONS[cache_key] = self._load()
                self._session, self._tokenizer, self.fingerprint, self.dim = _SESSIONS[cache_key]

    def _load(self) -> tuple[object, object, str, int]:
        missing = [n for n in SEMANTIC_FILES if not (self.folder / n).is_file()]
        if missing:
            raise ModelError(f"semantic model folder {self.folder} lacks {', '.join(missing)}")
        try:
            import onnxruntime
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = max(1, self.threads)
            options.inter_op_num_threads = 1
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = onnxruntime.InferenceSession(str(self.folder / "model.onnx"), options,
                                                   providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        except Exception as exc:  # onnxruntime and tokenizers raise many kinds
            raise ModelError(f"cannot load semantic model {self.folder}: {exc}") from exc
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        digest = hashlib.sha256()
        for name in SEMANTIC_FILES:
            digest.update((self.folder / name).read_bytes())
        return session, tokenizer, digest.hexdigest()[:16], int(session.get_outputs()[0].shape[-1] or 384)

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def encode(self, texts: Sequence[str], batch_size: int = 1) -> np.ndarray:
        """Vectors in the order of ``texts``.

        One text at a time by default: the int8 graph quantises activations
        per batch, so a text's vector would depend on its batch companions
        (cosine ~0.99 to itself) and packs would differ between data dirs;
        alone, a text always gets the same vector. It costs almost nothing
        (measured 6.5 vs 6.8 texts/s against batches of 8) and keeps the peak
        memory flat (+4 MB, against +140 MB for batches of 8 and +650 MB for
        32: onnxruntime keeps its largest activations)."""
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([t if t.strip() else "." for t in texts])
        ids = [e.ids for e in encodings]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                input_ids[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            vectors = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
            out[batch] = vectors
        return out
