"""``tinyrnn check`` (CPython only): diagnose a hand-written BPTT from a dump.

``dump``: the dump format and the printf helper header; ``mistakes``: BPTT
with the known mistakes switched on, as hypotheses; ``verdict``: the error
per parameter group, which mistake reproduces the user's numbers, the report.
"""
