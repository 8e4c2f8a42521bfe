"""The adversarial loss interface.

A loss sees more than logits: :class:`LossInputs` also carries the real and
fake batches, their labels and a handle to the discriminator, so losses such
as WGAN-GP (a gradient penalty on interpolates between real and fake) can be
written as plugins without changing the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LossInputs:
    """Everything one phase of a training step knows.

    - ``phase``: ``"discriminator"`` or ``"generator"``.
    - ``real_logits``: D's logits on the real batch (``None`` in the generator phase).
    - ``fake_logits``: D's logits on the fake batch.
    - ``real`` / ``fake``: the batches, shape ``(N, *sample_shape)``; in the
      discriminator phase ``fake`` carries no gradient into G.
    - ``real_labels`` / ``fake_labels``: class labels (long) or ``None`` for
      unconditional models.
    - ``discriminator(x, labels)``: calls D with conditioning handled (labels
      are ignored for unconditional models); returns logits ``(N,)``.
    """

    phase: str
    real_logits: torch.Tensor | None
    fake_logits: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    real_labels: torch.Tensor | None
    fake_labels: torch.Tensor | None
    discriminator: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


class GANLoss:
    """Base class for loss plugins: override both methods; each returns a scalar."""

    def discriminator_loss(self, inputs: LossInputs) -> torch.Tensor:
        raise NotImplementedError

    def generator_loss(self, inputs: LossInputs) -> torch.Tensor:
        raise NotImplementedError


def bce_with_target(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean binary cross-entropy of ``logits`` against a constant target.

    The numerically stable form of the tutorial recipes' ``Sigmoid`` + ``BCELoss``
    (docs/background.md).
    """
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
