"""Shared test setup: quiet TensorFlow logging before any backend is imported, the smoke profile."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("BENCH_PROFILE", "smoke")
