"""What every other part shares and nothing below it: results files, round arithmetic, paired ratios,
statistics, profiles, the machine, the benchmark kinds, paths.  No Keras import."""
