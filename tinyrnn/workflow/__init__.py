"""The training workflow (CPython only): data files, checkpoints, the
training loop, sampling, the report. Reads and writes files through
``fileio`` only."""
