"""Faults (issue 13): memory caps under a 512 MB address space, no data loss, kills, locks, divergence.

- Memory: every case that used to allocate gigabytes runs in a subprocess
  whose address space is capped at 512 MB (RLIMIT_AS) and must end in the
  clean one-line error, exit 2.
- Data: an output that is an input (directly, by symlink or hard link), a
  planted symlink at the temp name, ``-o /dev/full`` leave every file
  byte-identical; symlink targets are written through; ``-o -`` is stdout.
- 50 SIGKILLs at random moments of a resumed training run leave a loadable
  checkpoint and a metrics.jsonl that parses and covers every logged step
  up to the checkpoint exactly once; a clean run leaves no temp file.
- ``--lr 1e6`` stops with the divergence message, exit 1, and the
  checkpoint on disk is the last good one.
"""

import json
import os
import random
import resource
import signal
import stat
import subprocess
import sys
import time

import pytest

from tinyrnn.cli import main
from tinyrnn.workflow import fileio
from tinyrnn.workflow.checkpoint import load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = "the cat sat on the mat.\nthe dog sat on the log.\n" * 4
SMALL = ["--hidden", "4", "--seq-length", "8", "--log-every", "2", "--eval-every", "4", "--checkpoint-every", "2", "--quiet"]
CAP = 512 * 1024 * 1024


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def run_capped(*args: str, timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    """``python -m tinyrnn ARGS`` with the address space capped at 512 MB."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "tinyrnn"] + list(args), capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=_cap)


def clean_error(r, *needles):  # type: ignore[no-untyped-def]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "MemoryError" not in r.stderr, r.stderr[-2000:]
    assert r.stderr.count("\n") == 1, r.stderr
    assert "out of memory" not in r.stderr, r.stderr  # refused before allocating, not rescued after
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


def call(capsys, argv):  # type: ignore[no-untyped-def]
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("trained")
    text = d / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    assert main(["train", str(text), "--steps", "4", "--out", str(d / "o")] + SMALL) == 0
    with open(str(d / "o" / "model.json"), encoding="utf-8") as f:
        ck = json.load(f)
    return {"dir": d, "text": str(text), "ck": ck}


def write_json(path, d):  # type: ignore[no-untyped-def]
    with open(str(path), "w", encoding="utf-8") as f:
        json.dump(d, f)
    return str(path)


# -------------------------------------------------------------- memory (512 MB)
@pytest.mark.parametrize("kind", ["info", "sample", "eval", "export", "resume"])
@pytest.mark.parametrize("dims", [{"X": 1024, "H": 1, "Y": 1024, "T": 1048576}, {"H": 2 ** 20}])
def test_memory_crafted_dims_under_512mb(trained, tmp_path, kind, dims):  # type: ignore[no-untyped-def]
    d = json.loads(json.dumps(trained["ck"]))
    d["dims"].update(dims)
    ck = write_json(tmp_path / "big.json", d)  # a small file asking for gigabytes
    argv = {"info": ["info", ck], "sample": ["sample", ck], "eval": ["eval", ck, trained["text"]],
            "export": ["export", ck, "-o", str(tmp_path / "m.h")],
            "resume": ["train", "--resume", ck, "--out", str(tmp_path / "o")]}[kind]
    clean_error(run_capped(*argv), ck, "above the limit")


@pytest.mark.parametrize("case", ["token-1e9", "class-1e7", "hidden-1e6", "seq-length-1e8", "sequence-10M-steps"])
def test_memory_crafted_training_under_512mb(trained, tmp_path, case):  # type: ignore[no-untyped-def]
    p = str(tmp_path / "d.jsonl")
    opts = []  # type: list
    if case == "token-1e9":
        content, needle = '{"x": [1000000000, 0], "y_final": 1}\n', "X (inputs of the data) = 1000000001"
    elif case == "class-1e7":
        content, needle = '{"x": [0, 1], "y_final": 10000000}\n', "Y (outputs of the data) = 10000001"
        opts = ["--head", "softmax"]
    elif case == "sequence-10M-steps":
        content, needle = '{"x": [' + "0," * 9999999 + '0], "y_final": 1}\n', "T (the longest sequence; set --seq-length) = 10000000"
    else:
        content, needle = None, "--hidden" if case == "hidden-1e6" else "--seq-length"
        opts = ["--hidden", "1000000"] if case == "hidden-1e6" else ["--seq-length", "100000000"]
        p = trained["text"]
    if content is not None:
        with open(p, "w") as f:
            f.write(content)
    clean_error(run_capped("train", p, "--out", str(tmp_path / "o"), *opts), needle)


@pytest.mark.parametrize("cmd", ["info", "train", "eval", "resume-config-data"])
@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "symlink", "fifo"])
def test_memory_special_files_under_512mb(trained, tmp_path, cmd, special):  # type: ignore[no-untyped-def]
    if special == "symlink":
        p = str(tmp_path / "z.json")
        os.symlink("/dev/zero", p)
    elif special == "fifo":
        p = str(tmp_path / "f.json")
        os.mkfifo(p)
    else:
        p = special
    ck = write_json(tmp_path / "ck.json", trained["ck"])
    if cmd == "info":
        argv = ["info", p]
    elif cmd == "train":
        argv = ["train", p, "--out", str(tmp_path / "o")]
    elif cmd == "eval":
        argv = ["eval", ck, p]
    else:
        d = json.loads(json.dumps(trained["ck"]))
        d["config"]["data"] = p
        argv = ["train", "--resume", write_json(tmp_path / "ck2.json", d), "--out", str(tmp_path / "o")]
    clean_error(run_capped(*argv, timeout=30), p, "regular files only")


def test_sample_streams_with_flat_memory(trained, tmp_path):  # type: ignore[no-untyped-def]
    """A billion characters under 512 MB: output starts at once; the process is stopped after 60 KB."""
    ck = write_json(tmp_path / "ck.json", trained["ck"])
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "tinyrnn", "sample", ck, "-n", "1000000000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=_cap)
    assert proc.stdout is not None
    got = 0
    while got < 60000:
        b = proc.stdout.read(65536)
        assert b, proc.stderr.read() if proc.stderr else ""
        got += len(b)
    proc.kill()
    proc.wait()
    assert got >= 60000


# ----------------------------------------------------------------- data safety
def snapshot(*paths):  # type: ignore[no-untyped-def]
    return [open(p, "rb").read() for p in paths]


def test_export_onto_its_own_checkpoint_is_refused(trained, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    link = str(tmp_path / "link.h")
    os.symlink(ck, link)
    hard = str(tmp_path / "hard.h")
    os.link(ck, hard)
    before = snapshot(ck)
    for out in (ck, link, hard, str(tmp_path / "." / "m.json")):
        status, _, err = call(capsys, ["export", ck, "-o", out])
        assert status == 2 and "refusing to overwrite an input file" in err and err.count("\n") == 1, err
        assert snapshot(ck) == before
    assert os.path.islink(link)


def test_planted_symlink_at_the_temp_name_cannot_redirect_the_write(trained, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    victim = str(tmp_path / "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    out = str(tmp_path / "model.h")
    # the old predictable name, and the exact random name the next write will draw
    os.symlink(victim, str(tmp_path / (".model.h.tmp-%d" % os.getpid())))
    draws = [b"\x01" * 6, b"\x01" * 6, b"\x02" * 6]
    monkeypatch.setattr(fileio.os, "urandom", lambda n: draws.pop(0) if draws else b"\x03" * n)
    os.symlink(victim, str(tmp_path / (".model.h.tmp-%d-%s" % (os.getpid(), "01" * 6))))
    status, _, err = call(capsys, ["export", ck, "-o", out])
    assert status == 0, err
    assert snapshot(victim) == [b"precious\n"]
    assert open(out).read().startswith("/* model.h")
    assert not os.path.islink(out)


def test_symlink_output_is_written_through(trained, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    real = str(tmp_path / "real.h")
    with open(real, "w") as f:
        f.write("old\n")
    link = str(tmp_path / "link.h")
    os.symlink("real.h", link)
    assert call(capsys, ["export", ck, "-o", link])[0] == 0
    assert os.path.islink(link) and os.readlink(link) == "real.h"  # the link stays a link
    assert open(real).read().startswith("/* link.h -- ")  # the header names itself by the path given
    assert sorted(os.listdir(str(tmp_path))) == ["link.h", "m.json", "real.h"]  # no temp file left


def test_output_to_devices_and_stdout(trained, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    status, out, err = call(capsys, ["export", ck, "-o", "-"])
    assert status == 0 and out.startswith("/* model.h") and "#endif" in out and "parameters" in err
    assert call(capsys, ["export", ck, "-o", "/dev/null"])[0] == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if os.path.exists("/dev/full"):
        status, _, err = call(capsys, ["export", ck, "-o", "/dev/full"])
        assert status == 2 and "/dev/full: cannot write (No space left on device)" in err and err.count("\n") == 1, err
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)  # never replaced by a regular file


def test_fifo_without_reader_as_output(trained, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    fifo = str(tmp_path / "out.fifo")
    os.mkfifo(fifo)
    status, _, err = call(capsys, ["export", ck, "-o", fifo])
    assert status == 2 and fifo in err and "no reader" in err, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_write_errors_name_the_users_path_not_the_temp(trained, tmp_path, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    real_write = os.write

    def full_disk(fd, data):  # type: ignore[no-untyped-def]
        if os.fstat(fd).st_size > 1000:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:500]))

    monkeypatch.setattr(fileio.os, "write", full_disk)
    out = str(tmp_path / "m.h")
    status, _, err = call(capsys, ["export", ck, "-o", out])
    monkeypatch.undo()
    assert status == 2 and err == "tinyrnn export: error: %s: cannot write (No space left on device)\n" % out, err
    assert sorted(os.listdir(str(tmp_path))) == ["m.json"]  # the temp file is gone, no half header


def test_stale_temp_files_of_dead_processes_are_removed(trained, tmp_path, capsys):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [".model.h.tmp-%d" % dead.pid, ".model.h.tmp-%d-abcdef012345" % dead.pid]
    alive = ".model.h.tmp-%d-abcdef012345" % os.getppid()
    for n in stale + [alive]:
        open(str(tmp_path / n), "w").close()
    assert call(capsys, ["export", ck, "-o", str(tmp_path / "model.h")])[0] == 0
    left = sorted(os.listdir(str(tmp_path)))
    assert left == sorted([alive, "m.json", "model.h"])


def test_training_file_inside_out_is_never_overwritten(tmp_path, capsys):  # type: ignore[no-untyped-def]
    out = tmp_path / "o"
    out.mkdir()
    for name in ("metrics.jsonl", "model.json", "best.json", "report.svg"):
        p = out / name
        p.write_text(TEXT, encoding="utf-8")
        status, _, err = call(capsys, ["train", str(p), "--out", str(out), "--steps", "2"] + SMALL)
        assert status == 2 and "is the run's own" in err and err.count("\n") == 1, err
        assert p.read_text(encoding="utf-8") == TEXT


def test_clean_run_leaves_no_temp_or_lock_files(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "o"
    assert call(capsys, ["train", str(text), "--out", str(out), "--steps", "6"] + SMALL)[0] == 0
    assert call(capsys, ["train", "--resume", str(out / "model.json"), "--out", str(out), "--steps", "10", "--quiet"])[0] == 0
    assert sorted(os.listdir(str(out))) == ["best.json", "metrics.jsonl", "model.json", "report.svg"]
    steps = [json.loads(line)["step"] for line in open(str(out / "metrics.jsonl"))]
    assert steps == [2, 4, 6, 8, 10]


# ---------------------------------------------------------------------- lock
def test_second_trainer_on_the_same_out_refuses(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "o"
    out.mkdir()
    fd = fileio.lock_dir(str(out))  # another trainer holds it (flock per open file)
    try:
        status, _, err = call(capsys, ["train", str(text), "--out", str(out), "--steps", "2"] + SMALL)
        assert status == 2 and "in use by another tinyrnn train (pid %d)" % os.getpid() in err and err.count("\n") == 1, err
        assert not (out / "model.json").exists() and not (out / "metrics.jsonl").exists()
    finally:
        fileio.unlock_dir(str(out), fd)
    assert call(capsys, ["train", str(text), "--out", str(out), "--steps", "2"] + SMALL)[0] == 0


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "o"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=ROOT)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from tinyrnn.workflow.fileio import lock_dir; lock_dir(sys.argv[1]); print('locked', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    status, _, err = call(capsys, ["train", str(text), "--out", str(out), "--steps", "2"] + SMALL)
    assert status == 2 and "pid %d" % holder.pid in err
    holder.kill()
    holder.wait()
    holder.stdout.close()
    assert (out / fileio.LOCK_NAME).exists()  # left behind by the dead holder
    assert call(capsys, ["train", str(text), "--out", str(out), "--steps", "2"] + SMALL)[0] == 0


# -------------------------------------------------------------------- 50 kills
def _check_out(out: str, log_every: int) -> int:
    ck = load(os.path.join(out, "model.json"))  # always loadable
    steps = []
    with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as f:
        for line in f:
            steps.append(json.loads(line)["step"])  # every line parses
    upto = [s for s in steps if s <= ck.step]
    assert upto == list(range(log_every, ck.step + 1, log_every)), (ck.step, steps)
    return ck.step


def test_fifty_kills_during_training_lose_nothing(tmp_path):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT * 3, encoding="utf-8")
    out = str(tmp_path / "o")
    env = dict(os.environ, PYTHONPATH=ROOT)
    opts = ["--hidden", "4", "--seq-length", "8", "--log-every", "1", "--eval-every", "1000000", "--checkpoint-every", "3", "--quiet"]
    base = [sys.executable, "-m", "tinyrnn", "train"]
    assert subprocess.run(base + [str(text), "--out", out, "--steps", "3"] + opts, env=env, capture_output=True).returncode == 0
    rng = random.Random(13)
    seen = set()
    kills = 0
    t0 = time.monotonic()
    while kills < 50:
        proc = subprocess.Popen(base + ["--resume", os.path.join(out, "model.json"), "--out", out, "--steps", "100000", "--quiet"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.15, 0.7))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert "Traceback" not in err, err
        kills += 1
        seen.add(_check_out(out, 1))
    assert len(seen) > 10, sorted(seen)  # the kills landed at many different steps
    # a clean resume afterwards: finishes, cleans every stale temp file, covers every step once
    last = max(seen)
    r = subprocess.run(base + ["--resume", os.path.join(out, "model.json"), "--out", out, "--steps", str(last + 3)] + opts[-1:],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _check_out(out, 1) == last + 3
    steps = [json.loads(line)["step"] for line in open(os.path.join(out, "metrics.jsonl"))]
    assert steps == list(range(1, last + 4))
    assert sorted(os.listdir(out)) == ["best.json", "metrics.jsonl", "model.json", "report.svg"]
    assert time.monotonic() - t0 < 120


# ----------------------------------------------------------------- divergence
def test_lr_1e6_stops_with_the_divergence_message_and_keeps_the_last_good_checkpoint(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT * 4, encoding="utf-8")
    out = tmp_path / "o"
    opts = ["--hidden", "8", "--seq-length", "10", "--log-every", "5", "--eval-every", "10", "--checkpoint-every", "5", "--quiet"]
    assert call(capsys, ["train", str(text), "--out", str(out), "--steps", "20"] + opts)[0] == 0
    good = (out / "model.json").read_bytes()
    status, _, err = call(capsys, ["train", "--resume", str(out / "model.json"), "--out", str(out), "--steps", "200", "--lr", "1e6", "--quiet"])
    assert status == 1, err
    assert "training diverged at step" in err and "Try: lower the learning rate (--lr 100000)" in err, err
    assert "the last good checkpoint is %s (step 20)" % (out / "model.json") in err, err
    assert (out / "model.json").read_bytes() == good
    # a fresh run with --lr 1e6 too: exit 1 with the same advice
    status, _, err = call(capsys, ["train", str(text), "--out", str(tmp_path / "f"), "--steps", "200", "--lr", "1e6"] + opts)
    assert status == 1 and "training diverged" in err and "lower the learning rate" in err, err
    if (tmp_path / "f" / "model.json").exists():
        ck = load(str(tmp_path / "f" / "model.json"))
        assert ck.step <= 5


def test_healthy_training_is_not_stopped_by_the_guard(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT * 4, encoding="utf-8")
    status, _, err = call(capsys, ["train", str(text), "--out", str(tmp_path / "o"), "--steps", "60", "--lr", "0.05"] + SMALL)
    assert status == 0, err


@pytest.mark.parametrize("target", ["/dev/stdout", "-"])
def test_export_to_stdout_in_a_pipe(trained, tmp_path, target):  # type: ignore[no-untyped-def]
    ck = write_json(tmp_path / "m.json", trained["ck"])
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "tinyrnn", "export", ck, "-o", target, "--name", "piped"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("/* piped.h") and r.stdout.rstrip().endswith("#endif /* TINYRNN_piped_H */")
    assert "Traceback" not in r.stderr


def test_metrics_symlink_in_out_is_refused_and_its_target_untouched(tmp_path, capsys):  # type: ignore[no-untyped-def]
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    out = tmp_path / "o"
    out.mkdir()
    os.symlink(str(victim), str(out / "metrics.jsonl"))
    status, _, err = call(capsys, ["train", str(text), "--out", str(out), "--steps", "2"] + SMALL)
    assert status == 2 and "metrics.jsonl: is a symlink" in err and err.count("\n") == 1, err
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert sorted(os.listdir(str(out))) == ["metrics.jsonl"]
