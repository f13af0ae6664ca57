"""Outputs of every (arch, api) for given weights and images, on whichever backend runs this.

``KERAS_BACKEND=jax python -m bench.run.crosscheck INPUT.npz OUTPUT.npz``: INPUT holds
``images`` and, per arch, its weights as ``ARCH/0``, ``ARCH/1``, ...; OUTPUT gets
``ARCH-API`` logits (inference mode).  The cross-backend parity test runs it once per
backend and compares the outputs.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def export_inputs(path, images, weights_by_arch: dict) -> None:
    """Write the images and per-arch weight lists in the layout :func:`main` reads."""
    import numpy as np

    arrays = {"images": images}
    for arch, weights in weights_by_arch.items():
        arrays.update({f"{arch}/{index}": weight for index, weight in enumerate(weights)})
    np.savez(path, **arrays)


def outputs(inputs) -> dict:
    """Logits of every registry cell for the weights and images in ``inputs`` (an npz mapping)."""
    import keras

    import implementations

    results = {}
    for arch, api in implementations.cell_ids():
        count = sum(1 for key in inputs.files if key.startswith(f"{arch}/"))
        model = implementations.build(arch, api)
        model.set_weights([inputs[f"{arch}/{index}"] for index in range(count)])
        results[f"{arch}-{api}"] = keras.ops.convert_to_numpy(model(inputs["images"], training=False))
    return results


def main(argv: list[str]) -> int:
    import keras
    import numpy as np

    source, target = argv
    with np.load(source) as inputs:
        logits = outputs(inputs)
    np.savez(target, backend=np.array(keras.backend.backend()), **logits)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
