#!/usr/bin/env python3
"""Cost of one exported step: flash, RAM, ATmega328P cycles, host instructions.

For char models (V = 65 in and out, token input) with H = 8, 16, 32 (and any
``--h``) of each cell (``--cells``: the vanilla tanh RNN, GRU, LSTM; one layer,
or ``--layers L``), in one run (a model whose weights do not fit the
ATmega328P's 32 KB of flash is left out and said so):

- flash and static RAM from ``avr-size`` / ``arm-none-eabi-size`` of a small
  firmware that calls ``NAME_step_token``, and of the same firmware without
  the model (the difference is the model: weights, runtime code, libm);
- cycles per step on the ATmega328P (16 MHz, simavr): Timer1 at the CPU clock
  read around each ``NAME_step_token`` call, minus the cost of reading the
  timer, averaged over the steps;
- instructions per step on the host (gcc -O2, x86-64): valgrind callgrind's
  total instruction count for N steps minus that for 0 steps, divided by N;
- the multiply-accumulate count per step (NAME_MACS_PER_STEP_TOKEN: G*H*H +
  (L-1)*2*G*H*H + V*H with G = 1, 3, 4 gates; the token input is a column
  gather), and cycles / instructions per MAC as the ratio against it. The
  gated cells also spend sigmoid/tanh (expf) calls per unit, which the MAC
  count does not see: their cycles/MAC carry that.

Then the C trainer (``tinyrnn export --train``) on the echo task (T = 25,
H = 8, sigmoid + BCE, SGD with global-norm clipping, ``--trainer-steps``
steps): bit accuracy, ATmega328P cycles per training step, host instructions
per training step (callgrind), flash, .data + .bss and the measured stack
peak (see tools/c_train_targets.py).

With ``--quant int8 int16``: the integer export of each model (every cell
and depth; ``tinyrnn export --quant``) in rows beside its float row; per int8
model the cycles/MAC (issue 11's goal: <= 30 at H = 32) and the weights' share
of float's, the matrices alone and with the per-row constants; and a table of
Cortex-M4F / M3 instructions per step and per MAC of the integer rows (QEMU
run with one instruction per translation block, logging each executed block:
``--arm-steps`` steps minus 0 steps; QEMU counts no cycles).

Prints markdown tables. Usage: python3 tools/bench_c.py [--h 8 16 32] [--cells rnn gru lstm] [--layers 1] [--steps 16] [--quant int8 int16] [--arm-steps 4] [--trainer-steps 200]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import c_targets as ct  # noqa: E402
import quant_targets as qt  # noqa: E402

from tinyrnn import RNN, init_params  # noqa: E402
from tinyrnn.export.c_cells import macs_per_step, scratch_floats, state_floats  # noqa: E402
from tinyrnn.export.c_int import WBYTES, row_sets, weight_bytes  # noqa: E402
from tinyrnn.workflow.quant import calibrate, quantize  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

V = 65
VOCAB = [chr(c) for c in range(32, 32 + V)]

AVR_MAIN = """\
#include "platform.h"
#ifdef WITH_MODEL
#include "NAME.h"
NAME_state_t bench_s;        /* external linkage: the timer calls are barriers for them */
ZTYPE bench_z[NAME_Y_S];
#endif
PUT_U32
int main(void)
{
    uint32_t overhead, total = 0;
    int t;
    plat_init();
    plat_timer_start();
    overhead = plat_timer_stop();
#ifdef WITH_MODEL
    NAME_reset(&bench_s);
    for (t = 0; t < STEPS; ++t) {
        uint32_t c;
        plat_timer_start();
        (void)NAME_step_token(&bench_s, t % NAME_X_S, bench_z);
        c = plat_timer_stop();
        total += c - overhead;
    }
    plat_write("C ");
    put_u32(total);
    plat_write("A ");
    put_u32((uint32_t)NAME_argmax(bench_z));
#else
    (void)t;
    (void)total;
#endif
    plat_write("O ");
    put_u32(overhead);
    plat_write("E\\n");
    plat_exit(0);
    return 0;
}
"""

AVR_MAIN = AVR_MAIN.replace("PUT_U32", ct.PUT_U32)

HOST_MAIN = """\
#include <stdio.h>
#include <stdlib.h>
#include "NAME.h"
NAME_state_t bench_s;
ZTYPE bench_z[NAME_Y_S];
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0, t;
    NAME_reset(&bench_s);
    for (t = 0; t < n; ++t) (void)NAME_step_token(&bench_s, (int)(t % NAME_X_S), bench_z);
    printf("%d\\n", NAME_argmax(bench_z));
    return 0;
}
"""


def char_model(H: int, cell: str = "rnn", layers: int = 1) -> RNN:
    if cell == "rnn" and layers == 1:
        m = RNN(V, H, V, 1, "softmax")
    else:
        m = RNN(V, H, V, 1, "softmax", cell=cell, layers=layers)
    init_params(m, H, "xavier")
    return m


def avr_numbers(case: "Any", work: str, steps: int, ztype: str) -> "dict[str, float]":
    name = case.name
    main = AVR_MAIN.replace("STEPS", str(steps)).replace("NAME", name).replace("ZTYPE", ztype)
    exe = ct.build("avr", os.path.join(work, "avr_" + name), [case], main="#define WITH_MODEL 1\n" + main, units={})
    base = ct.build("avr", os.path.join(work, "avr_base"), [], main=main, units={})
    out = ct.run("avr", exe, timeout=300)
    cycles = int(re.search(r"C (\d+)", out).group(1)) / steps  # type: ignore[union-attr]
    text, data, bss = ct.sizes("avr", exe)
    btext, bdata, bbss = ct.sizes("avr", base)
    return {"cycles": cycles, "flash": text + data, "flash_model": text + data - btext - bdata, "ram": data + bss}


def arm_flash(case: "Any", work: str, target: str, ztype: str) -> int:
    name = case.name
    main = AVR_MAIN.replace("STEPS", "4").replace("NAME", name).replace("ZTYPE", ztype)
    exe = ct.build(target, os.path.join(work, target + "_" + name), [case], main="#define WITH_MODEL 1\n" + main, units={})
    base = ct.build(target, os.path.join(work, target + "_base"), [], main=main, units={})
    text, data, _ = ct.sizes(target, exe)
    btext, bdata, _ = ct.sizes(target, base)
    return text + data - btext - bdata


def arm_instructions(case: "Any", work: str, target: str, steps: int, ztype: str) -> float:
    """Instructions per step on a Cortex-M (QEMU, one instruction per translation block, every block
    executed logged by -d exec,nochain): the count for ``steps`` steps minus that for 0, divided by
    ``steps`` (QEMU counts no cycles)."""
    name = case.name

    def count(n: int) -> int:
        main = AVR_MAIN.replace("STEPS", str(n)).replace("NAME", name).replace("ZTYPE", ztype)
        d = os.path.join(work, "%s_i%d_%s" % (target, n, name))
        exe = ct.build(target, d, [case], main="#define WITH_MODEL 1\n" + main, units={})
        p = subprocess.Popen(  # the log (one line per instruction) streams through stderr: counted, not stored
            ["qemu-system-arm", "-M", ct.QEMU_MACHINE[target], "-nographic", "-monitor", "none", "-serial", "none",
             "-semihosting-config", "enable=on,target=native", "-kernel", exe, "-singlestep", "-d", "exec,nochain"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True,
        )
        assert p.stderr is not None
        k = sum(1 for line in p.stderr if line.startswith("Trace "))
        if p.wait(timeout=600) != 0:
            raise RuntimeError("qemu-system-arm failed on %s" % exe)
        return k

    return (count(steps) - count(0)) / steps


def host_instructions(case: "Any", work: str, steps: int, ztype: str) -> float:
    name = case.name
    d = os.path.join(work, "host_" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name + ".h"), "w") as f:
        f.write(case.header())
    with open(os.path.join(d, "main.c"), "w") as f:
        f.write(HOST_MAIN.replace("NAME", name).replace("ZTYPE", ztype))
    exe = os.path.join(d, "bench")
    subprocess.run(["gcc"] + ct.WARN + ["-O2", "main.c", "-o", exe, "-lm"], cwd=d, check=True)

    def ir(n: int) -> int:
        r = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe, str(n)],
            cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True,
        )
        return int(re.search(r"Collected : (\d+)", r.stderr).group(1))  # type: ignore[union-attr]

    return (ir(steps) - ir(0)) / steps


def trainer_numbers(work: str, steps: int, host_steps: int) -> "dict[str, float]":
    """The C trainer on the echo task (T = 25, H = 8, sigmoid + BCE, SGD, global-norm clip):
    ATmega328P cycles per training step (Timer1 around echo_train_step), flash, .data + .bss and
    the measured stack peak (painted RAM); host instructions per training step (callgrind, N steps
    minus 0 steps)."""
    import c_train_targets as ctt

    a = ctt.echo_run("avr", os.path.join(work, "echo_avr"), steps, timeout=1800)

    def ir(n: int) -> int:
        exe = ctt.echo_build("host-gcc", os.path.join(work, "echo_host%d" % n), n)
        r = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", exe],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True,
        )
        return int(re.search(r"Collected : (\d+)", r.stderr).group(1))  # type: ignore[union-attr]

    a["host_instr"] = (ir(host_steps) - ir(0)) / host_steps
    a["host_sizeof"] = ctt.echo_run("host-gcc", os.path.join(work, "echo_host_size"), 1)["sizeof"]
    return a


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--h", type=int, nargs="+", default=[8, 16, 32], help="hidden sizes (default 8 16 32)")
    ap.add_argument("--cells", nargs="+", default=["rnn", "gru", "lstm"], choices=["rnn", "gru", "lstm"], help="cells (default all three)")
    ap.add_argument("--layers", type=int, default=1, help="layers per model (default 1)")
    ap.add_argument("--steps", type=int, default=16, help="timed steps on the ATmega328P (default 16)")
    ap.add_argument("--host-steps", type=int, default=2000, help="steps under callgrind (default 2000)")
    ap.add_argument("--quant", nargs="*", default=[], choices=("int8", "int16"), help="also the integer export of each model (rows per width)")
    ap.add_argument("--arm-steps", type=int, default=4, help="--quant rows: steps counted instruction by instruction under QEMU (default 4; 0: skip)")
    ap.add_argument("--trainer-steps", type=int, default=200, help="echo-task training steps for the C trainer table (default 200; 0: skip it)")
    args = ap.parse_args()
    missing = [p for p in ("avr-gcc", "avr-size", "simavr", "arm-none-eabi-gcc", "arm-none-eabi-size", "gcc", "valgrind") if not ct.shutil.which(p)]
    if missing:
        print("bench_c: missing %s" % ", ".join(missing), file=sys.stderr)
        return 2
    rows = []
    arm_rows = []
    matrices = {}  # type: dict
    trainer = None
    with tempfile.TemporaryDirectory(prefix="tinyrnn-bench-c-") as work:
        if args.trainer_steps > 0:
            trainer = trainer_numbers(work, args.trainer_steps, 50)
            print("trainer done", file=sys.stderr)
        for cell, H in [(cell, H) for cell in args.cells for H in args.h]:
            m = char_model(H, cell, args.layers)
            macs = macs_per_step(m, False)
            kinds = ["float"] + args.quant
            if 4 * m.num_params + 4 * V + 3000 > ct.AVR_FLASH:
                print("%s H=%d: %d bytes of float weights do not fit the ATmega328P: float left out" % (cell, H, 4 * m.num_params), file=sys.stderr)
                kinds.remove("float")
            for kind in kinds:
                name = "%s%d%s" % (cell, H, "" if kind == "float" else "_" + kind)
                if kind == "float":
                    case = ct.Case(m, name, False, [0], 1, vocab=VOCAB)  # type: Any
                    wbytes, ztype = 4 * m.num_params, "float"
                else:
                    qm = quantize(m, "token", kind, calibrate(m, [[k % V for k in range(500)]], "bench", True))
                    case = qt.QCase(qm, m, name, 1, vocab=VOCAB)
                    wbytes, ztype = weight_bytes(qm), "int16_t"
                    matrices[(cell, H, kind)] = WBYTES[kind] * sum(len(R.W) for R in row_sets(qm))
                    if wbytes + 4 * V + 4000 > ct.AVR_FLASH:
                        print("%s H=%d %s: %d bytes of weights do not fit the ATmega328P: left out" % (cell, H, kind, wbytes), file=sys.stderr)
                        continue
                a = avr_numbers(case, work, args.steps, ztype)
                m4 = arm_flash(case, work, "m4f", ztype)
                m3 = arm_flash(case, work, "m3", ztype)
                ir = host_instructions(case, work, args.host_steps, ztype)
                step_ram = 4 * (state_floats(m) + scratch_floats(m)) if kind == "float" else 0
                rows.append((cell, H, kind, m.num_params, wbytes, macs, a, step_ram, m4, m3, ir))
                if kind != "float" and args.arm_steps > 0:
                    arm_rows.append((cell, H, kind, macs, arm_instructions(case, work, "m4f", args.arm_steps, ztype),
                                     arm_instructions(case, work, "m3", args.arm_steps, ztype)))
                print("%s H=%d %s done" % (cell, H, kind), file=sys.stderr)
    print("Char models, V = %d, token input (NAME_step_token), softmax head, %d layer(s); avr-gcc -Os with NAME_USE_PROGMEM, "
          "arm-none-eabi-gcc -O2, host gcc -O2." % (V, args.layers))
    print("weights: float 4 B per parameter; int: the matrices (1 or 2 B per weight) plus 5 B per row (int16 bias, int16 multiplier, "
          "8-bit shift) and 1 B per hidden row (the input part's scale shift).")
    print()
    print("| cell | H | step | params | MACs/step | weights (B) | vs float | AVR flash: firmware / model (B) | AVR static RAM (B) | "
          "step RAM: state+scratch (B) | M4F / M3 flash, model (B) | AVR cycles/step | AVR cycles/MAC | AVR us/step @16 MHz | host instr/step | host instr/MAC |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for cell, H, kind, params, wbytes, macs, a, step_ram, m4, m3, ir in rows:
        print(
            "| %s | %d | %s | %d | %d | %d | %.3f | %d / %d | %d | %s | %d / %d | %.0f | %.1f | %.0f | %.0f | %.2f |"
            % (cell, H, kind, params, macs, wbytes, wbytes / (4.0 * params), a["flash"], a["flash_model"], a["ram"],
               step_ram if step_ram else "-", m4, m3, a["cycles"], a["cycles"] / macs, a["cycles"] / 16.0, ir, ir / macs)
        )
    if matrices:
        print()
    for cell, H, kind, params, wbytes, macs, a, step_ram, m4, m3, ir in rows:
        if kind == "int8":  # issue 11: <= 30 cycles/MAC on the ATmega328P (the H = 32 row), weights <= 1/4 of float's
            print("%s H=%d int8: AVR %.1f cycles/MAC%s; weights / float's: the matrices %.3f (goal <= 1/4), with the per-row constants %.3f" % (
                cell, H, a["cycles"] / macs, " (goal <= 30: %s)" % ("met" if a["cycles"] / macs <= 30 else "NOT met") if H == 32 else "",
                matrices[(cell, H, kind)] / (4.0 * params), wbytes / (4.0 * params)))
    if arm_rows:
        print()
        print("Integer rows on Cortex-M (arm-none-eabi-gcc -O2; QEMU executes one instruction per block and logs each: "
              "%d steps minus 0 steps; QEMU counts no cycles):" % args.arm_steps)
        print()
        print("| cell | H | step | MACs/step | M4F instr/step | M4F instr/MAC | M3 instr/step | M3 instr/MAC |")
        print("|---|---|---|---|---|---|---|---|")
        for cell, H, kind, macs, i4, i3 in arm_rows:
            print("| %s | %d | %s | %d | %.0f | %.2f | %.0f | %.2f |" % (cell, H, kind, macs, i4, i4 / macs, i3, i3 / macs))
    if trainer is not None:
        import c_train_targets as ctt
        from tinyrnn.export.c_train import ram_bytes

        t = trainer
        print()
        print("C trainer (tinyrnn export --train), echo task: T = %d, H = %d, X = Y = 1, sigmoid + BCE, SGD + global-norm clip; %d steps, avr-gcc -Os, host gcc -O2."
              % (ctt.ECHO_T, ctt.ECHO_H, args.trainer_steps))
        print()
        print("| bit accuracy (500 bits) | AVR cycles/step | AVR ms/step @16 MHz | host instr/step | sizeof(trainer) AVR / host (B), bound | AVR flash (B) | AVR .data + .bss (B) | AVR stack peak (B) | AVR RAM peak of 2048 (B) |")
        print("|---|---|---|---|---|---|---|---|---|")
        print("| %.1f %% | %.0f | %.1f | %.0f | %d / %d, %d | %d | %d | %d | %d |" % (
            100.0 * t["correct"] / t["bits"], t["cycles_per_step"], t["cycles_per_step"] / 16000.0, t["host_instr"],
            t["sizeof"], t["host_sizeof"], ram_bytes(1, ctt.ECHO_H, 1, ctt.ECHO_T), t["flash"], t["data"] + t["bss"],
            t["ram_peak"] - t["data"] - t["bss"], t["ram_peak"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
