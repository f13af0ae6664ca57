"""The regression check CI runs: the rule and the comparison of two results files, the side-by-side
runs of the baseline commit and the checkout, and the absolute-time gate."""
