"""Measuring speed: the training iteration against a plain eager reference and the
machine's convolution peak, and the data pipeline (``scripts/benchmark.py`` prints them)."""
