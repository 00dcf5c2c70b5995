"""Exporters (CPython only): turn a trained model into an artefact for a
board -- ``c``: one self-contained C99 header."""
