#!/usr/bin/env bash
# The full test command: install everything the tests need, then run them all.
#
#   bash tools/test-all.sh          (from anywhere; CI runs it via .ci/run with CI=true)
#
# Stages (each timed; the first failing setup stage stops the run, check
# stages all run and the script exits non-zero if any failed):
#   apt        Debian packages for the C-export tests (skipped when all present)
#   npm        MicroPython 1.27 wasm into tools/micropython/node_modules (npm ci)
#   venv-3.11  .venv-test/py3.11: the project (editable) with [dev,arrays],
#              torch==2.13.0, keras==3.15.1 and array-api-strict, for the default python3
#   venv-3.9   .venv-test/py3.9  and  venv-3.13  .venv-test/py3.13 (pyenv):
#              the same without torch and keras (no torch wheel exists for them)
#   venv-build .venv-test/build: build, twine and setuptools (pinned) for the wheel stage
#   ucr        the aeon wheel with the UCR/UEA .ts files (tools/ucr.py fetch,
#              cached in .cache/ucr/) for tests/test_ucr.py and tools/bench_ucr.py
#   mypy       mypy --strict tinyrnn
#   wheel      sdist + wheel (python -m build, the wheel built from the sdist),
#              twine check --strict, the wheel installed offline (--no-index
#              --no-deps) into a fresh venv, `tinyrnn --version` and
#              `tinyrnn train --steps 50` run from it outside the checkout
#   pytest-3.11, pytest-3.9, pytest-3.13   the whole suite on each interpreter
#
# Why virtual environments, also for the default interpreter: the system
# interpreter may be "externally managed" (PEP 668) on Debian, and an editable
# install into a shared interpreter points every user of it at whichever
# checkout installed last (several worktrees share one machine here). A venv
# inside the checkout (git-ignored) is isolated and disposable. Installs are
# skipped when a stamp (hash of pyproject.toml, the requirements and the
# interpreter) matches, so a second run goes straight to the tests.
#
# Environment: CI=true makes tests fail instead of skip when a tool is missing
# (tests/support.py). PYTHON (default python3, must be CPython 3.11 for the
# torch wheel), PYENV_ROOT (default ~/.pyenv). TINYRNN_SKIP_INSTALL=1 skips
# apt/npm/pip (tests only, in the existing venvs); TINYRNN_INSTALL_ONLY=1 stops
# after the installs (no checks).

set -u
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

PYTHON=${PYTHON:-python3}
PYENV_ROOT=${PYENV_ROOT:-$HOME/.pyenv}
VENVS="$ROOT/.venv-test"
APT_PACKAGES="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-avr avr-libc simavr valgrind clang arduino-core-avr arduino-builder"
TORCH="torch==2.13.0"
KERAS="keras==3.15.1"  # real Keras 3 layers for tests/test_arrays_gated_io.py (KERAS_BACKEND=torch)
PIP_COMMON=(-e ".[dev,arrays]" array-api-strict)
BUILD_TOOLS=(build==1.6.1 twine==7.0.0 setuptools==84.2.1 wheel==0.48.0)

LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT

STAGES=()    # "name|seconds|status"
FAILED=()
SUMMARIES=() # "label: pytest summary line"
T_ALL=$(date +%s)

say() { printf '\n==> %s\n' "$*"; }
fail_now() { # stage name, message: a setup stage failed, nothing after it can run
    printf '\n!!! STAGE FAILED: %s -- %s\n' "$1" "$2" >&2
    report
    exit 1
}

# run_stage NAME KIND COMMAND...: KIND setup (fatal) or check (recorded)
run_stage() {
    local name=$1 kind=$2 t0 rc
    shift 2
    say "[$name] $*"
    t0=$(date +%s)
    "$@"
    rc=$?
    STAGES+=("$name|$(($(date +%s) - t0))|$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")
    if [ $rc -ne 0 ]; then
        if [ "$kind" = setup ]; then
            fail_now "$name" "exit status $rc"
        fi
        printf '\n!!! STAGE FAILED: %s (exit %d)\n' "$name" "$rc" >&2
        FAILED+=("$name")
    fi
    return 0
}

report() {
    printf '\n==> stage times\n'
    local s
    for s in "${STAGES[@]}"; do
        IFS='|' read -r n t st <<<"$s"
        printf '  %-14s %5ss  %s\n' "$n" "$t" "$st"
    done
    printf '  %-14s %5ss\n' total "$(($(date +%s) - T_ALL))"
    if [ ${#FAILED[@]} -gt 0 ]; then
        printf '\nFAILED stages: %s\n' "${FAILED[*]}"
    elif [ "${1:-}" = final ]; then
        printf '\nall stages passed\n'
    fi
    if [ ${#SUMMARIES[@]} -gt 0 ]; then
        printf '\n==> pytest summaries\n'
        for s in "${SUMMARIES[@]}"; do printf '%s\n' "$s"; done
    fi
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ------------------------------------------------------------------ installs
stage_apt() {
    local missing=() p
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
    command -v gcc >/dev/null || missing+=(gcc)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all Debian packages present, skipping apt-get"
        return 0
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update && as_root apt-get install -y --no-install-recommends "${missing[@]}"
}

stage_npm() {
    local dir="$ROOT/tools/micropython" stamp want
    stamp="$dir/node_modules/.tinyrnn-stamp"
    want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) $(node --version)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "node_modules up to date, skipping npm ci"
        return 0
    fi
    (cd "$dir" && npm ci --no-audit --no-fund) && printf '%s' "$want" >"$stamp"
}

# find_python VERSION: newest pyenv CPython VERSION.x, or pythonVERSION on PATH
find_python() {
    local v=$1 p
    p=$(ls -d "$PYENV_ROOT"/versions/"$v".*/bin/python 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$p" ]; then p=$(command -v "python$v" || true); fi
    if [ -z "$p" ]; then
        echo "no CPython $v found (looked in $PYENV_ROOT/versions/$v.*/bin/python and for python$v on PATH)" >&2
        return 1
    fi
    echo "$p"
}

# stage_venv LABEL INTERPRETER EXTRA-REQUIREMENTS...
stage_venv() {
    local label=$1 interp=$2 venv="$VENVS/py$1" want
    shift 2
    local reqs=("${PIP_COMMON[@]}" "$@")
    if ! "$interp" -c 'import sys; sys.exit(0 if sys.implementation.name == "cpython" and sys.version_info[:2] == tuple(map(int, sys.argv[1].split("."))) else 1)' "$label"; then
        echo "$interp is not CPython $label" >&2
        return 1
    fi
    want="$("$interp" -c 'import sys; print(sys.version.split()[0])') $(sha256sum pyproject.toml | cut -d' ' -f1) ${reqs[*]}"
    pip_venv "$venv" "$interp" "$want" "${reqs[@]}"
}

# pip_venv VENV INTERPRETER STAMP REQUIREMENTS...: create VENV and pip install, unless its stamp is STAMP
pip_venv() {
    local venv=$1 interp=$2 want=$3 stamp="$1/.tinyrnn-stamp"
    shift 3
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "$venv up to date, skipping pip"
        return 0
    fi
    if [ ! -x "$venv/bin/python" ]; then
        "$interp" -m venv "$venv" || return 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" || return 1
    printf '%s' "$want" >"$stamp"
}

# stage_build_venv INTERPRETER: .venv-test/build with the packaging tools (not the project)
stage_build_venv() {
    pip_venv "$VENVS/build" "$1" "$("$1" -c 'import sys; print(sys.version.split()[0])') ${BUILD_TOOLS[*]}" "${BUILD_TOOLS[@]}"
}

# -------------------------------------------------------------------- checks
# stage_wheel: build sdist + wheel, twine check, install the wheel in a fresh venv, train from it
stage_wheel() {
    local dist="$LOGDIR/dist" fresh="$LOGDIR/fresh-venv" work="$LOGDIR/wheel-run" whl
    (cd "$LOGDIR" && "$VENVS/build/bin/python" -m build --no-isolation --outdir "$dist" "$ROOT") >"$LOGDIR/build.log" 2>&1 \
        || { tail -n 40 "$LOGDIR/build.log"; return 1; }
    ls -l "$dist"
    "$VENVS/build/bin/python" -m twine check --strict "$dist"/* || return 1
    whl=$(ls "$dist"/*.whl) || return 1
    "$PYTHON" -m zipfile -l "$whl" | grep 'dist-info/licenses/LICENSE' >/dev/null || { echo "no LICENSE in $whl" >&2; return 1; }
    "$PYTHON" -m venv "$fresh" || return 1
    "$fresh/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$whl" || return 1
    mkdir -p "$work"
    (cd "$work" && "$fresh/bin/tinyrnn" --version && "$fresh/bin/tinyrnn" train --steps 50 --out out --quiet \
        && "$fresh/bin/tinyrnn" sample out/model.json -n 60 --seed 1 && test -s out/model.json && test -s out/report.svg)
}

stage_mypy() {
    "$VENVS/py3.11/bin/python" -m mypy --strict tinyrnn
}

# stage_pytest LABEL [ENV=VALUE...]: the whole suite in .venv-test/pyLABEL
stage_pytest() {
    local label=$1 venv="$VENVS/py$1" log="$LOGDIR/pytest-$1.log" rc
    shift
    env "$@" PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" "$venv/bin/python" -m pytest -rfEs 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* =+$' "$log" | tail -n 1)
    SUMMARIES+=("CPython $label: ${line:-no summary line (exit $rc)}")
    if [ "$rc" -eq 5 ]; then
        echo "pytest collected no tests (exit 5): counted as a failure" >&2
    fi
    return "$rc"
}

echo "tinyrnn test-all: $ROOT (CI=${CI:-unset})"

if [ "${TINYRNN_SKIP_INSTALL:-}" != 1 ]; then
    run_stage apt setup stage_apt
    run_stage npm setup stage_npm
    PY39=$(find_python 3.9) || fail_now venv-3.9 "CPython 3.9 not found"
    PY313=$(find_python 3.13) || fail_now venv-3.13 "CPython 3.13 not found"
    run_stage venv-3.11 setup stage_venv 3.11 "$PYTHON" "$TORCH" "$KERAS"
    run_stage venv-3.9 setup stage_venv 3.9 "$PY39"
    run_stage venv-3.13 setup stage_venv 3.13 "$PY313"
    run_stage venv-build setup stage_build_venv "$PYTHON"
    run_stage ucr setup "$VENVS/py3.11/bin/python" tools/ucr.py fetch
fi
if [ "${TINYRNN_INSTALL_ONLY:-}" = 1 ]; then
    report
    exit 0
fi

run_stage mypy check stage_mypy
run_stage wheel check stage_wheel
run_stage pytest-3.11 check stage_pytest 3.11
run_stage pytest-3.9 check stage_pytest 3.9 TINYRNN_OPTIONAL=torch,keras
run_stage pytest-3.13 check stage_pytest 3.13 TINYRNN_OPTIONAL=torch,keras

report final
[ ${#FAILED[@]} -eq 0 ]
