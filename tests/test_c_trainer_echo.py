"""The generated C trainer learns the echo task on the ATmega328P (simavr) within its 2 KB of RAM.

Echo task: random bits x[t], target y[t] = x[t-1] (y[0] = 0); T = 25, H = 8,
sigmoid + binary cross-entropy, dense input, SGD (lr 0.05) with global-norm
clipping at 1, xavier init (seed 1), one fresh sequence per step from a
xorshift32 stream. ECHO_STEPS steps (about 6 s under simavr), then the bit
accuracy on 20 fresh sequences (500 bits) must exceed 95 %.

RAM: the trainer struct, the sequence buffer and the harness are static
(.data + .bss from avr-size); the firmware paints the free RAM and reports
the lowest byte the stack reached, so .data + .bss + the deepest stack is
measured, not estimated -- it must stay within 2048 bytes.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))

from support import require_program  # noqa: E402

import c_targets as ct  # noqa: E402
import c_train_targets as ctt  # noqa: E402

ECHO_STEPS = 200


def test_echo_task_learned_on_atmega328p(tmp_path):
    for prog in ct.PROGRAMS["avr"]:
        require_program(prog)
    r = ctt.echo_run("avr", str(tmp_path / "avr"), ECHO_STEPS, timeout=600)
    acc = r["correct"] / r["bits"]
    print("\nATmega328P echo: %d/%d bits (%.1f %%), %.0f cycles/step, .data %d + .bss %d B, stack reached to %d B of the end: peak RAM %d B"
          % (r["correct"], r["bits"], 100 * acc, r["cycles_per_step"], r["data"], r["bss"], r["free_stack_min"], r["ram_peak"]))
    assert acc > 0.95
    assert r["data"] + r["bss"] < ct.AVR_RAM
    assert r["free_stack_min"] > 0 and r["ram_peak"] <= ct.AVR_RAM  # the stack never reached .bss
    # the same run in float64 Python: the losses (every 10 steps) agree
    ref = ctt.echo_reference(ECHO_STEPS)
    assert ref["correct"] / ref["bits"] > 0.95
    assert len(r["losses"]) == len(ref["losses"]) == ECHO_STEPS // 10
    worst = 0.0
    for k, (a, b) in enumerate(zip(r["losses"], ref["losses"])):
        worst = max(worst, abs(a - b) / max(1.0, abs(b)))
        assert abs(a - b) <= 1e-3 * max(1.0, abs(b)), "step %d: C %r, Python %r" % (10 * k + 9, a, b)
    print("echo losses every 10 steps, C against Python: worst |dL|/max(1,|L|) %.2e" % worst)
    assert r["losses"][-1] < 0.05 * r["losses"][0]


def test_echo_task_host(tmp_path):
    require_program("gcc")
    r = ctt.echo_run("host-gcc", str(tmp_path / "host"), ECHO_STEPS)
    assert r["correct"] / r["bits"] > 0.95
    ref = ctt.echo_reference(ECHO_STEPS)
    for a, b in zip(r["losses"], ref["losses"]):
        assert abs(a - b) <= 1e-3 * max(1.0, abs(b))
