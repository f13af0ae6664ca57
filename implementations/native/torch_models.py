"""Native PyTorch: a torch.nn.Module (NCHW inside, NHWC in) trained with torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from implementations.native import layout


class _Net(nn.Module):
    def __init__(self, plan: list):
        super().__init__()
        stack: list[nn.Module] = []
        for layer in plan:
            if isinstance(layer, layout.Conv):
                stack += [
                    nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel, padding="same"),
                    # torch's momentum weighs the new batch: Keras' 0.99 is torch's 0.01
                    nn.BatchNorm2d(
                        layer.out_channels, eps=layout.BN_EPSILON, momentum=1 - layout.BN_MOMENTUM
                    ),
                    nn.ReLU(),
                ]
            else:
                stack += [nn.Linear(layer.in_features, layer.out_features)]
        self.features = nn.Sequential(*stack[:-1])
        self.head = stack[-1]

    def forward(self, images_nhwc):
        x = self.features(images_nhwc.permute(0, 3, 1, 2))
        return self.head(x.permute(0, 2, 3, 1).flatten(1))  # flatten in Keras' NHWC order


class NativeModel:
    """A plan from :mod:`implementations.native.layout` as a torch.nn.Module (``compile``: torch.compile)."""

    framework = "torch"

    def __init__(self, arch: str, *, seed: int | None = None, compile: bool = False):
        self.arch = arch
        self.plan = layout.NATIVE_ARCHS[arch]()
        self.net = _Net(self.plan)
        self._assign(layout.initial_weights(self.plan, seed))
        self.optimizer = torch.optim.Adam(
            self.net.parameters(),
            lr=layout.ADAM_LEARNING_RATE,
            betas=(layout.ADAM_BETA_1, layout.ADAM_BETA_2),
            eps=layout.ADAM_EPSILON,
        )
        self.compiled = compile
        self._call = torch.compile(self.net) if compile else self.net
        self._loss = nn.CrossEntropyLoss()

    def _assign(self, weights: list[np.ndarray]) -> None:
        arrays = iter(weights)
        with torch.no_grad():
            for module in [*self.net.features, self.net.head]:
                if isinstance(module, nn.Conv2d):
                    module.weight.copy_(torch.from_numpy(next(arrays).transpose(3, 2, 0, 1).copy()))
                    module.bias.copy_(torch.from_numpy(next(arrays)))
                elif isinstance(module, nn.BatchNorm2d):
                    for tensor in (module.weight, module.bias, module.running_mean, module.running_var):
                        tensor.copy_(torch.from_numpy(next(arrays)))
                elif isinstance(module, nn.Linear):
                    module.weight.copy_(torch.from_numpy(next(arrays).T.copy()))
                    module.bias.copy_(torch.from_numpy(next(arrays)))

    def load_keras_weights(self, keras_model) -> None:
        self._assign(layout.keras_weights(keras_model, self.plan))

    def predict(self, images) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            return self._call(torch.as_tensor(np.asarray(images, np.float32))).numpy()

    def train_step(self, images, labels) -> float:
        self.net.train()
        self.optimizer.zero_grad(set_to_none=True)
        logits = self._call(torch.as_tensor(np.asarray(images, np.float32)))
        loss = self._loss(logits, torch.as_tensor(np.asarray(labels), dtype=torch.long))
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def count_params(self) -> int:
        return int(
            sum(p.numel() for p in self.net.parameters())
            + sum(
                b.numel() for name, b in self.net.named_buffers() if not name.endswith("num_batches_tracked")
            )
        )
