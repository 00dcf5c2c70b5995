"""Import hygiene: the core pulls in no third-party module; tinyrnn.arrays names its extra.

Needs no array library (runs with array-api-compat missing, too).
"""

import subprocess
import sys

from support import ROOT


def _run(code):  # type: ignore[no-untyped-def]
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_core_import_pulls_in_no_third_party_module():  # type: ignore[no-untyped-def]
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"  # whatever site-packages' .pth files load at start-up
        "import tinyrnn, tinyrnn.workflow.checkpoint, tinyrnn.cli\n"
        "std = getattr(sys, 'stdlib_module_names', None)\n"
        "tops = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "if std is None:\n"  # Python 3.9: at least the known heavy ones
        "    bad = tops & {'numpy', 'torch', 'array_api_compat', 'array_api_strict'}\n"
        "else:\n"
        "    bad = {t for t in tops if t not in std and t != 'tinyrnn'}\n"
        "print(sorted(bad))\n"
    )
    r = _run(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    r = _run("import sys\nimport tinyrnn\nprint('numpy' in sys.modules, 'array_api_compat' in sys.modules)")
    assert r.stdout.split() == ["False", "False"]


def test_missing_array_api_compat_says_which_extra():  # type: ignore[no-untyped-def]
    r = _run("import sys\nsys.modules['array_api_compat'] = None\nimport tinyrnn.arrays\n")
    assert r.returncode != 0
    assert "pip install 'tinyrnn[arrays]'" in r.stderr
    assert "ImportError" in r.stderr
