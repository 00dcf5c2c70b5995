"""Progress display for long commands: a live line on a terminal, plain lines otherwise."""

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, TextIO


def fmt_duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s >= 3600:
        return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)
    return "%d:%02d" % (s // 60, s % 60)


class Progress:
    """``update(step, total, rate)`` often; ``println(text)`` for lines that stay.

    On a TTY one line is rewritten in place (at most 10 times a second);
    otherwise a plain line is printed every ``plain_every`` seconds.
    """

    def __init__(self, stream: "Optional[TextIO]" = None, tty: "Optional[bool]" = None, plain_every: float = 10.0) -> None:
        self.stream = stream if stream is not None else sys.stdout
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.plain_every = plain_every
        self.shown = 0  # width of the live line on screen
        self.last = 0.0
        self.started = time.monotonic()

    def text(self, step: int, total: int, rate: float) -> str:
        pct = 100.0 * step / total if total else 100.0
        eta = fmt_duration((total - step) / rate) if rate > 0 else "?"
        return "step %d/%d (%3.0f%%)  %.1f steps/s  elapsed %s  ETA %s" % (
            step, total, pct, rate, fmt_duration(time.monotonic() - self.started), eta)

    def update(self, step: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if self.tty:
            if now - self.last < 0.1 and step < total:
                return
            line = self.text(step, total, rate)
            self.stream.write("\r" + line + " " * max(0, self.shown - len(line)))
            self.stream.flush()
            self.shown = len(line)
        else:
            if now - self.last < self.plain_every:
                return
            self.stream.write("progress: " + self.text(step, total, rate) + "\n")
            self.stream.flush()
        self.last = now

    def clear(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0

    def println(self, text: str) -> None:
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
        if self.tty:
            self.last = 0.0  # redraw the live line at the next update
