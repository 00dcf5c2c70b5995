"""Build an Arduino sketch for the Uno with Debian's Arduino AVR core and run it under simavr.

    python3 tools/arduino.py LIBDIR [MARKER]   build LIBDIR's example, run it, print its Serial output

Debian packages: ``arduino-core-avr arduino-builder simavr``. The build is
``arduino-builder -compile`` with the core in /usr/share/arduino/hardware,
the ctags recipe of /usr/share/arduino-builder/platform.txt and the tools in
/usr/bin; the library is found through ``-libraries`` (its parent
directory). simavr runs the ELF as an ATmega328P at 16 MHz and logs UART0
on stderr: each line in green, flushed at '\\n' (or after 256 bytes), every
byte below 0x20 shown as '.'. ``uart_lines`` recovers those lines and
``display`` turns an expected byte stream into the same form, so a test can
compare exactly. The sketch never exits: ``run`` stops simavr once a line
starting with ``marker`` was printed.
"""

import os
import re
import subprocess
import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

PROGRAMS = ("arduino-builder", "avr-g++", "simavr")
CORE = "/usr/share/arduino/hardware"
BUILDER_PLATFORM = "/usr/share/arduino-builder"  # platform.txt with the ctags recipe


def build(sketch: str, libraries: str, build_dir: str, extra_flags: str = "-DDECIMAL_DIG=17") -> str:
    """Compile ``sketch`` (.ino) for arduino:avr:uno; return the ELF path."""
    os.makedirs(build_dir, exist_ok=True)
    cmd = [
        "arduino-builder", "-compile", "-prefs=build.extra_flags=" + extra_flags,
        "-hardware", CORE, "-hardware", BUILDER_PLATFORM, "-tools", "/usr/bin",
        "-fqbn", "arduino:avr:uno", "-libraries", libraries, "-build-path", os.path.abspath(build_dir), sketch,
    ]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    elf = os.path.join(build_dir, os.path.basename(sketch) + ".elf")
    if r.returncode != 0 or not os.path.exists(elf):
        raise RuntimeError("arduino-builder failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stdout[-4000:]))
    return elf


_LINE = re.compile(rb"\x1b\[32m(.*?)\n\x1b\[0m", re.S)


def uart_lines(stderr: bytes) -> "List[bytes]":
    """The UART0 lines simavr logged (control bytes already shown as '.')."""
    return [m.group(1) for m in _LINE.finditer(stderr)]


def display(stream: bytes) -> "List[bytes]":
    """What simavr logs for the UART byte stream ``stream`` (complete lines only)."""
    out, cur = [], bytearray()
    for b in stream:
        cur.append(0x2E if b < 0x20 else b)
        if b == 0x0A or len(cur) == 256:
            out.append(bytes(cur))
            cur = bytearray()
    return out


def run(elf: str, marker: bytes, timeout: float = 300) -> "List[bytes]":
    """Run ``elf`` under simavr until a UART line starts with ``marker``; return the lines up to it."""
    p = subprocess.Popen(["simavr", "-m", "atmega328p", "-f", "16000000", elf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    buf = b""
    try:
        assert p.stderr is not None
        while True:
            chunk = p.stderr.read1(4096) if hasattr(p.stderr, "read1") else p.stderr.read(1)
            if not chunk:
                break
            buf += chunk
            lines = uart_lines(buf)
            if any(ln.startswith(marker) for ln in lines):
                break
    finally:
        timer.cancel()
        p.kill()
        p.wait()
    lines = uart_lines(buf)
    for k, ln in enumerate(lines):
        if ln.startswith(marker):
            return lines[: k + 1]
    raise RuntimeError("simavr: no line starting with %r within %gs; output: %r" % (marker, timeout, buf[-2000:]))


if __name__ == "__main__":
    import tempfile

    lib = os.path.abspath(sys.argv[1])
    name = os.path.basename(lib.rstrip("/"))
    ino = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(lib, "examples")) for f in fs if f.endswith(".ino")][0]
    with tempfile.TemporaryDirectory() as d:
        for ln in run(build(ino, os.path.dirname(lib), d), sys.argv[2].encode() if len(sys.argv) > 2 else b"["):
            print(ln.decode("utf-8", "replace"))
