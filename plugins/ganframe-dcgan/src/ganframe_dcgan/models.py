"""DCGAN networks (Radford et al., 2016) sized from the data set's image shape.

Both networks work for any ``(channels, height, width)`` sample shape, not
only powers of two: the generator starts from a small feature map (at least
4x4), doubles it with strided transposed convolutions until it covers the
image, and crops the centre when the image size is not a multiple (27x27 is
grown to 28x28 and cropped). MNIST's 28x28 needs no crop: 7x7 -> 14 -> 28.

The discriminator mirrors the generator with strided convolutions. It has
**no BatchNorm**: BatchNorm makes each sample's output depend on the rest of
the batch, which breaks per-sample gradient penalties (WGAN-GP). Its hidden
layers use layer normalisation instead (``GroupNorm(1, C)``, normalising each
sample on its own), or nothing with ``--model-option norm=none``.

Options (``--model-option KEY=VALUE``, read by both networks):

- ``width`` (32): channels of the generator's last and the discriminator's
  first hidden layer; each further stage doubles it. 32 trains MNIST well and
  keeps a CPU step about 3x cheaper than PyTorch's DCGAN example's 64.
- ``norm`` (``layer``): the discriminator's normalisation, ``layer`` or ``none``.
- ``embedding_dim`` (16, conditional generator only): size of the label embedding.

Conditional models (``cdcgan``) concatenate a label embedding to the noise in
G and use a projection discriminator (Miyato & Koyama, 2018): the logit gains
``<embed(label), features>``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ganframe import LabelProjection, ModelSpec, UsageError

#: the generator's first feature map is at least this many pixels on its shorter side
MIN_START = 4
#: at most this many doublings (64x64 images start at 4x4)
MAX_STAGES = 4
NORMS = ("layer", "none")


@dataclass(frozen=True)
class Plan:
    """How a network of ``stages`` stride-2 layers covers a ``channels x height x width`` image."""

    channels: int
    height: int
    width: int
    stages: int

    @property
    def start(self) -> tuple[int, int]:
        """The generator's first feature map (height, width)."""
        scale = 2**self.stages
        return math.ceil(self.height / scale), math.ceil(self.width / scale)

    @property
    def end(self) -> tuple[int, int]:
        """The discriminator's last feature map: each 4x4/stride-2/pad-1 convolution halves (floor)."""
        h, w = self.height, self.width
        for _ in range(self.stages):
            h, w = h // 2, w // 2
        return h, w


def plan_for(spec: ModelSpec) -> Plan:
    """The layer plan for ``spec.sample_shape``; a non-image shape is a UsageError."""
    shape = tuple(spec.sample_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise UsageError(
            f"Model 'dcgan' is convolutional and needs image samples shaped (channels, height, width), but the "
            f"data set's samples have shape {shape}. Use an image data set such as 'mnist', or a model that "
            "takes any shape, such as 'mlp'."
        )
    channels, height, width = shape
    stages = 0
    while stages < MAX_STAGES and min(height, width) / 2 ** (stages + 1) >= MIN_START:
        stages += 1
    return Plan(channels, height, width, stages)


def read_options(spec: ModelSpec) -> tuple[int, str]:
    width = spec.options.get("width", 32)
    norm = spec.options.get("norm", "layer")
    if width < 1:
        raise UsageError(f"--model-option width={width} must be a positive number of channels (default 32).")
    if norm not in NORMS:
        raise UsageError(f"--model-option norm={norm} is not valid; choose 'layer' (default) or 'none'.")
    return width, norm


class DCGANGenerator(nn.Module):
    """noise (N, latent) [+ labels] -> images (N, C, H, W) in [-1, 1]."""

    def __init__(self, spec: ModelSpec, width: int, embedding_dim: int = 16):
        super().__init__()
        plan = plan_for(spec)
        self.height, self.width = plan.height, plan.width
        self.embedding = nn.Embedding(spec.num_classes, embedding_dim) if spec.conditional else None
        channels = [width * 2 ** (plan.stages - 1 - i) for i in range(plan.stages)] or [width]
        h0, w0 = plan.start
        layers: list[nn.Module] = [
            nn.Linear(spec.latent_dim + (embedding_dim if spec.conditional else 0), channels[0] * h0 * w0, bias=False),
            nn.Unflatten(1, (channels[0], h0, w0)),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(),
        ]
        for i in range(plan.stages):
            last = i == plan.stages - 1
            out = plan.channels if last else channels[i + 1]
            layers.append(nn.ConvTranspose2d(channels[i], out, 4, stride=2, padding=1, bias=last))
            if not last:
                layers += [nn.BatchNorm2d(out), nn.ReLU()]
        if plan.stages == 0:  # images smaller than 8 pixels: no upsampling, one 3x3 convolution
            layers.append(nn.Conv2d(channels[0], plan.channels, 3, padding=1))
        layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embedding is not None:
            z = torch.cat([z, self.embedding(labels).to(z.dtype)], dim=1)
        x = self.net(z)
        top = (x.shape[2] - self.height) // 2
        left = (x.shape[3] - self.width) // 2
        return x[:, :, top : top + self.height, left : left + self.width]


class DCGANDiscriminator(nn.Module):
    """images (N, C, H, W) [+ labels] -> logits (N, 1); no BatchNorm, so samples never interact."""

    def __init__(self, spec: ModelSpec, width: int, norm: str = "layer"):
        super().__init__()
        plan = plan_for(spec)
        layers: list[nn.Module] = []
        channels = plan.channels
        for i in range(plan.stages):
            out = width * 2**i
            layers.append(nn.Conv2d(channels, out, 4, stride=2, padding=1))
            if i > 0 and norm == "layer":
                layers.append(nn.GroupNorm(1, out))  # layer norm over (C, H, W) of each sample
            layers.append(nn.LeakyReLU(0.2))
            channels = out
        if plan.stages == 0:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
            channels = width
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        h, w = plan.end
        self.head = nn.Linear(channels * h * w, 1)
        self.projection = LabelProjection(spec.num_classes, channels * h * w) if spec.conditional else None

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        features = self.features(x)
        logits = self.head(features)
        if self.projection is not None:
            logits = logits + self.projection.score(features, labels)
        return logits


class ACGANDiscriminator(DCGANDiscriminator):
    """images (N, C, H, W) -> (logits (N, 1), {"class_logits": (N, classes)}): the DCGAN critic with a
    second head predicting the class (Odena et al., 2017). It takes no labels: it predicts them."""

    def __init__(self, spec: ModelSpec, width: int, norm: str = "layer"):
        super().__init__(spec, width, norm)
        if spec.num_classes < 1:
            raise UsageError(
                "Model 'acgan' predicts class labels, but the data set has none; use a labelled data set such as 'mnist'."
            )
        self.classifier = nn.Linear(self.head.in_features, spec.num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        features = self.features(x)
        return self.head(features), {"class_logits": self.classifier(features)}


def dcgan_generator(spec: ModelSpec) -> DCGANGenerator:
    """DCGAN generator: Linear -> (BatchNorm, ReLU, ConvTranspose 4x4/2) per stage -> tanh."""
    width, _ = read_options(spec)
    embedding_dim = spec.options.get("embedding_dim", 16) if spec.conditional else 16
    return DCGANGenerator(spec, width, embedding_dim)


def dcgan_discriminator(spec: ModelSpec) -> DCGANDiscriminator:
    """DCGAN critic: (Conv 4x4/2, layer norm, LeakyReLU 0.2) per stage -> Linear to one logit."""
    width, norm = read_options(spec)
    return DCGANDiscriminator(spec, width, norm)


def acgan_discriminator(spec: ModelSpec) -> ACGANDiscriminator:
    """ACGAN critic: the DCGAN critic plus a class head; returns (logits, {"class_logits": ...})."""
    width, norm = read_options(spec)
    return ACGANDiscriminator(spec, width, norm)
