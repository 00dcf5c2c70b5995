"""One real UCR set in the suite: ItalyPowerDemand (67 training series of 24 steps) trains in seconds.

Read from the aeon wheel cached by tools/test-all.sh (tools/ucr.py); under CI=true a missing wheel
fails. The model is chosen on the eval split (best.json), never on the test file.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

import ucr  # noqa: E402
from support import missing  # noqa: E402

from tinyrnn.cli import main  # noqa: E402


def test_italy_power_demand_test_accuracy(tmp_path, capsys):
    wheel = ucr.wheel_path()
    if not wheel:
        missing("the aeon wheel", "it is not in %s (run: python3 tools/ucr.py fetch)" % ucr.cache_dir())
    train, test = ucr.extract(str(tmp_path), "ItalyPowerDemand", wheel)
    out = str(tmp_path / "o")
    assert main(["train", train, "--test", test, "--hidden", "16", "--epochs", "30", "--eval-every", "60", "--log-every", "60",
                 "--quiet", "--out", out]) == 0
    said = capsys.readouterr().out
    acc = float(re.search(r"test best\.json \(step \d+\): loss [0-9.]+, accuracy ([0-9.]+)%", said).group(1))
    print("\nItalyPowerDemand test accuracy (best.json): %.2f%%" % acc)
    assert acc >= 93.0, said
    assert main(["eval", out + "/best.json", test]) == 0
    ev = capsys.readouterr().out
    assert "accuracy %.2f%% (" % acc in ev and "of 1029)" in ev
