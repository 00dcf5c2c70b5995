"""Shared test helpers: optional tools, and the CI rule that a missing one fails.

Under ``CI=true`` a test that needs a toolchain or package must fail, not
skip, when it is missing -- except for names listed in ``TINYRNN_OPTIONAL``
(comma separated), which the test script sets for interpreters that cannot
have them (e.g. the PyTorch wheel exists for CPython 3.11 only).
"""

import importlib
import os
import shutil
import sys

import pytest

CI = os.environ.get("CI") == "true"
OPTIONAL = {s.strip() for s in os.environ.get("TINYRNN_OPTIONAL", "").split(",") if s.strip()}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def missing(what: str, why: str) -> None:
    if CI and what not in OPTIONAL:
        pytest.fail("%s is required under CI=true but %s" % (what, why), pytrace=False)
    pytest.skip("%s: %s" % (what, why))


def require_program(name: str) -> str:
    """Path of executable ``name``; skip (fail under CI) when absent."""
    path = shutil.which(name)
    if path is None:
        missing(name, "it is not on PATH")
        raise AssertionError("unreachable")
    return path


def require_module(name: str):  # type: ignore[no-untyped-def]
    """Import and return module ``name``; skip (fail under CI) when absent."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        missing(name, "it cannot be imported on Python %d.%d (%s)" % (sys.version_info[0], sys.version_info[1], e))
        raise AssertionError("unreachable")
