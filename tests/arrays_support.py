"""Backends for the tinyrnn.arrays tests: array-api-strict on a non-default device, numpy, torch."""

import importlib

import pytest

from support import CI, OPTIONAL, require_module


BACKENDS = ["strict", "numpy", "torch"]


def require_array_api_compat() -> None:
    """At module level: skip the whole module without array-api-compat (fail under CI)."""
    try:
        importlib.import_module("array_api_compat")
    except ImportError as e:
        if CI and "array_api_compat" not in OPTIONAL:
            pytest.fail("array_api_compat is required under CI=true but cannot be imported (%s)" % e, pytrace=False)
        pytest.skip("array_api_compat: %s" % e, allow_module_level=True)


class Backend:
    def __init__(self, name: str) -> None:
        require_module("array_api_compat")
        self.name = name
        if name == "strict":
            mod = require_module("array_api_strict")
            self.device = mod.Device("device1")  # not the default: catches arrays created without device=
        else:
            mod = require_module(name)
            self.device = None
        import array_api_compat

        self.lib = mod
        self.xp = array_api_compat.array_namespace(mod.asarray(0.0, device=self.device))
        if self.device is None:
            self.device = array_api_compat.device(self.xp.asarray(0.0))

    def ints(self, values):  # type: ignore[no-untyped-def]
        return self.xp.asarray(values, dtype=self.xp.int64, device=self.device)

    def floats(self, values, dtype=None):  # type: ignore[no-untyped-def]
        return self.xp.asarray(values, dtype=dtype or self.xp.float64, device=self.device)


@pytest.fixture(params=BACKENDS)
def backend(request):  # type: ignore[no-untyped-def]
    return Backend(request.param)
