"""Hostile input and faults (issue 13): every bad input ends in exit 2 and one line naming the file or option.

Crafted checkpoints, data files, special files and options across info,
sample, eval, export and train --resume, run in-process through
``tinyrnn.cli.main`` (a few in a subprocess for the real exit path; the
memory cases in a subprocess under a 512 MB address-space cap, see
test_hostile_faults.py).
"""

import copy
import json
import os
import stat

import pytest

from tinyrnn.cli import main
from tinyrnn.workflow.checkpoint import load

TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 4
SMALL = ["--hidden", "4", "--seq-length", "8", "--log-every", "2", "--eval-every", "4", "--checkpoint-every", "2", "--quiet"]


def call(capsys, argv):  # type: ignore[no-untyped-def]
    """(status, stdout, stderr) of main(argv), in-process."""
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as e:  # argparse
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_clean_error(status, err, *needles):  # type: ignore[no-untyped-def]
    assert status == 2, (status, err)
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("tinyrnn ") and ": error: " in err, err
    for n in needles:
        assert n in err, (n, err)


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A trained character model, a sequence model, their data, as JSON dicts and paths."""
    d = tmp_path_factory.mktemp("world")
    text = d / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = d / "char"
    assert main(["train", str(text), "--steps", "4", "--out", str(out)] + SMALL) == 0
    seq = d / "seq.jsonl"
    rows = [{"x": [1, 0, 1, 1], "y_final": 1}, {"x": [0, 0, 1, 0], "y_final": 0}] * 4
    seq.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sout = d / "seqm"
    assert main(["train", str(seq), "--head", "softmax", "--steps", "4", "--out", str(sout)] + SMALL) == 0
    with open(str(out / "model.json"), encoding="utf-8") as f:
        char = json.load(f)
    with open(str(sout / "model.json"), encoding="utf-8") as f:
        seqm = json.load(f)
    return {"dir": d, "text": str(text), "char": char, "seq": str(seq), "seqm": seqm}


def command(kind, ck, world, tmp):  # type: ignore[no-untyped-def]
    """argv running ``kind`` on checkpoint ``ck``."""
    return {
        "info": ["info", ck],
        "sample": ["sample", ck, "-n", "5"],
        "eval": ["eval", ck, world["text"]],
        "export": ["export", ck, "-o", os.path.join(tmp, "m.h")],
        "resume": ["train", "--resume", ck, "--steps", "6", "--out", os.path.join(tmp, "o"), "--quiet"],
    }[kind]


COMMANDS = ("info", "sample", "eval", "export", "resume")


# ----------------------------------------------- checkpoint mutations x 5 commands
def _set(path, value):  # type: ignore[no-untyped-def]
    def f(d):  # type: ignore[no-untyped-def]
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        return d
    return f


def _del(path):  # type: ignore[no-untyped-def]
    def f(d):  # type: ignore[no-untyped-def]
        node = d
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
        return d
    return f


BIG = 10 ** 400
LOAD_MUTATIONS = {
    # dimensions that would allocate gigabytes, or make no sense
    "dims-huge-T": (_set(["dims"], {"X": 1024, "H": 1, "Y": 1024, "T": 1048576}), "dims"),
    "dims-H-2^20": (_set(["dims", "H"], 2 ** 20), "dims.H"),
    "dims-X-2^40": (_set(["dims", "X"], 2 ** 40), "dims.X"),
    "dims-Y-huge": (_set(["dims", "Y"], 10 ** 7), "dims.Y"),
    "dims-T-huge": (_set(["dims", "T"], 10 ** 9), "dims.T"),
    "dims-H-zero": (_set(["dims", "H"], 0), "dims.H"),
    "dims-X-negative": (_set(["dims", "X"], -3), "dims.X"),
    "dims-T-float": (_set(["dims", "T"], 8.5), "dims.T"),
    "dims-T-bool": (_set(["dims", "T"], True), "dims.T"),
    "dims-H-string": (_set(["dims", "H"], "4"), "dims.H"),
    "dims-missing-Y": (_del(["dims", "Y"]), "dims.Y"),
    "dims-list": (_set(["dims"], [1, 2, 3, 4]), "dims"),
    "dims-400-digit": (_set(["dims", "H"], BIG), "digits"),
    "params-400-digit": (lambda d: (d["params"].__setitem__(0, BIG), d)[1], "digits"),
    "step-400-digit": (_set(["step"], BIG), "digits"),
    "step-2^63": (_set(["step"], 2 ** 63), "step"),
    "step-negative": (_set(["step"], -1), "step"),
    "step-float": (_set(["step"], 1.5), "step"),
    "params-short": (lambda d: (d["params"].pop(), d)[1], "params"),
    "params-long": (lambda d: (d["params"].append(0.0), d)[1], "params"),
    "params-string": (lambda d: (d["params"].__setitem__(3, "0.1"), d)[1], "params[3]"),
    "params-bool": (lambda d: (d["params"].__setitem__(2, True), d)[1], "params[2]"),
    "params-null": (lambda d: (d["params"].__setitem__(1, None), d)[1], "params[1]"),
    "params-nested": (lambda d: (d["params"].__setitem__(0, [0.1]), d)[1], "params[0]"),
    "params-dict": (_set(["params"], {"0": 1.0}), "params"),
    "head-bogus": (_set(["head"], "relu"), "head"),
    "head-number": (_set(["head"], 3), "head"),
    "input-bogus": (_set(["input"], "image"), "input"),
    "input-dense-char": (_set(["input"], "dense"), "character model"),
    "head-sigmoid-char": (_set(["head"], "sigmoid"), "character model"),
    "format-wrong": (_set(["format"], "pytorch"), "not a tinyrnn checkpoint"),
    "version-3": (_set(["version"], 3), "version"),
    "version-400-digit": (_set(["version"], BIG), "digits"),
    "vocab-lone-surrogate": (lambda d: (d["vocab"].__setitem__(0, "\ud800"), d)[1], "surrogate"),
    "vocab-low-surrogate": (lambda d: (d["vocab"].__setitem__(1, "\udfff"), d)[1], "surrogate"),
    "vocab-two-chars": (lambda d: (d["vocab"].__setitem__(0, "ab"), d)[1], "vocab[0]"),
    "vocab-empty-string": (lambda d: (d["vocab"].__setitem__(0, ""), d)[1], "vocab[0]"),
    "vocab-number": (lambda d: (d["vocab"].__setitem__(0, 7), d)[1], "vocab[0]"),
    "vocab-duplicate": (lambda d: (d["vocab"].__setitem__(0, d["vocab"][1]), d)[1], "duplicate"),
    "vocab-short": (lambda d: (d["vocab"].pop(), d)[1], "vocab"),
    "vocab-string": (_set(["vocab"], "abc"), "vocab"),
    "char-model-Y-ne-X": (lambda d: _char_y_ne_x(d), "character model"),
    "optimizer-v-negative": (lambda d: (d["optimizer"]["v"].__setitem__(0, -1e-3), d)[1], "optimizer.v[0]"),
    "optimizer-v-short": (lambda d: (d["optimizer"]["v"].pop(), d)[1], "optimizer.v"),
    "optimizer-m-string": (lambda d: (d["optimizer"]["m"].__setitem__(0, "x"), d)[1], "optimizer.m[0]"),
    "optimizer-name": (_set(["optimizer", "name"], "lbfgs"), "optimizer.name"),
    "optimizer-lr-negative": (_set(["optimizer", "lr"], -0.1), "optimizer.lr"),
    "optimizer-lr-zero": (_set(["optimizer", "lr"], 0), "optimizer.lr"),
    "optimizer-t-negative": (_set(["optimizer", "t"], -2), "optimizer.t"),
    "optimizer-t-2^64": (_set(["optimizer", "t"], 2 ** 64), "optimizer.t"),
    "optimizer-list": (_set(["optimizer"], [1, 2]), "optimizer"),
    "rng-negative": (_set(["rng_state"], -1), "rng_state"),
    "rng-2^64": (_set(["rng_state"], 2 ** 64), "rng_state"),
    "rng-string": (_set(["rng_state"], "7"), "rng_state"),
    "config-list": (_set(["config"], [1]), "config"),
    "metrics-string": (_set(["metrics"], "good"), "metrics"),
    "train-state-list": (_set(["train_state"], [0]), "train_state"),
}


def _char_y_ne_x(d):  # type: ignore[no-untyped-def]
    X, H = d["dims"]["X"], d["dims"]["H"]
    Y = X + 1
    d["dims"]["Y"] = Y
    d["params"] = [0.0] * (H * X + H * H + H + Y * H + Y)
    d["optimizer"] = None
    return d


def write_ck(tmp, d):  # type: ignore[no-untyped-def]
    p = os.path.join(tmp, "ck.json")
    if isinstance(d, str):
        d = d.encode("utf-8")
    elif not isinstance(d, bytes):
        d = json.dumps(d).encode("utf-8", "surrogatepass")
    with open(p, "wb") as f:
        f.write(d)
    return p


@pytest.mark.parametrize("kind", COMMANDS)
@pytest.mark.parametrize("name", sorted(LOAD_MUTATIONS))
def test_mutated_checkpoint_is_refused_by_every_command(world, tmp_path, capsys, name, kind):  # type: ignore[no-untyped-def]
    mutate, needle = LOAD_MUTATIONS[name]
    ck = write_ck(str(tmp_path), mutate(copy.deepcopy(world["char"])))
    before = open(ck, "rb").read()
    status, _, err = call(capsys, command(kind, ck, world, str(tmp_path)))
    assert_clean_error(status, err, ck, needle)
    assert open(ck, "rb").read() == before
    assert not os.path.exists(os.path.join(str(tmp_path), "m.h"))


RAW_CHECKPOINTS = {
    "deep-nesting": ("[" * 100000 + "]" * 100000, "nested too deeply"),
    "deep-objects": ('{"a":' * 50000 + "1" + "}" * 50000, "nested too deeply"),
    "400-digit-anywhere": ('{"format": "tinyrnn-checkpoint", "x": %d}' % BIG, "digits"),
    "float-1e999": ('{"format": "tinyrnn-checkpoint", "version": 1e999}', "out of range"),
    "nan-literal": ('{"format": "tinyrnn-checkpoint", "version": NaN}', "NaN"),
    "infinity-literal": ('{"format": "tinyrnn-checkpoint", "version": -Infinity}', "Infinity"),
    "empty": ("", "empty"),
    "whitespace": ("   \n\t ", "empty"),
    "truncated": (None, "not valid JSON"),
    "not-utf8": (b"\xff\xfe{}", "UTF-8"),
    "json-array": ("[1, 2, 3]", "not a tinyrnn checkpoint"),
    "json-string": ('"tinyrnn-checkpoint"', "not a tinyrnn checkpoint"),
    "json-null": ("null", "not a tinyrnn checkpoint"),
    "trailing-garbage": (None, "not valid JSON"),
}


@pytest.mark.parametrize("kind", COMMANDS)
@pytest.mark.parametrize("name", sorted(RAW_CHECKPOINTS))
def test_raw_checkpoint_bytes_are_refused(world, tmp_path, capsys, name, kind):  # type: ignore[no-untyped-def]
    content, needle = RAW_CHECKPOINTS[name]
    good = json.dumps(world["char"])
    if name == "truncated":
        content = good[: len(good) // 2]
    elif name == "trailing-garbage":
        content = good + " }{"
    ck = write_ck(str(tmp_path), content)
    status, _, err = call(capsys, command(kind, ck, world, str(tmp_path)))
    assert_clean_error(status, err, ck, needle)


# -------------------------------------------- special files as checkpoint and data
def _special(kind, tmp):  # type: ignore[no-untyped-def]
    if kind == "dev-zero":
        return "/dev/zero", "character device"
    if kind == "dev-urandom":
        return "/dev/urandom", "character device"
    if kind == "symlink-dev-zero":
        p = os.path.join(tmp, "link.json")
        os.symlink("/dev/zero", p)
        return p, "character device"
    if kind == "fifo":
        p = os.path.join(tmp, "fifo.json")
        os.mkfifo(p)
        return p, "FIFO"
    if kind == "directory":
        p = os.path.join(tmp, "dir.json")
        os.mkdir(p)
        return p, "directory"
    if kind == "missing":
        return os.path.join(tmp, "nope.json"), "No such file"
    if kind == "dangling-symlink":
        p = os.path.join(tmp, "dangling.json")
        os.symlink(os.path.join(tmp, "gone"), p)
        return p, "No such file"
    if kind == "unreadable":
        p = os.path.join(tmp, "secret.json")
        with open(p, "w") as f:
            f.write("{}")
        os.chmod(p, 0)
        return p, None
    raise AssertionError(kind)


SPECIALS = ("dev-zero", "dev-urandom", "symlink-dev-zero", "fifo", "directory", "missing", "dangling-symlink", "unreadable")


@pytest.mark.parametrize("kind", COMMANDS)
@pytest.mark.parametrize("special", SPECIALS)
def test_special_file_as_checkpoint(world, tmp_path, capsys, special, kind):  # type: ignore[no-untyped-def]
    p, needle = _special(special, str(tmp_path))
    if special == "unreadable" and os.access(p, os.R_OK):
        needle = "not a tinyrnn checkpoint"  # root reads anything: then it is just not a checkpoint
    status, _, err = call(capsys, command(kind, p, world, str(tmp_path)))
    assert_clean_error(status, err, p, needle or "Permission denied")


@pytest.mark.parametrize("cmd", ("train", "eval"))
@pytest.mark.parametrize("special", SPECIALS)
def test_special_file_as_data(world, tmp_path, capsys, special, cmd):  # type: ignore[no-untyped-def]
    p, needle = _special(special, str(tmp_path))
    if special == "unreadable" and os.access(p, os.R_OK):
        return  # root: a readable two-byte file is valid data
    ck = write_ck(str(tmp_path), world["char"])
    argv = ["train", p, "--out", str(tmp_path / "o")] + SMALL if cmd == "train" else ["eval", ck, p]
    status, _, err = call(capsys, argv)
    assert_clean_error(status, err, p, needle or "Permission denied")


@pytest.mark.parametrize("special", ("dev-zero", "fifo", "symlink-dev-zero", "directory"))
def test_resume_with_config_data_pointing_at_a_special_file(world, tmp_path, capsys, special):  # type: ignore[no-untyped-def]
    p, needle = _special(special, str(tmp_path))
    d = copy.deepcopy(world["char"])
    d["config"]["data"] = p
    ck = write_ck(str(tmp_path), d)
    status, _, err = call(capsys, ["train", "--resume", ck, "--steps", "6", "--out", str(tmp_path / "o")])
    assert_clean_error(status, err, p, needle)


# ------------------------------------------------------ config / train_state on resume
RESUME_MUTATIONS = {
    "eval-fraction-null": (_set(["config", "eval_fraction"], None), "eval-fraction"),
    "eval-fraction-huge": (_set(["config", "eval_fraction"], 1e308), "eval-fraction"),
    "eval-fraction-negative": (_set(["config", "eval_fraction"], -0.5), "eval-fraction"),
    "data-list": (_set(["config", "data"], ["a", "b"]), "config.data"),
    "data-number": (_set(["config", "data"], 3), "config.data"),
    "format-bogus": (_set(["config", "format"], "bogus"), "config.format"),
    "missing-hidden": (_del(["config", "hidden"]), "config.hidden"),
    "missing-seed": (_del(["config", "seed"]), "config.seed"),
    "missing-head": (_del(["config", "head"]), "config.head"),
    "missing-sha": (_del(["config", "data_sha256"]), "config"),
    "sha-number": (_set(["config", "data_sha256"], 12), "config.data_sha256"),
    "lr-string": (_set(["config", "lr"], "fast"), "lr"),
    "lr-zero": (_set(["config", "lr"], 0), "lr"),
    "steps-negative": (_set(["config", "steps"], -5), "steps"),
    "clip-bogus": (_set(["config", "clip"], "sometimes"), "clip"),
    "log-every-zero": (_set(["config", "log_every"], 0), "log-every"),
    "start-loss-negative": (_set(["config", "start_loss"], -1.0), "config.start_loss"),
    "epoch-huge-float": (_set(["train_state", "epoch"], 1e308), "train_state"),
    "epoch-negative": (_set(["train_state", "epoch"], -1), "train_state"),
    "epoch-string": (_set(["train_state", "epoch"], "one"), "train_state"),
    "pos-huge": (_set(["train_state", "pos"], 10 ** 30), "train_state"),
    "pos-negative": (_set(["train_state", "pos"], -1), "train_state"),
    "task-seq": (_set(["train_state", "task"], "seq"), "train_state"),
    "hprev-short": (_set(["train_state", "hprev"], [0.0]), "train_state"),
    "hprev-strings": (lambda d: _set(["train_state", "hprev"], ["x"] * d["dims"]["H"])(d), "train_state"),
    "train-state-null": (_set(["train_state"], None), "train_state"),
    "rng-null": (_set(["rng_state"], None), "rng_state"),
    "optimizer-null": (_set(["optimizer"], None), "optimizer"),
    "missing-epoch": (_del(["train_state", "epoch"]), "train_state"),
}


@pytest.mark.parametrize("name", sorted(RESUME_MUTATIONS))
def test_resume_refuses_crafted_config_and_train_state(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    mutate, needle = RESUME_MUTATIONS[name]
    ck = write_ck(str(tmp_path), mutate(copy.deepcopy(world["char"])))
    status, _, err = call(capsys, ["train", "--resume", ck, "--steps", "6", "--out", str(tmp_path / "o"), "--quiet"])
    assert_clean_error(status, err, needle)
    assert ck in err or "--" in err


SEQ_STATE_MUTATIONS = {
    "order-out-of-range": (_set(["train_state", "order"], [0, 1, 2, 3, 4, 99]), "train_state"),
    "order-duplicates": (_set(["train_state", "order"], [0, 0, 0, 0, 0, 0]), "train_state"),
    "order-strings": (_set(["train_state", "order"], ["a"]), "train_state"),
    "order-epoch0-garbage": (lambda d: _set(["train_state", "order"], [77])(_set(["train_state", "epoch"], 0)(d)), "train_state"),
    "index-huge": (_set(["train_state", "index"], 10 ** 9), "train_state"),
    "sub-huge": (_set(["train_state", "sub"], 10 ** 9), "train_state"),
    "sub-negative": (_set(["train_state", "sub"], -1), "train_state"),
    "epoch-infinite-like": (_set(["train_state", "epoch"], 1.7e308), "train_state"),
}


@pytest.mark.parametrize("name", sorted(SEQ_STATE_MUTATIONS))
def test_resume_refuses_crafted_sequence_state(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    mutate, needle = SEQ_STATE_MUTATIONS[name]
    d = mutate(copy.deepcopy(world["seqm"]))
    d["config"]["data"] = world["seq"]
    ck = write_ck(str(tmp_path), d)
    status, _, err = call(capsys, ["train", "--resume", ck, "--steps", "6", "--out", str(tmp_path / "o"), "--quiet"])
    assert_clean_error(status, err, ck, needle)


# ---------------------------------------------------------------- data files
DATA_CASES = {
    "token-id-1e9": ('{"x": [1000000000, 0], "y_final": 1}\n', [], "X (inputs of the data) = 1000000001"),
    "class-id-1e7": ('{"x": [0, 1], "y_final": 10000000}\n', ["--head", "softmax"], "Y (outputs of the data) = 10000001"),
    "long-sequence": (None, [], "longest sequence"),
    "400-digit-token": ('{"x": [%d], "y_final": 1}\n' % BIG, [], "digits"),
    "400-digit-target": ('{"x": [1, 0], "y_final": %d}\n' % BIG, [], "digits"),
    "deep-nesting": ('{"x": ' + "[" * 50000 + "]" * 50000 + ', "y_final": 1}\n', [], "nested too deeply"),
    "nan": ('{"x": [[NaN]], "y": [0]}\n', [], "NaN"),
    "1e999": ('{"x": [[1e999]], "y": [0]}\n', [], "finite"),
    "dense-string": ('{"x": [["0.5"]], "y": [0]}\n', [], "expected a number"),
    "dense-bool": ('{"x": [[true]], "y": [0]}\n', [], "expected a number"),
    "dense-dict": ('{"x": [{"a": 1}], "y": [0]}\n', [], "x[0]"),
    "token-bool": ('{"x": [true, 1], "y": [0, 1]}\n', [], "x[0]"),
    "token-negative": ('{"x": [-1, 1], "y": [0, 1]}\n', [], "x[0]"),
    "token-float": ('{"x": [1, 0.5], "y": [0, 1]}\n', [], "x[1]"),
    "ragged": ('{"x": [[1.0], [1.0, 2.0]], "y": [0, 1]}\n', [], "ragged"),
    "y-length": ('{"x": [[1.0], [2.0]], "y": [0]}\n', [], "one target per step"),
    "both-targets": ('{"x": [1], "y": [1], "y_final": 1}\n', [], "exactly one"),
    "no-targets": ('{"x": [1]}\n', [], "exactly one"),
    "unknown-field": ('{"x": [1], "y_final": 1, "z": 2}\n', [], "unknown field"),
    "length-zero": ('{"x": [1, 1], "y_final": 1, "length": 0}\n', [], "length"),
    "length-huge": ('{"x": [1, 1], "y_final": 1, "length": 10000000000}\n', [], "length"),
    "not-object": ("[1, 2, 3]\n", [], "expected a JSON object"),
    "invalid-utf8": (b'{"x": [1], "y_final": 1}\n\xff\xfe\n', [], "UTF-8"),
    "only-blank": ("\n\n  \n", [], "blank"),
    "sigmoid-out-of-range": ('{"x": [[0.0]], "y": [[2.0]]}\n', ["--head", "sigmoid"], "sigmoid"),
    "softmax-float-target": ('{"x": [[0.0]], "y": [[0.5]]}\n', ["--head", "softmax"], "softmax"),
    "mixed-input-kinds": ('{"x": [1], "y_final": 1}\n{"x": [[1.0]], "y_final": 1}\n', [], "inputs"),
    "huge-float-literal": ('{"x": [[1.0]], "y": [%s]}\n' % ("9" * 400 + ".0"), [], "finite"),
}


@pytest.mark.parametrize("name", sorted(DATA_CASES))
def test_crafted_training_data_is_refused(tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    content, opts, needle = DATA_CASES[name]
    p = str(tmp_path / "data.jsonl")
    if name == "long-sequence":
        content = '{"x": [' + ",".join(["0"] * 200001) + '], "y_final": 1}\n'
    with open(p, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    status, _, err = call(capsys, ["train", p, "--out", str(tmp_path / "o"), "--steps", "2"] + opts)
    assert_clean_error(status, err, p, needle)
    assert not os.path.exists(str(tmp_path / "o" / "model.json"))


EVAL_TEXT_CASES = {
    "char-outside-vocab": ("Zebra!", "not in the model's vocabulary"),
    "one-char": ("t", "at least 2 characters"),
    "whitespace-only": ("   ", "whitespace"),
    "invalid-utf8": (b"th\xc3\x28e", "UTF-8"),
    "empty": ("", "empty"),
}


@pytest.mark.parametrize("name", sorted(EVAL_TEXT_CASES))
def test_eval_refuses_bad_text(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    content, needle = EVAL_TEXT_CASES[name]
    p = str(tmp_path / "e.txt")
    with open(p, "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    ck = write_ck(str(tmp_path), world["char"])
    status, _, err = call(capsys, ["eval", ck, p])
    assert_clean_error(status, err, p, needle)


# ------------------------------------------------------------------- options
OPTION_CASES = {
    "hidden-1e6": (["--hidden", "1000000"], "--hidden"),
    "hidden-zero": (["--hidden", "0"], "hidden"),
    "hidden-5000": (["--hidden", "5000"], "--limit H="),
    "seq-length-1e8": (["--seq-length", "100000000"], "--seq-length"),
    "seq-length-negative": (["--seq-length", "-1"], "seq-length"),
    "eval-fraction-inf": (["--eval-fraction", "inf"], "eval-fraction"),
    "eval-fraction-nan": (["--eval-fraction", "nan"], "eval-fraction"),
    "eval-fraction-one": (["--eval-fraction", "1"], "eval-fraction"),
    "lr-inf": (["--lr", "inf"], "lr"),
    "lr-nan": (["--lr", "nan"], "lr"),
    "lr-zero": (["--lr", "0"], "lr"),
    "lr-negative": (["--lr", "-0.1"], "lr"),
    "clip-value-zero": (["--clip-value", "0"], "clip-value"),
    "init-scale-inf": (["--init-scale", "inf"], "init-scale"),
    "steps-zero": (["--steps", "0"], "steps"),
    "epochs-zero": (["--epochs", "0"], "epochs"),
    "log-every-zero": (["--log-every", "0"], "log-every"),
    "limit-bogus-name": (["--limit", "Z=3"], "--limit"),
    "limit-no-value": (["--limit", "H"], "--limit"),
    "limit-not-number": (["--limit", "H=lots"], "--limit"),
    "limit-memory-bad": (["--limit", "memory=12Q"], "--limit"),
    "memory-limit-tiny": (["--limit", "memory=100K"], "--limit memory="),
    "params-limit-tiny": (["--limit", "params=10"], "--limit params="),
}


@pytest.mark.parametrize("name", sorted(OPTION_CASES))
def test_bad_train_options(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    opts, needle = OPTION_CASES[name]
    status, _, err = call(capsys, ["train", world["text"], "--out", str(tmp_path / "o"), "--quiet"] + opts)
    assert_clean_error(status, err, needle)
    assert not os.path.exists(str(tmp_path / "o" / "model.json"))


SAMPLE_OPTIONS = {
    "subnormal-temperature": (["-t", "1e-310"], "--temperature"),
    "negative-temperature": (["-t", "-1"], "--temperature"),
    "nan-temperature": (["-t", "nan"], "--temperature"),
    "inf-temperature": (["-t", "inf"], "--temperature"),
    "negative-length": (["-n", "-1"], "--length"),
    "prime-outside-vocab": (["--prime", "XYZ"], "prime"),
    "prime-lone-surrogate": (["--prime", "\udcff"], "prime"),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_OPTIONS))
def test_bad_sample_options(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    opts, needle = SAMPLE_OPTIONS[name]
    ck = write_ck(str(tmp_path), world["char"])
    status, _, err = call(capsys, ["sample", ck, "-n", "5"] + opts)
    assert_clean_error(status, err, needle)


EXPORT_OPTIONS = {
    "name-keyword": (["--name", "int"], "keyword"),
    "name-digit": (["--name", "9lives"], "identifier"),
    "name-dash": (["--name", "my-model"], "identifier"),
    "name-reserved": (["--name", "__x"], "reserved"),
    "output-directory": (["-o", "{tmp}"], "directory"),
    "output-missing-dir": (["-o", "{tmp}/no/such/dir/m.h"], "No such file"),
    "output-is-input": (["-o", "{ck}"], "input"),
}


@pytest.mark.parametrize("name", sorted(EXPORT_OPTIONS))
def test_bad_export_options(world, tmp_path, capsys, name):  # type: ignore[no-untyped-def]
    opts, needle = EXPORT_OPTIONS[name]
    ck = write_ck(str(tmp_path), world["char"])
    before = open(ck, "rb").read()
    opts = [o.format(tmp=str(tmp_path), ck=ck) for o in opts]
    if "-o" not in opts:
        opts += ["-o", str(tmp_path / "m.h")]
    status, _, err = call(capsys, ["export", ck] + opts)
    assert_clean_error(status, err, needle)
    assert open(ck, "rb").read() == before


def test_sequence_model_refuses_a_character_file_and_vice_versa(world, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_ck(str(tmp_path), world["seqm"])
    status, _, err = call(capsys, ["sample", ck])
    assert_clean_error(status, err, ck, "not a character model")
    status, _, err = call(capsys, ["eval", ck, world["text"]])
    assert_clean_error(status, err, world["text"])


# --------------------------------------------------- a mutating fuzzer (hypothesis)
def _paths(d, prefix=()):  # type: ignore[no-untyped-def]
    """Every (path) into the checkpoint dict, sampling long lists."""
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i in sorted(set([0, len(d) - 1, len(d) // 2])) if d else []:
            out += _paths(d[i], prefix + (i,))
    return out


def test_hypothesis_mutated_checkpoints_never_crash(world, tmp_path, capsys):  # type: ignore[no-untyped-def]
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = world["char"]
    paths = _paths(base)
    weird = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3),
        st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        st.sampled_from([0, -1, 1, 2 ** 63, 2 ** 64, 10 ** 30, 1e308, -0.0, "", "\ud800", [], {}]),
    )
    counter = [0]

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.sampled_from(paths), weird, st.sampled_from(["info", "export", "sample"]))
    def run(path, value, kind):  # type: ignore[no-untyped-def]
        d = copy.deepcopy(base)
        node = d
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value
        counter[0] += 1
        ck = os.path.join(str(tmp_path), "fuzz.json")
        with open(ck, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(json.dumps(d))
        status, _, err = call(capsys, command(kind, ck, world, str(tmp_path)))
        if status != 0:
            assert_clean_error(status, err, ck)

    run()
    assert counter[0] >= 100


def test_hypothesis_byte_flips_in_a_checkpoint_never_crash(world, tmp_path, capsys):  # type: ignore[no-untyped-def]
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    good = json.dumps(world["char"]).encode("utf-8")

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.lists(st.tuples(st.integers(0, len(good) - 1), st.binary(min_size=0, max_size=4)), min_size=1, max_size=4))
    def run(edits):  # type: ignore[no-untyped-def]
        b = bytearray(good)
        for at, new in edits:
            b[at : at + 1] = new
        ck = os.path.join(str(tmp_path), "flip.json")
        with open(ck, "wb") as f:
            f.write(bytes(b))
        status, _, err = call(capsys, ["info", ck])
        if status != 0:
            assert_clean_error(status, err, ck)

    run()


def test_hypothesis_mutated_sequence_files_never_crash(tmp_path, capsys):  # type: ignore[no-untyped-def]
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    val = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 40), 2 ** 40), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=2)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["x", "y", "y_final", "length"]), inner, max_size=3),
        max_leaves=8,
    )

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.lists(val, min_size=1, max_size=3))
    def run(rows):  # type: ignore[no-untyped-def]
        p = os.path.join(str(tmp_path), "fz.jsonl")
        with open(p, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
        status, _, err = call(capsys, ["train", p, "--steps", "1", "--hidden", "2", "--out", os.path.join(str(tmp_path), "fo"), "--quiet"])
        if status != 0:
            assert_clean_error(status, err)
            assert p in err or "--" in err

    run()


# --------------------------------------------------------------- API checks
def test_optimizer_refuses_a_parameter_list_of_another_size():
    from tinyrnn.core.optim import make_optimizer

    for name in ("sgd", "adagrad", "adam"):
        opt = make_optimizer(name, 10, 0.01)
        params = [0.5] * 65
        with pytest.raises(ValueError, match="made for 10 parameters"):
            opt.step(params, [0.1] * 65)
        assert params == [0.5] * 65  # untouched, not truncated


def test_dense_inputs_refuse_strings_dicts_and_bools():
    from tinyrnn import RNN

    m = RNN(2, 3, 1, 4, "mse")
    for bad in (["ab", "cd"], [{"a": 1.0, "b": 2.0}], [[True, False]], [[0.5, "1.0"]], [b"ab"]):
        with pytest.raises(ValueError):
            m.forward(bad, [0.0] * len(bad))
    assert m.forward([[0.5, 1.0]], [0.0]) >= 0.0


def test_numpy_integer_tokens_are_tokens():
    np = pytest.importorskip("numpy")
    from tinyrnn import RNN

    m = RNN(5, 3, 5, 4, "softmax")
    a = m.forward([1, 2, 3], [2, 3, 4])
    b = m.forward(list(np.array([1, 2, 3], dtype=np.int64)), [2, 3, 4])
    assert a == b and not m.dense

    class Index:
        def __init__(self, v):  # type: ignore[no-untyped-def]
            self.v = v

        def __index__(self):  # type: ignore[no-untyped-def]
            return self.v

    assert m.forward([Index(1), Index(2), Index(3)], [2, 3, 4]) == a


def test_temperature_checks():
    from tinyrnn.workflow.sample import check_temperature

    for bad in (1e-310, 5e-324, -1.0, float("nan"), float("inf"), True, "1"):
        with pytest.raises(ValueError):
            check_temperature(bad)
    assert check_temperature(0) == 0.0 and check_temperature(-0.0) == 0.0 and check_temperature(1e-300) == 1e-300


def test_include_guards_keep_the_case_of_the_name(world, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_ck(str(tmp_path), world["char"])
    assert call(capsys, ["export", ck, "-o", str(tmp_path / "a.h"), "--name", "kws"])[0] == 0
    assert call(capsys, ["export", ck, "-o", str(tmp_path / "b.h"), "--name", "KWS"])[0] == 0
    a, b = (open(str(tmp_path / n)).read() for n in ("a.h", "b.h"))
    assert "#ifndef TINYRNN_kws_H" in a and "#ifndef TINYRNN_KWS_H" in b


def test_step_at_the_top_of_long_long_exports(world, tmp_path, capsys):  # type: ignore[no-untyped-def]
    d = copy.deepcopy(world["char"])
    d["step"] = 2 ** 63 - 1
    ck = write_ck(str(tmp_path), d)
    assert call(capsys, ["export", ck, "-o", str(tmp_path / "m.h")])[0] == 0
    assert "%dL" % (2 ** 63 - 1) in open(str(tmp_path / "m.h")).read()
    assert load(ck).step == 2 ** 63 - 1


def test_broken_pipe_is_not_an_error(world, tmp_path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    ck = write_ck(str(tmp_path), world["char"])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cmd = "%s -m tinyrnn sample %s -n 200000 | head -c 10 >/dev/null" % (sys.executable, ck)
    r = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=root), timeout=60)
    assert "Broken pipe" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr == ""
    assert stat.S_ISREG(os.stat(ck).st_mode)
