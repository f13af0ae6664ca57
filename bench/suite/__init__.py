"""The pytest-benchmark suite that ``bench run`` runs: timed steps, first-step and memory probes,
capabilities, accuracy; and the planted-slowdown plugin the evidence campaigns load into it."""
