"""The one place the CPython-only modules read and write files.

**Reading** (:func:`read_bounded`, :func:`loads`): regular files only -- a
FIFO, a device (``/dev/zero``), a directory or a symlink to one is refused
before a byte is read, so nothing hangs and nothing grows without bound; the
size is checked against the caller's limit first (and again while reading,
in case the file grows). JSON is parsed with integers capped at
``MAX_INT_DIGITS`` digits, floats that must be finite, no ``NaN`` /
``Infinity`` and nesting capped by the interpreter's recursion limit; every
failure is a :class:`FileError` (a ``ValueError``) naming the user's path.

**Writing** (:func:`write_file`): ``-`` is standard output. Otherwise the
data goes to a temp file created next to the target with a random name and
``O_CREAT|O_EXCL|O_NOFOLLOW`` (a planted symlink cannot redirect it), is
fsynced and renamed over the target, so a crash leaves the old file or the
new one. A target that is a symlink is written *through*: the file it
points to is replaced, the link stays. A target that exists and is not a
regular file (``/dev/null``, ``/dev/full``, a FIFO, ``/dev/stdout``) is
written directly, never replaced by a regular file. An output that is one
of the command's inputs is refused. Temp files left behind by dead
processes are removed. Errors name the user's path (``model.h: cannot write
(No space left on device)``), never the temp file.

**Appending** (:func:`open_append`, :func:`append_line`): one ``write`` per
line on an ``O_APPEND`` descriptor, so a killed process leaves whole lines.

**Locking** (:func:`lock_dir`): an exclusive ``flock`` on a lock file in a
directory; the kernel drops it when the holder dies, so a stale lock of a
dead process is simply taken over.
"""

import binascii
import errno
import json
import math
import os
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterable, Optional, Union

MAX_INT_DIGITS = 40  # no integer tinyrnn reads needs more (a 64-bit state has 20)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
FD_LINKS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")  # names of open descriptors: written in place


class FileError(ValueError):
    """A file that cannot be read or written; the message names the user's path."""


class TooLarge(FileError):
    """The file is larger than the caller's limit (``size`` bytes)."""

    def __init__(self, size: int, message: str = "") -> None:
        FileError.__init__(self, message or "%d bytes is too large" % size)
        self.size = size


def _why(e: OSError) -> str:
    return e.strerror or str(e)


# ----------------------------------------------------------------- reading
def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO / pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bounded(path: str, limit: int) -> bytes:
    """The bytes of the regular file ``path``.

    TooLarge beyond ``limit`` bytes (checked before reading and while
    reading); FileError for anything that is not a regular file; OSError
    (with ``strerror``) if it cannot be opened.
    """
    # O_NONBLOCK: opening a FIFO without a writer returns at once (then it is refused)
    fd = os.open(path, os.O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileError("%s: is %s; tinyrnn reads regular files only" % (path, _kind(st.st_mode)))
        if st.st_size > limit:
            raise TooLarge(st.st_size, "%s: %d bytes is larger than the %d byte limit" % (path, st.st_size, limit))
        parts = []
        total = 0
        while True:
            b = os.read(fd, min(1 << 20, limit + 1 - total))
            if not b:
                break
            parts.append(b)
            total += len(b)
            if total > limit:  # it grew while we read it
                raise TooLarge(total, "%s: more than the %d byte limit (the file is growing)" % (path, limit))
        return b"".join(parts)
    finally:
        os.close(fd)


def _int(s: str) -> int:
    digits = len(s) - (s[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise ValueError("an integer of %d digits (more than %d)" % (digits, MAX_INT_DIGITS))
    return int(s)


def _float(s: str) -> float:
    v = float(s)
    if not math.isfinite(v):
        raise ValueError("the number %s is out of range" % (s if len(s) <= 24 else s[:21] + "..."))
    return v


def _constant(s: str) -> float:
    raise ValueError("non-finite number %s" % s)


def loads(text: str, finite: bool = True) -> "Any":
    """``json.loads`` with bounded numbers and nesting; ValueError with a one-line reason otherwise.

    ``finite=False`` lets a float literal that overflows (``1e999``) through as
    ``inf``, for a caller that checks every number itself and names where it is.
    """
    try:
        return json.loads(text, parse_int=_int, parse_float=_float if finite else float, parse_constant=_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply (deeper than about %d levels)" % sys.getrecursionlimit())


# ----------------------------------------------------------------- writing
def same_file(a: str, b: str) -> bool:
    """True if paths ``a`` and ``b`` name the same file (after symlinks), False if either is missing."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def check_not_input(path: str, inputs: "Iterable[Optional[str]]", option: str = "-o") -> None:
    """FileError if the output ``path`` is one of the command's input files."""
    if path == "-":
        return
    for p in inputs:
        if p and p != "-" and same_file(path, p):
            raise FileError("%s: refusing to overwrite an input file (%s %s is the same file as %s)" % (path, option, path, p))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale_temps(directory: str, base: str) -> int:
    """Remove ``.BASE.tmp-PID[-RANDOM]`` files of processes that are gone; how many were removed."""
    prefix = "." + base + ".tmp-"
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if not name.startswith(prefix):
            continue
        pid_s = name[len(prefix) :].split("-", 1)[0]
        if not pid_s.isdigit() or int(pid_s) == os.getpid() or _alive(int(pid_s)):
            continue
        try:
            os.unlink(os.path.join(directory, name))
            removed += 1
        except OSError:
            pass
    return removed


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fd_link(path: str) -> bool:
    p = os.path.abspath(path)
    return p in FD_LINKS[:2] or p.startswith(FD_LINKS[2:])


def _write_direct(path: str, data: bytes) -> None:
    """Write into an existing non-regular file (device, FIFO, /dev/stdout) in place."""
    try:
        fd = os.open(path, os.O_WRONLY | O_CLOEXEC | O_NONBLOCK)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise FileError("%s: cannot write (a FIFO with no reader)" % path)
        raise FileError("%s: cannot write (%s)" % (path, _why(e)))
    try:
        _write_all(fd, data)
    except OSError as e:
        raise FileError("%s: cannot write (%s)" % (path, _why(e)))
    finally:
        os.close(fd)


def write_file(path: str, data: "Union[str, bytes]", inputs: "Iterable[Optional[str]]" = (), encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` (``-``: standard output) atomically; see the module docstring."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    if path == "-":
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(raw.decode(encoding))
        else:
            sys.stdout.flush()
            out.write(raw)
        sys.stdout.flush()
        return
    check_not_input(path, inputs)
    try:
        st = os.stat(path)  # follows symlinks: what the user's path names
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise FileError("%s: cannot write (%s)" % (path, _why(e)))
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileError("%s: is a directory, not a file" % path)
    if st is not None and (not stat.S_ISREG(st.st_mode) or _fd_link(path)):
        _write_direct(path, raw)
        return
    target = os.path.realpath(path)  # a symlink is written through: its target is replaced, the link stays
    directory, base = os.path.split(target)
    clean_stale_temps(directory, base)
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666
    tmp = ""
    fd = -1
    try:
        for _ in range(100):
            tmp = os.path.join(directory, ".%s.tmp-%d-%s" % (base, os.getpid(), binascii.hexlify(os.urandom(6)).decode()))
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
                break
            except FileExistsError:
                continue
        else:
            raise FileError("%s: cannot create a temp file next to it" % path)
        if st is not None:
            try:
                os.chmod(tmp, mode)  # keep the mode of the file being replaced (umask aside)
            except OSError:
                pass
        _write_all(fd, raw)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
        tmp = ""
    except OSError as e:
        raise FileError("%s: cannot write (%s)" % (path, _why(e)))
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_dir(directory)


def atomic_write_text(path: str, text: str, encoding: str = "utf-8", inputs: "Iterable[Optional[str]]" = ()) -> None:
    """``write_file`` for text (kept for callers of the earlier name)."""
    write_file(path, text, inputs, encoding)


# --------------------------------------------------------------- appending
def open_append(path: str) -> int:
    """A descriptor appending to ``path`` (created if missing; a symlink is refused)."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise FileError("%s: is a symlink; refusing to append through it" % path)
        raise FileError("%s: cannot open for appending (%s)" % (path, _why(e)))


def append_line(fd: int, path: str, line: str) -> None:
    """Append ``line`` (plus a newline) with one write, so a kill leaves whole lines."""
    try:
        _write_all(fd, (line + "\n").encode("utf-8"))
    except OSError as e:
        raise FileError("%s: cannot write (%s)" % (path, _why(e)))


# ----------------------------------------------------------------- locking
LOCK_NAME = ".tinyrnn.lock"


def lock_dir(directory: str, option: str = "--out") -> int:
    """Hold an exclusive lock on ``directory`` (until :func:`unlock_dir` or exit); FileError if held."""
    import fcntl

    path = os.path.join(directory, LOCK_NAME)
    for _ in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
        except OSError as e:
            raise FileError("%s: cannot create the lock file %s (%s)" % (directory, LOCK_NAME, _why(e)))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
            except OSError:
                holder = ""
            os.close(fd)
            raise FileError(
                "%s: in use by another tinyrnn train (pid %s); wait for it to finish or choose another %s"
                % (directory, holder or "?", option)
            )
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except OSError:
            same = False
        if not same:  # the holder removed the file between our open and our lock: retry
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, ("%d\n" % os.getpid()).encode("ascii"))
        return fd
    raise FileError("%s: cannot take the lock %s" % (directory, LOCK_NAME))


def unlock_dir(directory: str, fd: int) -> None:
    """Release and remove the lock taken by :func:`lock_dir`."""
    try:
        os.unlink(os.path.join(directory, LOCK_NAME))
    except OSError:
        pass
    os.close(fd)
