"""Benchmarks, datasets, statistics and the command line of the Keras API-choice suite."""
