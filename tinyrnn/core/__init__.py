"""The core: what runs on a board (MicroPython 1.27) as on CPython 3.9+.

Standard library only. Nothing here imports anything outside ``core``;
``kernels`` is the only module that knows which interpreter runs.
"""
