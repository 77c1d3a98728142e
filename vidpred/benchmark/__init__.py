"""Measuring speed and what it buys: the training iteration against a plain eager reference
and the machine's convolution peak, the data pipeline and prediction (``scripts/benchmark.py``
prints them); validation quality against training time (``scripts/time_to_quality.py``); and
whether a run's discriminators learned (``scripts/discriminator_report.py``)."""
