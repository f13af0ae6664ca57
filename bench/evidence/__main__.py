"""``python -m bench.evidence run|summarize``: the evidence campaigns (:mod:`bench.evidence.campaigns`)."""

import sys

from bench.evidence.campaigns import main

if __name__ == "__main__":
    sys.exit(main())
