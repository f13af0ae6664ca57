"""``compile(jit_compile=True)`` on the PyTorch backend (torch.compile), proven by outputs and timed.

Run as ``python -m bench.probes.torch_jit ARCH`` in a process of its own (its first compile takes tens of
seconds on a CPU, so it runs beside the other probes).  Per API: the model trained :data:`STEPS` steps with
``jit_compile=True`` and, from the same initial weights, without; "yes" when torch.compile was in effect
(``model.jit_compile`` after the first step), the losses and the predictions agree within
:data:`TOLERANCE` of their size; with the first step's time, and the steady train step's time over the
eager one's.  Prints ``{api: verdict}`` as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time

STEPS = 5
#: compiled kernels sum in another order, and 5 steps of training carry that on: the losses and the
#: predictions may differ from eager by this much of their own size
TOLERANCE = 1e-2
BATCH = 16
NOT_TORCH = "n/a (jit_compile=True is torch.compile on the PyTorch backend only)"


def _trained(arch: str, api: str, jit: bool, images, labels):
    """(losses, predictions, first step s, median later step s, jit in effect) of one model."""
    import keras
    import numpy as np

    import implementations

    model = implementations.build(arch, api, seed=0)
    loss = implementations.model_set(arch).training_loss()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=loss, jit_compile=jit)
    losses, seconds = [], []
    for _ in range(STEPS):
        started = time.perf_counter()
        losses.append(float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0]))
        seconds.append(time.perf_counter() - started)
    from bench.probes.portable import joined

    predictions = joined(model.predict_on_batch(images))
    return losses, predictions, seconds[0], float(np.median(seconds[2:])), bool(model.jit_compile)


def main(arch: str) -> dict[str, str]:
    import implementations

    apis = implementations.model_set(arch).apis
    if os.environ.get("KERAS_BACKEND") != "torch":
        return dict.fromkeys(apis, NOT_TORCH)
    import numpy as np

    from bench.probes.distributed import first_line

    images, labels = implementations.model_set(arch).sample_batch(BATCH)
    verdicts = {}
    for api in apis:
        try:
            eager_losses, eager_out, _, eager_step, _ = _trained(arch, api, False, images, labels)
            losses, out, first, step, in_effect = _trained(arch, api, True, images, labels)
        except Exception as error:
            verdicts[api] = f"no: {first_line(error)}"
            continue
        gap = max(float(np.abs(np.subtract(losses, eager_losses)).max() / np.abs(eager_losses).max()),
                  float(np.abs(out - eager_out).max() / np.abs(eager_out).max()))  # fmt: skip
        timing = f"first step {first:.1f} s, then ×{step / eager_step:.2f} the eager step's time"
        if not in_effect:
            verdicts[api] = f"no: Keras did not compile ({timing})"
        elif gap > TOLERANCE:
            verdicts[api] = f"no: results differ from eager's by {gap:.1%} ({timing})"
        else:
            verdicts[api] = f"yes (results within {gap:.2%} of eager's; {timing})"
    return verdicts


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(json.dumps(main(sys.argv[1])))
