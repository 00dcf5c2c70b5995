"""docs/checking.md works as written: its C program builds (strict warnings), dumps, and
`tinyrnn check` gives the verdicts the page shows."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402


def _cli(*args, cwd):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "tinyrnn"] + list(args), env=env, cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_checking_md_example(tmp_path):
    require_program("gcc")
    with open(os.path.join(ROOT, "docs", "checking.md")) as f:
        doc = f.read()
    src = re.search(r"<!-- myrnn\.c -->\n```c\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "myrnn.c").write_text(src)
    assert _cli("check", "--helper", "-o", "tinyrnn_dump.h", cwd=str(tmp_path)).returncode == 0
    outputs = {}
    for variant, flags in (("ok", []), ("bug", ["-DDOUBLE_EXP"])):
        subprocess.run(["gcc"] + ct.WARN + flags + ["-O2", "myrnn.c", "-o", "myrnn", "-lm"], cwd=str(tmp_path), check=True)
        dump = subprocess.run([str(tmp_path / "myrnn")], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
        (tmp_path / "dump.txt").write_text(dump)
        outputs[variant] = _cli("check", "dump.txt", cwd=str(tmp_path))
    assert outputs["ok"].returncode == 0 and "verdict: your gradients are correct." in outputs["ok"].stdout
    assert outputs["bug"].returncode == 1
    assert "diagnosis: your numbers match softmax(exp(z))" in outputs["bug"].stdout
    assert "by and Why wrong, Wxh/Whh/bh follow" in outputs["bug"].stdout
    for variant in ("ok", "bug"):  # the page shows these outputs
        for line in outputs[variant].stdout.splitlines():
            if line.startswith(("verdict", "diagnosis")):
                assert line in doc, line
