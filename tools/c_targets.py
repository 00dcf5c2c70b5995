"""Build and run exported tinyrnn headers on the host and on simulated MCUs.

Targets (see ``TARGETS``):

- ``host-gcc``, ``host-clang``: native executables.
- ``m4f``: Cortex-M4F, hard float (``-mfloat-abi=hard -mfpu=fpv4-sp-d16``),
  QEMU ``mps2-an386``; ``m3``: Cortex-M3, soft float, QEMU ``mps2-an385``.
  Own vector table/startup and linker script in ``tools/targets/arm``;
  output and exit through ARM semihosting.
- ``avr``: ATmega328P at 16 MHz under ``simavr``; output on UART0;
  weights in flash (``NAME_USE_PROGMEM``), data tables in flash.

Many models go into one firmware (one simulator launch): each ``Case`` is a
model with an input sequence (cycled) and optionally a state to load before
every step (the one-step check). The firmware prints, for each case, ``M``
then for each step ``T <rc>`` and the logits (and optionally the state) as
the hex bits of each float32 -- exact transport, no printf of floats.

Used by tests/test_export_targets.py and tools/bench_c.py.
"""

import math
import os
import re
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinyrnn.export.c import f32, header  # noqa: E402
from tinyrnn.export.c_cells import blank_like, cell_of, is_vanilla, state_floats  # noqa: E402
from tinyrnn.core.model import RNN  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets")
WARN = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Wshadow", "-Werror"]
TARGETS = ("host-gcc", "host-clang", "m4f", "m3", "avr")
PROGRAMS = {
    "host-gcc": ("gcc",),
    "host-clang": ("clang",),
    "m4f": ("arm-none-eabi-gcc", "qemu-system-arm"),
    "m3": ("arm-none-eabi-gcc", "qemu-system-arm"),
    "avr": ("avr-gcc", "avr-size", "simavr"),
}
ARM_FLAGS = {
    "m4f": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
    "m3": ["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"],
}
QEMU_MACHINE = {"m4f": "mps2-an386", "m3": "mps2-an385"}
AVR_MCU = "atmega328p"
AVR_FLASH = 32768
AVR_RAM = 2048


def f32_bits(v: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", v))[0])


def bits_f32(u: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", u))[0])


class Case:
    """One model run in a firmware.

    ``inputs``: token ids (ints, may be out of range on purpose) or dense
    vectors of X floats, cycled over ``steps`` steps. ``states``: None for a
    free run from h = 0, or one flat state per step (H floats; for the gated
    cells and stacked layers the model's ``new_state()`` layout: h of every
    layer, then c of every layer for the LSTM), loaded into the C state before
    that step (the one-step check).
    """

    def __init__(
        self,
        model: RNN,
        name: str,
        dense: bool,
        inputs: "Sequence[Any]",
        steps: int,
        states: "Optional[List[List[float]]]" = None,
        print_state: bool = False,
        vocab: "Optional[List[str]]" = None,
        progmem: bool = True,
    ) -> None:
        self.model = model
        self.name = name
        self.dense = dense
        self.inputs = list(inputs)
        self.steps = steps
        self.states = states
        self.print_state = print_state
        self.vocab = vocab
        self.progmem = progmem  # on AVR: weights in flash (False: in RAM, for small models)
        if states is not None and len(states) != steps:
            raise ValueError("need one state per step")

    def header(self) -> str:
        return header(self.model, self.name, "dense" if self.dense else "token", vocab=self.vocab)

    def data_bytes(self) -> int:
        n = len(self.inputs) * (self.model.X if self.dense else 1)
        if self.states is not None:
            n += self.steps * state_floats(self.model)
        return 4 * n

    def flash_estimate(self) -> int:
        """Rough bytes of AVR flash: weights, data tables, code."""
        return 4 * self.model.num_params + self.data_bytes() + 1200


def _words(values: "Sequence[int]") -> str:
    out = []
    for k in range(0, len(values), 6):
        out.append("    " + ", ".join("0x%08xu" % (v & 0xFFFFFFFF) for v in values[k : k + 6]) + ",")
    return "\n".join(out)


_PRELUDE = """\
#include "platform.h"
#include <string.h>

#define H_ static __attribute__((unused))
H_ uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
H_ float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
H_ void put_words(const float *v, int n)
{
    char b[10];
    int i, k;
    for (k = 0; k < n; ++k) {
        uint32_t u = bits_of(v[k]);
        for (i = 0; i < 8; ++i) {
            unsigned d = (unsigned)((u >> (28 - 4 * i)) & 0xFu);
            b[i] = (char)(d < 10u ? '0' + d : 'a' + d - 10u);
        }
        b[8] = (k % 8 == 7 || k == n - 1) ? '\\n' : ' ';
        b[9] = 0;
        plat_write(b);
    }
}
H_ void put_step(int rc)
{
    plat_write(rc == 0 ? "T 0\\n" : "T -1\\n");
}
"""

_RUN = """\
void run_NAME(void);
void run_NAME(void)
{
    NAME_state_t s;
    float z[NAME_Y_S];
    DECL_X
    uint32_t t, k = 0;
    int rc = 0;
    NAME_reset(&s);
    plat_write("M\\n");
    for (t = 0; t < STEPSu; ++t) {
        LOAD_STATE
        STEP
        if (++k == NINu) k = 0;
        put_step(rc);
        put_words(z, NAME_Y_S);
        PRINT_STATE
    }
}
"""


def render_case(c: Case) -> str:
    """The translation unit NAME.c: the header, the case's data tables and run_NAME()."""
    N = c.name
    out = [_PRELUDE, '#include "%s.h"' % N]
    if c.dense:
        flat = [f32_bits(f32(v)) for x in c.inputs for v in x]
    else:
        flat = [int(tok) for tok in c.inputs]
    out.append("static const uint32_t %s_in[%d] DATA_ = {\n%s\n};" % (N, len(flat), _words(flat)))
    if c.states is not None:
        st = [f32_bits(f32(v)) for h in c.states for v in h]
        out.append("static const uint32_t %s_st[%d] DATA_ = {\n%s\n};" % (N, len(st), _words(st)))
    if c.dense:
        decl = "float x[NAME_X_S];\n    int i;"
        step = "for (i = 0; i < NAME_X_S; ++i) x[i] = float_of(RD32(NAME_in + k * (uint32_t)NAME_X_S + (uint32_t)i));\n        NAME_step(&s, x, z);"
    else:
        decl = "int i;" if c.states is not None else ""
        step = "rc = NAME_step_token(&s, (int)(int32_t)RD32(NAME_in + k), z);"
    load = ""
    put_state = "put_words(s.h, NAME_H_S);"
    if not is_vanilla(c.model):
        S = state_floats(c.model)
        load_h = "for (i = 0; i < NAME_LAYERS * NAME_H_S; ++i) s.FIELD[i / NAME_H_S][i %% NAME_H_S] = float_of(RD32(NAME_st + t * %du + OFFu + (uint32_t)i));" % S
        put_state = "for (i = 0; i < NAME_LAYERS; ++i) put_words(s.h[i], NAME_H_S);"
        if cell_of(c.model)[0] == "lstm":
            put_state += "\n        for (i = 0; i < NAME_LAYERS; ++i) put_words(s.c[i], NAME_H_S);"
        if c.states is not None:
            load = load_h.replace("FIELD", "h").replace("OFF", "0")
            if cell_of(c.model)[0] == "lstm":
                load += "\n        " + load_h.replace("FIELD", "c").replace("OFF", str(S // 2))
        if c.print_state and "int i;" not in decl:
            decl = (decl + "\n    int i;").strip()
    elif c.states is not None:
        load = "for (i = 0; i < NAME_H_S; ++i) s.h[i] = float_of(RD32(NAME_st + t * (uint32_t)NAME_H_S + (uint32_t)i));"
    out.append(
        _RUN.replace("DECL_X", decl)
        .replace("LOAD_STATE", load)
        .replace("STEPS", str(c.steps))
        .replace("STEP", step)
        .replace("NIN", str(len(c.inputs)))
        .replace("PRINT_STATE", put_state if c.print_state else "")
        .replace("NAME", N)
    )
    return "\n".join(out)


def render_main(cases: "Sequence[Case]") -> str:
    """main.c: calls run_NAME() of every case in order."""
    out = ['#include "platform.h"', ""]
    for c in cases:
        out.append("void run_%s(void);" % c.name)
    out.append("int main(void)\n{\n    plat_init();")
    for c in cases:
        out.append("    run_%s();" % c.name)
    out.append('    plat_write("E\\n");\n    plat_exit(0);\n    return 0;\n}\n')
    return "\n".join(out)


def missing_programs(target: str) -> "List[str]":
    return [p for p in PROGRAMS[target] if shutil.which(p) is None]


def _check(cmd: "List[str]", cwd: str, timeout: float = 600) -> str:
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r.stdout + r.stderr


def flags(target: str, opt: str = "") -> "Tuple[str, List[str], List[str]]":
    """(compiler, compile flags, link flags) for ``target``; warnings are errors."""
    if target in ("host-gcc", "host-clang"):
        cc = "gcc" if target == "host-gcc" else "clang"
        return cc, WARN + [opt or "-O2", "-I", os.path.join(HERE, "host"), "-I", "."], ["-lm"]
    if target in ARM_FLAGS:
        cflags = ARM_FLAGS[target] + WARN + [opt or "-O2", "-ffunction-sections", "-fdata-sections", "-I", os.path.join(HERE, "arm"), "-I", "."]
        ldflags = ARM_FLAGS[target] + ["-nostartfiles", "-T", os.path.join(HERE, "arm", "link.ld"), "-Wl,--gc-sections", "-lm", "-lc", "-lgcc"]
        return "arm-none-eabi-gcc", cflags, ldflags
    if target == "avr":
        mcu = ["-mmcu=" + AVR_MCU]
        return "avr-gcc", mcu + ["-DF_CPU=16000000UL"] + WARN + [opt or "-Os", "-I", os.path.join(HERE, "avr"), "-I", "."], mcu + ["-lm"]
    raise ValueError("unknown target %r" % target)


def sizes(target: str, elf: str) -> "Tuple[int, int, int]":
    """(text, data, bss) from size / arm-none-eabi-size / avr-size."""
    tool = {"avr": "avr-size", "m4f": "arm-none-eabi-size", "m3": "arm-none-eabi-size"}.get(target, "size")
    lines = _check([tool, elf], os.path.dirname(elf)).splitlines()
    text, data, bss = (int(v) for v in lines[1].split()[:3])
    return text, data, bss


def build(
    target: str,
    workdir: str,
    cases: "Sequence[Case]",
    main: "Optional[str]" = None,
    units: "Optional[Dict[str, str]]" = None,
    opt: str = "",
    jobs: int = 0,
) -> str:
    """Write the headers, one translation unit per case (or ``units``) and main.c into
    ``workdir``, compile them in parallel and link; return the executable."""
    os.makedirs(workdir, exist_ok=True)
    for c in cases:
        with open(os.path.join(workdir, c.name + ".h"), "w") as f:
            f.write(c.header())
    if units is None:
        units = {c.name + "_run": render_case(c) for c in cases}
    units = dict(units)
    units["main"] = main if main is not None else render_main(cases)
    for u, text in units.items():
        with open(os.path.join(workdir, u + ".c"), "w") as f:
            f.write(text)
    cc, cflags, ldflags = flags(target, opt)
    if target == "avr":  # weights in flash: 2 KB of RAM
        cflags = cflags + ["-D%s_USE_PROGMEM" % c.name for c in cases if c.progmem]
    plat = "arm" if target in ARM_FLAGS else "host" if target.startswith("host") else target
    sources = [u + ".c" for u in units] + [os.path.join(HERE, plat, "platform.c")]
    if target in ARM_FLAGS:
        sources.append(os.path.join(HERE, "arm", "startup.c"))

    def compile_one(src: str) -> str:
        obj = os.path.join(workdir, os.path.basename(src)[:-2] + ".o")
        _check([cc] + cflags + ["-c", src, "-o", obj], workdir)
        return obj

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        objs = list(pool.map(compile_one, sources))
    exe = os.path.join(workdir, "main.elf" if target in ("m4f", "m3", "avr") else "main")
    _check([cc] + objs + ["-o", exe] + ldflags, workdir)
    if target == "avr":
        text, data, bss = sizes(target, exe)
        if text + data > AVR_FLASH:
            raise RuntimeError("%s: %d bytes of flash, more than the ATmega328P's %d" % (exe, text + data, AVR_FLASH))
        if data + bss > AVR_RAM - 600:
            raise RuntimeError("%s: %d bytes of static RAM leaves too little stack" % (exe, data + bss))
    return exe


def run(target: str, exe: str, timeout: float = 600) -> str:
    """Run ``exe`` on ``target``; return what it printed."""
    if target in ("host-gcc", "host-clang"):
        return _check([exe], os.path.dirname(exe), timeout)
    if target in QEMU_MACHINE:
        cmd = [
            "qemu-system-arm", "-M", QEMU_MACHINE[target], "-nographic", "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native", "-kernel", exe,
        ]
        return _check(cmd, os.path.dirname(exe), timeout)
    if target == "avr":
        r = subprocess.run(
            ["simavr", "-m", AVR_MCU, "-f", "16000000", exe], cwd=os.path.dirname(exe),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout,
        )
        # simavr prints UART0 lines on stderr, coloured, each '\n' shown as '.'
        text = re.sub(r"\x1b\[[0-9;]*m", "", r.stderr)
        lines = [ln[:-1] if ln.endswith(".") else ln for ln in text.splitlines()]
        if r.returncode != 0:
            raise RuntimeError("simavr failed (%d): %s" % (r.returncode, text[-2000:]))
        return "\n".join(lines) + "\n"
    raise ValueError("unknown target %r" % target)


def parse(text: str, cases: "Sequence[Case]") -> "List[List[Tuple[int, List[float], List[float]]]]":
    """Per case, per step: (rc, logits, state or [])."""
    words = text.split()
    if "E" not in words:
        raise RuntimeError("firmware output has no end marker:\n" + text[-2000:])
    pos = 0
    out = []
    for c in cases:
        while pos < len(words) and words[pos] != "M":
            pos += 1
        pos += 1
        steps = []
        Y, H = c.model.Y, state_floats(c.model)
        for t in range(c.steps):
            if words[pos] != "T":
                raise RuntimeError("case %s step %d: expected T, got %r" % (c.name, t, words[pos]))
            rc = int(words[pos + 1])
            pos += 2
            z = [bits_f32(int(w, 16)) for w in words[pos : pos + Y]]
            pos += Y
            h = []  # type: List[float]
            if c.print_state:
                h = [bits_f32(int(w, 16)) for w in words[pos : pos + H]]
                pos += H
            steps.append((rc, z, h))
        out.append(steps)
    return out


def f32_model(model: RNN) -> RNN:
    """A copy of ``model`` with every weight rounded to float32 (math stays float64)."""
    m = blank_like(model)  # type: RNN
    m.params[:] = [f32(v) for v in model.params]
    return m


def reference(case: Case) -> "List[Tuple[int, List[float], List[float]]]":
    """What the C should print, computed in float64 with float32 weights, inputs and loaded states."""
    m = f32_model(case.model)
    s = m.new_state()
    z = [0.0] * m.Y
    out = []
    for t in range(case.steps):
        if case.states is not None:
            s[:] = [f32(v) for v in case.states[t]]
        x = case.inputs[t % len(case.inputs)]
        rc = 0
        if case.dense:
            m.step(s, [f32(v) for v in x], z)
        elif 0 <= x < m.X:
            m.step(s, x, z)
        else:
            rc = -1
            z = [0.0] * m.Y
        out.append((rc, list(z), list(s)))
    return out


def bins(cases: "Sequence[Case]", limit: int) -> "List[List[Case]]":
    """Greedy first-fit of cases into firmwares of at most ``limit`` estimated flash bytes."""
    out = []  # type: List[List[Case]]
    for c in sorted(cases, key=lambda c: -c.flash_estimate()):
        for b in out:
            if sum(x.flash_estimate() for x in b) + c.flash_estimate() <= limit:
                b.append(c)
                break
        else:
            out.append([c])
    return out


def run_groups(target: str, groups: "Sequence[Sequence[Case]]", base: str, timeout: float = 900) -> "Dict[str, Tuple[Case, Any]]":
    """Build one firmware per group of cases in ``base``/fwK and run them (two at a time when there
    are several); return {case name: (case, parsed output)}."""

    def go(k: int) -> "Tuple[Sequence[Case], Any]":
        exe = build(target, os.path.join(base, "fw%d" % k), groups[k], jobs=1 if len(groups) > 1 else 0)
        return groups[k], parse(run(target, exe, timeout=timeout), groups[k])

    out = {}
    with ThreadPoolExecutor(max_workers=2 if len(groups) > 1 else 1) as pool:
        for group, parsed in pool.map(go, range(len(groups))):
            for c, r in zip(group, parsed):
                out[c.name] = (c, r)
    return out


def max_error(got: "List[Tuple[int, List[float], List[float]]]", want: "List[Tuple[int, List[float], List[float]]]") -> "Dict[str, float]":
    """Worst absolute and scaled (|d| / max(1, |z|)) logit errors; rc mismatches count as inf."""
    worst_abs = worst_scaled = 0.0
    for (rc, z, _), (rc_w, z_w, _) in zip(got, want):
        if rc != rc_w or len(z) != len(z_w):
            return {"abs": math.inf, "scaled": math.inf}
        for a, b in zip(z, z_w):
            d = abs(a - b) if math.isfinite(a) else math.inf
            worst_abs = max(worst_abs, d)
            worst_scaled = max(worst_scaled, d / max(1.0, abs(b)))
    return {"abs": worst_abs, "scaled": worst_scaled}


U32 = 2.0 ** -24  # float32 unit roundoff


def _gamma(n: int) -> float:
    return n * U32 / (1.0 - n * U32)


def error_bounds(case: Case) -> "List[List[float]]":
    """Per step, per logit: an a-priori bound on |C float32 logit - exact logit| for a one-step case.

    Sequential float32 sums of n terms err by at most gamma_n * sum|terms|
    (Higham, Accuracy and Stability of Numerical Algorithms, 3.1); tanhf is
    allowed 8 units of roundoff; the state error then passes through Why.
    """
    if case.states is None:
        raise ValueError("error bounds are for one-step cases")
    m = f32_model(case.model)
    X, H, Y, L, P = m.X, m.H, m.Y, m.layout, m.params
    out = []
    s = m.new_state()
    z = [0.0] * Y
    for t in range(case.steps):
        h = [f32(v) for v in case.states[t]]
        x = case.inputs[t % len(case.inputs)]
        if not case.dense and not 0 <= x < X:
            out.append([0.0] * Y)
            continue
        dh = []
        for i in range(H):
            acc = abs(P[L.bh + i]) + sum(abs(P[L.Whh + i * H + j] * h[j]) for j in range(H))
            if case.dense:
                acc += sum(abs(P[L.Wxh + i * X + j] * f32(x[j])) for j in range(X))
                n = X + H + 1
            else:
                acc += abs(P[L.Wxh + i * X + x])
                n = H + 2
            dh.append(_gamma(n) * acc + 8 * U32)
        s[:] = h
        m.step(s, [f32(v) for v in x] if case.dense else x, z)
        row = []
        for k in range(Y):
            w = P[L.Why + k * H : L.Why + (k + 1) * H]
            acc = abs(P[L.by + k]) + sum(abs(w[j] * s[j]) for j in range(H))
            row.append(_gamma(H + 1) * acc + sum(abs(w[j]) * dh[j] for j in range(H)))
        out.append(row)
    return out


# A decimal writer for the firmware mains of the benches (plat_write is the only output).
PUT_U32 = """\
static void put_u32(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do {
        b[--i] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v && i > 0);
    plat_write(b + i);
    plat_write("\\n");
}
"""
