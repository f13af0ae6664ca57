"""The users'-configuration comparison reads each side's CPU time per round and the compilation in effect."""

from __future__ import annotations

from bench.evidence import users_config
from tests.support.results import TRAIN, synthetic_results, write


def test_the_table_shows_the_ratio_and_which_side_compiled(tmp_path):
    suite = synthetic_results(1)
    users = synthetic_results(1, slowdown={TRAIN: 0.8})  # the same host draw, the train step 20% faster
    for bench in users["benchmarks"]:
        bench["extra_info"]["jit"] = True
    table = users_config.table(write(tmp_path, "suite.json", suite), write(tmp_path, "users.json", users))
    row = table[(table["cell"] == "cnn-functional") & (table["kind"] == "train step")].iloc[0]
    assert (row["suite: XLA"], row["other: XLA"]) == ("no", "yes")
    ratio = float(row["other ÷ suite, CPU time per round"].split()[0].lstrip("×"))
    assert 0.75 < ratio < 0.85
    predict = table[(table["cell"] == "cnn-functional") & (table["kind"] == "predict")].iloc[0]
    assert 0.97 < float(predict["other ÷ suite, CPU time per round"].split()[0].lstrip("×")) < 1.03
