"""The core: what runs on a board (MicroPython 1.27) as on CPython 3.9+."""

# Standard library only. Nothing here imports anything outside ``core``;
# ``kernels`` is the only module that knows which interpreter runs.
#
# Module and class docstrings of the modules a board loads (this package's
# __init__, kernels, model, heads, optim, init, rng) are one line; the rest
# of their documentation is comments. A MicroPython built with
# MICROPY_ENABLE_DOC_STRING (the WebAssembly port, for one) keeps every
# module's and class's docstring on the heap when it compiles the source --
# 10 KB for those modules, a sixth of the 64 KB training budget
# (docs/core.md, "Memory on MicroPython"); comments cost nothing.
