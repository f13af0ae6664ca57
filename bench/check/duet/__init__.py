"""The duet pytest plugin, ``bench_duet.py``; loaded from this folder on PYTHONPATH (``-p bench_duet``)."""
