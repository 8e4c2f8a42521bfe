"""Reusable network pieces for plugin authors (imports torch).

These are generic building blocks, not models: an MLP stack builder, a
reshape, label conditioning by embedding + concatenation, a projection
output for conditional discriminators, and a dropout that is faster on CPUs. ganframe's built-in models are assembled from them, and a
third-party plugin may use them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class Dropout(nn.Dropout):
    """``nn.Dropout`` with a faster CPU path (same distribution, same scaling).

    On CPUs PyTorch's dropout draws its mask with ``bernoulli_``, which measured
    2.6x slower here than drawing uniforms and comparing (``rand_like >= p``);
    dropout was about 15% of an MLP GAN step. CUDA tensors keep the fused
    native kernel. Both use the default generator, so ``torch.manual_seed``
    still makes runs repeatable, and CUDA graph capture stays safe.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or x.is_cuda or self.inplace:
            return super().forward(x)
        if self.p == 1.0:
            return x * 0.0
        keep = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * keep


class Reshape(nn.Module):
    """Reshape ``(N, prod(shape))`` to ``(N, *shape)``."""

    def __init__(self, shape: Sequence[int]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def mlp(
    sizes: Sequence[int],
    *,
    activation: Callable[[], nn.Module],
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> list[nn.Module]:
    """Hidden layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``, each followed by
    the activation (and dropout), as in the tutorial recipes' stacks (docs/background.md).

    With ``batchnorm`` each Linear has no bias and is followed by BatchNorm1d
    (the BatchNorm-generator tutorial recipe's ``linear_block``). Returns a list to splice into an
    ``nn.Sequential`` with the caller's own output layer.
    """
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if batchnorm:
            layers += [nn.Linear(fan_in, fan_out, bias=False), nn.BatchNorm1d(fan_out)]
        else:
            layers.append(nn.Linear(fan_in, fan_out))
        layers.append(activation())
        if dropout > 0:
            layers.append(Dropout(dropout))
    return layers


class LabelConditioned(nn.Module):
    """Condition a network on class labels: embed the label and concatenate it to
    the flattened input, then run ``body`` (the conditional GAN tutorial recipe, docs/background.md).

    ``forward(x, labels)``: ``x`` of shape ``(N, ...)`` is flattened to
    ``(N, -1)``, ``labels`` (long, ``(N,)``) become ``(N, embedding_dim)``.
    """

    def __init__(self, num_classes: int, embedding_dim: int, body: nn.Module):
        super().__init__()
        self.embeddings = nn.Embedding(num_classes, embedding_dim)
        self.body = body

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        return self.body(torch.cat([flat, self.embeddings(labels).to(flat.dtype)], dim=1))


class LabelProjected(LabelConditioned):
    """A conditional discriminator with a projection output (Miyato & Koyama, 2018, "cGANs with
    Projection Discriminator"): ``logit = w . h + embed(y) . h`` over the features ``h`` that
    ``body`` computes from the label-concatenated input (so the concatenation of
    :class:`LabelConditioned` stays, and the label is read a second time at the output).

    Why: with concatenation alone the label is 16 of ~800 inputs of the first layer and an MLP
    discriminator learns to half-ignore it, so the generator draws confident digits of the wrong
    class; the inner product makes "does this image fit this label" a term of every logit
    (measured on ``cgan``: README, "Quality of the defaults").

    ``body`` maps ``(N, flat + embedding_dim)`` to ``(N, features)``.
    """

    def __init__(self, num_classes: int, embedding_dim: int, body: nn.Module, features: int):
        super().__init__(num_classes, embedding_dim, body)
        self.output = nn.Linear(features, 1)
        self.projection = LabelProjection(num_classes, features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        features = super().forward(x, labels)
        return self.output(features) + self.projection.score(features, labels)


class LabelProjection(nn.Embedding):
    """The label term of a projection discriminator: ``embed(y) . features``, one value per sample,
    added to the unconditional logit. Its embedding starts small (std 0.02) so the logit starts near
    the unconditional one instead of being swamped by a sum over hundreds of features."""

    def __init__(self, num_classes: int, features: int):
        super().__init__(num_classes, features)
        nn.init.normal_(self.weight, std=0.02)

    def score(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``(N, features)``, ``(N,)`` -> ``(N, 1)``."""
        return (self(labels).to(features.dtype) * features).sum(dim=1, keepdim=True)
