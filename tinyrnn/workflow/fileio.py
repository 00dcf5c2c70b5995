"""File reading and writing shared by the CPython-only modules.

Reading refuses a file larger than a limit before reading it; writing goes
through a temp file so that a crash never leaves half of one.
"""

import os


class TooLarge(Exception):
    """The file is larger than the caller's limit (``size`` bytes)."""

    def __init__(self, size: int) -> None:
        Exception.__init__(self, size)
        self.size = size


def read_bounded(path: str, limit: int) -> bytes:
    """The bytes of ``path``; TooLarge beyond ``limit`` bytes (checked before reading), OSError if unreadable."""
    size = os.path.getsize(path)
    if size > limit:
        raise TooLarge(size)
    with open(path, "rb") as f:
        return f.read()


def atomic_write_text(path: str, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a temp file, fsync and a rename.

    A crash at any moment leaves either the previous file or the new one;
    the temp file is removed if writing fails.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.tmp-%d" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "w", encoding=encoding, newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
