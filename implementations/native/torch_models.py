"""Native PyTorch: a torch.nn.Module (NCHW inside, NHWC in) trained with torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from implementations.native import layout


def _conv_block(layer: layout.Conv) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel, padding="same"),
        # torch's momentum weighs the new batch: Keras' 0.99 is torch's 0.01
        nn.BatchNorm2d(layer.out_channels, eps=layout.BN_EPSILON, momentum=1 - layout.BN_MOMENTUM),
        nn.ReLU(),
    )


class _Residual(nn.Module):
    def __init__(self, block: layout.Residual):
        super().__init__()
        cnn0, cnn1, identity, cnn2 = block.layers  # registered in Keras' weight order
        self.cnn0, self.cnn1 = _conv_block(cnn0), _conv_block(cnn1)
        self.identity = nn.Conv2d(identity.in_channels, identity.out_channels, 1)
        self.cnn2 = _conv_block(cnn2)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.cnn2(self.cnn1(self.cnn0(x)) + self.identity(x)))


class _Net(nn.Module):
    def __init__(self, plan: list):
        super().__init__()
        *body, head = plan
        self.features = nn.Sequential(
            *[_Residual(item) if isinstance(item, layout.Residual) else _conv_block(item) for item in body]
        )
        self.average = head.pool == "average"
        self.head = nn.Linear(head.in_features, head.out_features)

    def forward(self, images_nhwc):
        x = self.features(images_nhwc.permute(0, 3, 1, 2))
        pooled = x.mean(dim=(2, 3)) if self.average else x.permute(0, 2, 3, 1).flatten(1)  # Keras' NHWC order
        return self.head(pooled)


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
        self.jit_compile = compile  # torch.compile
        self._call = torch.compile(self.net) if compile else self.net
        self._loss = nn.CrossEntropyLoss()

    def _assign(self, weights: list[np.ndarray]) -> None:
        arrays = iter(weights)
        with torch.no_grad():
            for module in self.net.modules():
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

    def recalibrate_batchnorm(self, batches) -> None:
        """Moving statistics := the plain mean of the batch statistics over ``batches`` (see layout)."""
        norms = [m for m in self.net.modules() if isinstance(m, nn.BatchNorm2d)]
        buffers = [b for m in norms for b in (m.running_mean, m.running_var)]

        def statistics_from_zero(images):
            for buffer in buffers:
                buffer.zero_()
            self.net(torch.as_tensor(np.asarray(images, np.float32)))
            return [buffer.numpy().copy() for buffer in buffers]

        self.net.train()
        with torch.no_grad():
            averaged = layout.averaged_batch_statistics(statistics_from_zero, batches)
            for buffer, value in zip(buffers, averaged, strict=True):
                buffer.copy_(torch.from_numpy(value))

    def count_params(self) -> int:
        return int(
            sum(p.numel() for p in self.net.parameters())
            + sum(
                b.numel() for name, b in self.net.named_buffers() if not name.endswith("num_batches_tracked")
            )
        )
