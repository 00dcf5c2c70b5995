"""The C header generator: exact float32 constants, names, hostile inputs, CLI, compilers, runtime API."""

import json
import math
import os
import re
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import c_targets as ct  # noqa: E402
from support import require_program  # noqa: E402

from tinyrnn import RNN, Rng, init_params  # noqa: E402
from tinyrnn.workflow import checkpoint as ckpt_mod  # noqa: E402
from tinyrnn.cli import main as cli_main  # noqa: E402
from tinyrnn.export.c import ExportError, c_float, check_name, f32, header, weights_hash  # noqa: E402

FLT_MAX = 3.4028234663852886e38
FLT_TRUE_MIN = 1.401298464324817e-45
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, FLT_MAX, -FLT_MAX, FLT_TRUE_MIN, 1.17549435e-38, 1e-40, 1e-50,
           16777217.0, 3.4028235e38, 2.5, -1e-7, 123456789.0, 0.30000001192092896]
HOSTILE_VOCAB = ["*", "/", '"', "\\", "\n", "\x00", "\U0001F600", "\u2028", "?", "'", "\r", "\ud800", "\x7f", "\t", "a", " "]


def model_for(X=3, H=4, Y=2, head="softmax", seed=1, scale=0.5):
    m = RNN(X, H, Y, 5, head)
    init_params(m, seed, "uniform", scale)
    rng = Rng(seed + 100)
    for g in ("bh", "by"):
        off = m.layout.groups[g][0]
        for k in range(off, off + m.layout.group_size(g)):
            m.params[k] = rng.uniform(-scale, scale)
    return m


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def host_run(tmp_path, headers, main_c, cc="gcc"):
    """Compile main.c with the given headers warning-free on the host; return its stdout."""
    require_program(cc)
    for name, text in headers.items():
        (tmp_path / (name + ".h")).write_text(text)
    (tmp_path / "main.c").write_text(main_c)
    exe = str(tmp_path / "main")
    subprocess.run([cc] + ct.WARN + ["-O2", "main.c", "-o", exe, "-lm"], cwd=str(tmp_path), check=True)
    return subprocess.run([exe], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout


# ---------------------------------------------------------------- floats

def test_c_float_reads_back_as_the_same_float32():
    rng = Rng(3)
    values = SPECIAL + [rng.normal() * 10.0 ** rng.below(30) for _ in range(2000)] + [rng.uniform(-1, 1) for _ in range(2000)]
    for v in values:
        s = c_float(v)
        assert re.fullmatch(r"-?(\d+\.\d*|\d+(\.\d*)?e[+-]\d+)f", s), s
        assert struct.pack("<f", float(s[:-1])) == struct.pack("<f", f32(v)), (v, s)
    assert c_float(1.0) == "1.0f" and c_float(-0.0) == "-0.0f" and c_float(1e-50) == "0.0f"
    assert c_float(0.1) == "0.100000001f"  # 9 digits, never a fixed number of decimals
    with pytest.raises(ExportError, match="float32"):
        c_float(1e39)


def test_header_constants_are_bit_exact_in_c_and_hash_matches(tmp_path):
    m = model_for(X=5, H=3, Y=4)
    m.params[: len(SPECIAL)] = SPECIAL
    text = header(m, "exact")
    main = """#include <stdio.h>
#include <string.h>
#include "exact.h"
static uint64_t fnv;
static void dump(const float *a, int n)
{
    int i, k;
    for (i = 0; i < n; ++i) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &a[i], 4);
        printf("%08lx\\n", (unsigned long)u);
        for (k = 0; k < 4; ++k) b[k] = (unsigned char)(u >> (8 * k));
        for (k = 0; k < 4; ++k) fnv = (fnv ^ b[k]) * 0x100000001b3ULL;
    }
}
int main(void)
{
    fnv = 0xcbf29ce484222325ULL;
    dump(exact_Wxh, exact_H_S * exact_X_S);
    dump(exact_Whh, exact_H_S * exact_H_S);
    dump(exact_bh, exact_H_S);
    dump(exact_Why, exact_Y_S * exact_H_S);
    dump(exact_by, exact_Y_S);
    printf("%d\\n", fnv == exact_WEIGHTS_FNV1A64);
    return 0;
}
"""
    out = host_run(tmp_path, {"exact": text}, main).split()
    bits = [int(w, 16) for w in out[:-1]]
    assert bits == [ct.f32_bits(f32(v)) for v in m.params]
    assert out[-1] == "1"
    assert "0x%016xULL" % weights_hash(m.params) in text


def test_weights_hash_is_fnv1a_64_of_float32_bytes():
    # FNV-1a 64 of the empty input is the offset basis; of 1.0f (00 00 80 3f) computed by hand
    assert weights_hash([]) == 0xCBF29CE484222325
    h = 0xCBF29CE484222325
    for b in (0x00, 0x00, 0x80, 0x3F):
        h = ((h ^ b) * 0x100000001B3) % (1 << 64)
    assert weights_hash([1.0]) == h
    assert weights_hash([1.0]) != weights_hash([1.0000001])


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("bad", ["my model", "a*/b", "x/*", "1abc", "", "int", "static", "_Bool", "__x", "_Model",
                                 "a" * 41, "m\u00f6del", "a-b", "a\nb", "a;b", "model\x00"])
def test_bad_model_names_are_refused(bad):
    with pytest.raises(ExportError, match="model name"):
        check_name(bad)
    with pytest.raises(ExportError):
        header(model_for(), bad)


@pytest.mark.parametrize("good", ["model", "m", "_m", "Model_2", "x" * 40, "kws_rnn"])
def test_good_model_names(good):
    assert check_name(good) == good
    assert "#define %s_H_S 4" % good in header(model_for(), good)


# ---------------------------------------------------------------- hostile vocabulary and metadata

def hostile_model():
    m = model_for(X=len(HOSTILE_VOCAB), H=5, Y=len(HOSTILE_VOCAB))
    return m


def test_hostile_vocab_becomes_code_points_only():
    m = hostile_model()
    text = header(m, "evil", vocab=HOSTILE_VOCAB, step=7, metrics={"loss": 1.25, "note": "*/ int pwned; /*"},
                  source="run*/\n#include <evil.h>/*\u00e9.json")
    text.encode("ascii")  # nothing but ASCII
    code = strip_comments(text)
    assert "*/" not in code and "/*" not in code  # every comment was closed where it should be
    assert "pwned" not in text and "evil.h" not in code
    strings = re.findall(r'"(?:[^"\\\n]|\\.)*"', code)
    assert set(strings) <= {'"softmax"', '"token"', '"0.1.0"', '"evil_USE_PROGMEM is for AVR (avr-gcc, avr-libc)"'}, strings
    assert "'" not in code
    table = re.search(r"evil_vocab\[\d+\][^{]*\{([^}]*)\}", code).group(1)
    assert [int(v.rstrip("u"), 16) for v in table.replace(",", " ").split()] == [ord(c) for c in HOSTILE_VOCAB]
    for line in text.splitlines():
        assert "\r" not in line and "\x00" not in line


def test_hostile_vocab_header_compiles_and_runs(tmp_path):
    m = hostile_model()
    text = header(m, "evil", vocab=HOSTILE_VOCAB, source="x*/y\n")
    main = """#include <stdio.h>
#include "evil.h"
int main(void)
{
    int k;
    for (k = -1; k <= evil_X_S; ++k) printf("%lu\\n", (unsigned long)evil_vocab_at(k));
    return 0;
}
"""
    out = [int(v) for v in host_run(tmp_path, {"evil": text}, main).split()]
    assert out == [0xFFFFFFFF] + [ord(c) for c in HOSTILE_VOCAB] + [0xFFFFFFFF]


def test_token_of_inverts_vocab_at_and_is_minus_one_when_absent(tmp_path):
    text = header(hostile_model(), "evil", vocab=HOSTILE_VOCAB)
    absent = [ord("q"), 0x1F601, 0xFFFFFFFF, 0x110000]
    main = """#include <stdio.h>
#include "evil.h"
int main(void)
{
    static const uint32_t cps[] = {%s};
    unsigned k;
    for (k = 0; k < sizeof cps / sizeof cps[0]; ++k) printf("%%d\\n", evil_token_of(cps[k]));
    return 0;
}
""" % ", ".join("0x%xu" % c for c in [ord(c) for c in HOSTILE_VOCAB] + absent)
    out = [int(v) for v in host_run(tmp_path, {"evil": text}, main).split()]
    assert out == list(range(len(HOSTILE_VOCAB))) + [-1] * len(absent)


@pytest.mark.parametrize("head,vocab", [("softmax", True), ("softmax", False), ("sigmoid", False), ("mse", False)])
def test_api_block_lists_every_function_of_the_header(head, vocab):
    m = model_for(X=3, Y=3, head=head)
    text = header(m, "kws", vocab=list("abc") if vocab else None)
    block = text[: text.index("*/")]
    defined = set(re.findall(r"^kws_API_ [a-z0-9_ ]+?\**(kws_[a-z_]+[a-z])\(", text, flags=re.M))
    assert {"kws_reset", "kws_step", "kws_step_token", "kws_output", "kws_argmax"} <= defined
    assert ("kws_token_of" in defined) == vocab == ("kws_vocab_at" in defined)
    assert ("kws_sample" in defined) == (head == "softmax") == ("kws_rng_next" in defined)
    for f in defined:
        assert re.search(r"\b%s\(" % f, block), f  # every public function is in the API block
    assert "plain struct" in block and "snapshot" in block


def test_multi_character_token_is_a_clear_error():
    m = model_for(X=3)
    with pytest.raises(ExportError, match=r"vocab\[1\] is 2 characters"):
        header(m, "m", vocab=["a", "*/", "b"])


def test_nonfinite_or_wrong_length_params_are_clear_errors():
    m = model_for()
    m.params[3] = math.nan
    with pytest.raises(ExportError, match="parameter 3"):
        header(m)
    m = model_for()
    m.params.append(0.0)
    with pytest.raises(ExportError, match="parameters, expected"):
        header(m)
    m = model_for()
    m.params[0] = 1e39
    with pytest.raises(ExportError, match="float32"):
        header(m)
    with pytest.raises(ExportError, match="vocabulary has 2 entries"):
        header(model_for(X=3), vocab=["a", "b"])
    with pytest.raises(ExportError, match="too large"):
        header(RNN(40000, 1, 1, 1))


# ---------------------------------------------------------------- CLI and script

def save_ckpt(path, X=6, H=4, vocab=True):
    m = model_for(X=X, H=H, Y=X)
    v = list("ab*/\n\"")[:X] if vocab else None
    ckpt_mod.save(str(path), ckpt_mod.Checkpoint(m, "token", v, step=42, metrics={"eval_loss": 1.5}))
    return m


def test_cli_export_writes_the_header(tmp_path):
    src = tmp_path / "c.json"
    m = save_ckpt(src)
    out = tmp_path / "model.h"
    assert cli_main(["export", str(src), "-o", str(out), "--name", "kws"]) == 0
    text = out.read_text()
    assert text == header(m, "kws", "token", vocab=list("ab*/\n\""), step=42, metrics={"eval_loss": 1.5}, source="c.json", filename="model.h")
    assert text.startswith("/* model.h -- tinyrnn ")  # the header calls itself by its file name, not NAME.h
    assert "#define kws_TRAIN_STEP 42L" in text and "#define kws_EVAL_LOSS 1.5f" in text
    assert "kws_USE_PROGMEM 1 /* exported with --progmem */" not in text
    assert cli_main(["export", str(src), "-o", str(out), "--progmem"]) == 0
    assert "#define model_USE_PROGMEM 1" in out.read_text()


def run_script(args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "export.py")] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def test_tools_script_does_the_same(tmp_path):
    src = tmp_path / "c.json"
    save_ckpt(src)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r = run_script([str(src), "-o", str(tmp_path / "a" / "m.h"), "--name", "net"])
    assert r.returncode == 0, r.stderr
    assert cli_main(["export", str(src), "-o", str(tmp_path / "b" / "m.h"), "--name", "net"]) == 0
    assert (tmp_path / "a" / "m.h").read_text() == (tmp_path / "b" / "m.h").read_text()


def one_line_error(r, *needles):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_cli_errors_are_one_line_exit_2(tmp_path):
    src = tmp_path / "c.json"
    save_ckpt(src)
    out = tmp_path / "m.h"
    one_line_error(run_script([str(src), "-o", str(out), "--name", "my model"]), "'my model'", "C identifier")
    one_line_error(run_script([str(src), "-o", str(out), "--name", "x*/"]), "C identifier")
    one_line_error(run_script([str(src), "-o", str(out), "--name", "for"]), "keyword")
    d = json.loads(src.read_text())
    bad = dict(d, params=d["params"][:-1])
    (tmp_path / "short.json").write_text(json.dumps(bad))
    one_line_error(run_script([str(tmp_path / "short.json"), "-o", str(out)]), "short.json", "'params'", "expected")
    bad = dict(d, vocab=d["vocab"][:-1])
    (tmp_path / "vocab.json").write_text(json.dumps(bad))
    one_line_error(run_script([str(tmp_path / "vocab.json"), "-o", str(out)]), "'vocab'")
    bad = dict(d, vocab=["a", "bc", "d", "e", "f", "g"])
    (tmp_path / "multi.json").write_text(json.dumps(bad))
    one_line_error(run_script([str(tmp_path / "multi.json"), "-o", str(out)]), "vocab[1]")
    (tmp_path / "trunc.json").write_text(src.read_text()[:100])
    one_line_error(run_script([str(tmp_path / "trunc.json"), "-o", str(out)]), "trunc.json")
    one_line_error(run_script([str(tmp_path / "missing.json"), "-o", str(out)]), "missing.json")
    one_line_error(run_script([str(src), "-o", str(tmp_path / "no" / "dir" / "m.h")]), "m.h")
    assert not out.exists()  # nothing half-written


def test_hostile_checkpoint_file_name_stays_in_its_comment(tmp_path):
    src = tmp_path / "x*\n#define y 1\n??\\\u00e9.json"  # a file name cannot hold "/", header(source=) is tested above
    save_ckpt(src)
    out = tmp_path / "m.h"
    assert cli_main(["export", str(src), "-o", str(out)]) == 0
    text = out.read_text()
    assert " * source: x__#define y 1_____.json\n" in text
    assert "define y" not in strip_comments(text)


# ---------------------------------------------------------------- every compiler, with and without PROGMEM

USE_ALL = """#include "evil.h"
#include "dense1.h"
float z1[evil_Y_S], y1[evil_Y_S], z2[dense1_Y_S];
int main(void)
{
    evil_state_t s;
    dense1_state_t d;
    float x[dense1_X_S] = {0.5f};
    int rc;
    evil_reset(&s);
    rc = evil_step_token(&s, 3, z1);
    evil_output(z1, y1);
    dense1_reset(&d);
    dense1_step(&d, x, z2);
    return rc + evil_argmax(y1) + dense1_argmax(z2) + (int)evil_vocab_at(0);
}
"""
ONLY_INCLUDE = '#include "evil.h"\n#include "dense1.h"\nint main(void) { return 0; }\n'


@pytest.mark.parametrize("compiler", ["gcc", "clang", "arm-none-eabi-gcc", "avr-gcc"])
def test_headers_compile_warning_free(compiler, tmp_path):
    require_program(compiler)
    (tmp_path / "evil.h").write_text(header(hostile_model(), "evil", vocab=HOSTILE_VOCAB, progmem=True))
    one = RNN(1, 1, 1, 1, "sigmoid")
    (tmp_path / "dense1.h").write_text(header(one, "dense1", "dense"))
    (tmp_path / "use.c").write_text(USE_ALL)
    (tmp_path / "inc.c").write_text(ONLY_INCLUDE)
    target = {"gcc": [], "clang": [], "arm-none-eabi-gcc": ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
              "avr-gcc": ["-mmcu=atmega328p"]}[compiler]
    variants = [[]] + ([["-Ddense1_USE_PROGMEM"], ["-Devil_USE_PROGMEM", "-Ddense1_USE_PROGMEM"]] if compiler == "avr-gcc" else [])
    if compiler == "arm-none-eabi-gcc":
        variants.append(["-mcpu=cortex-m3", "-mfloat-abi=soft"])
    for extra in variants:
        for src in ("use.c", "inc.c"):  # inc.c: unused functions must not warn either
            r = subprocess.run([compiler] + target + extra + ct.WARN + ["-Os", "-c", src, "-o", "x.o"], cwd=str(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            assert r.returncode == 0 and r.stdout == "", (extra, src, r.stdout)
    if compiler != "avr-gcc":  # PROGMEM elsewhere is a clear error, not a silent no-op
        r = subprocess.run([compiler] + target + ["-Devil_USE_PROGMEM", "-c", "use.c", "-o", "x.o"], cwd=str(tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        assert r.returncode != 0 and "evil_USE_PROGMEM is for AVR" in r.stdout


def test_progmem_puts_weights_in_flash_not_ram(tmp_path):
    """A 32-unit char model (V = 65: 8.8 KB of weights) fits the ATmega328P's 2 KB of RAM only from flash."""
    require_program("avr-gcc")
    require_program("avr-size")
    m = RNN(65, 32, 65, 1)
    init_params(m, 1)
    (tmp_path / "big.h").write_text(header(m, "big", vocab=[chr(32 + k) for k in range(65)], progmem=True))
    (tmp_path / "main.c").write_text("""#include "big.h"
volatile int sink;
int main(void)
{
    big_state_t s;
    float z[big_Y_S];
    big_reset(&s);
    sink = big_step_token(&s, 1, z);
    sink += big_argmax(z) + (int)big_vocab_at(2);
    return 0;
}
""")
    subprocess.run(["avr-gcc", "-mmcu=atmega328p"] + ct.WARN + ["-Os", "main.c", "-o", "m.elf", "-lm"], cwd=str(tmp_path), check=True)
    text, data, bss = ct.sizes("avr", str(tmp_path / "m.elf"))
    assert data + bss < 100  # RAM: no weights
    assert text > 4 * m.num_params  # flash: all of them
    assert "#define big_FLASH_BYTES %dL" % (4 * m.num_params + 4 * 65) in (tmp_path / "big.h").read_text()


# ---------------------------------------------------------------- runtime API on the host

def test_output_and_argmax_match_python(tmp_path):
    zs = [[0.0, 1.0, -1.0], [1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -1000.0], [3.5, 3.5, -2.0], [-800.0, 0.25, 88.0]]
    heads = ("softmax", "sigmoid", "mse")
    hdrs = {}
    for h in heads:
        hdrs["o_" + h] = header(RNN(2, 2, 3, 1, h), "o_" + h)
    rows = ",\n".join("{%s}" % ", ".join(c_float(v) for v in z) for z in zs)
    body = "\n".join(
        "    for (r = 0; r < %d; ++r) { o_%s_output(zs[r], y); for (k = 0; k < 3; ++k) put(y[k]); printf(\"%%d\\n\", o_%s_argmax(zs[r])); }"
        % (len(zs), h, h) for h in heads)
    main = """#include <stdio.h>
#include <string.h>
#include "o_softmax.h"
#include "o_sigmoid.h"
#include "o_mse.h"
static const float zs[%d][3] = {%s};
static void put(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    printf("%%08lx ", (unsigned long)u);
}
int main(void)
{
    float y[3];
    int r, k;
%s
    return 0;
}
""" % (len(zs), rows, body)
    out = host_run(tmp_path, hdrs, main).split()
    pos = 0
    for h in heads:
        m = RNN(2, 2, 3, 1, h)
        for z in zs:
            got = [ct.bits_f32(int(w, 16)) for w in out[pos : pos + 3]]
            am = int(out[pos + 3])
            pos += 4
            want = [0.0] * 3
            m.output(list(z), want)
            for a, b in zip(got, want):
                assert math.isfinite(a) and abs(a - b) <= 1e-6 * max(1.0, abs(b)), (h, z, got, want)
            assert am == list(z).index(max(z))  # first index on ties


def test_reset_and_token_steps_equal_one_hot_dense_steps(tmp_path):
    """step_token(k) is step(one-hot k) exactly (the gather adds the same single term), and reset zeroes h."""
    m = model_for(X=4, H=6, Y=3, head="mse", seed=9, scale=1.0)
    hdr = header(m, "tk")
    main = """#include <stdio.h>
#include <string.h>
#include "tk.h"
static void put(const float *v, int n)
{
    int i;
    for (i = 0; i < n; ++i) { uint32_t u; memcpy(&u, &v[i], 4); printf("%08lx ", (unsigned long)u); }
    printf("\\n");
}
int main(void)
{
    static const int toks[6] = {0, 3, 1, 1, 2, 0};
    tk_state_t a, b;
    float za[tk_Y_S], zb[tk_Y_S];
    int t, k;
    memset(&a, 0x7f, sizeof a);
    tk_reset(&a);
    put(a.h, tk_H_S);
    tk_reset(&b);
    for (t = 0; t < 6; ++t) {
        float x[tk_X_S];
        for (k = 0; k < tk_X_S; ++k) x[k] = k == toks[t] ? 1.0f : 0.0f;
        (void)tk_step_token(&a, toks[t], za);
        tk_step(&b, x, zb);
        put(za, tk_Y_S);
        put(zb, tk_Y_S);
    }
    return 0;
}
"""
    lines = host_run(tmp_path, {"tk": hdr}, main).splitlines()
    assert lines[0].split() == ["00000000"] * 6
    for t in range(6):
        assert lines[1 + 2 * t] == lines[2 + 2 * t]
