"""The adversarial loss interface.

A loss sees more than logits: :class:`LossInputs` also carries the real and
fake batches, their labels and a handle to the discriminator, so losses such
as WGAN-GP (a gradient penalty on interpolates between real and fake) can be
written as plugins without changing the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

#: the extra outputs of a discriminator that returns only logits
NO_EXTRA: Mapping[str, Any] = {}


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
      are ignored for unconditional models) and the run's augmentation
      (``--augment``) applied to ``x``; returns logits ``(N,)``.
    - ``real_extra`` / ``fake_extra``: D's extra outputs on each batch (a
      discriminator returning ``(logits, {"class_logits": ...})``, say), as a
      dict of batch-first tensors; empty for a D that returns logits only.
      Under ``--precision bf16`` they may be bfloat16: call ``.float()``.
    - ``noise``: the latent batch G was given for ``fake``.
    - ``generator(noise, labels)``: calls G with conditioning handled (for
      terms such as path-length regularisation).
    """

    phase: str
    real_logits: torch.Tensor | None
    fake_logits: torch.Tensor
    real: torch.Tensor
    fake: torch.Tensor
    real_labels: torch.Tensor | None
    fake_labels: torch.Tensor | None
    discriminator: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
    real_extra: Mapping[str, Any] = field(default_factory=dict)
    fake_extra: Mapping[str, Any] = field(default_factory=dict)
    noise: torch.Tensor | None = None
    generator: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] | None = None


def split_discriminator_output(output: Any) -> tuple[torch.Tensor, Mapping[str, Any]]:
    """``(logits of shape (N,), extra outputs)`` from what a discriminator returned.

    The contract (see ``register_discriminators``): a tensor of logits
    ``(N,)`` / ``(N, 1)``; or ``(logits, {"name": tensor, ...})``; or a dict
    holding ``"logits"`` and the extras. Anything else is a plugin bug, named
    as such. Logits come back as float32 (bf16 autocast) and flat.
    """
    if isinstance(output, torch.Tensor):
        return output.reshape(output.shape[0]).float(), NO_EXTRA
    if isinstance(output, Mapping) and isinstance(output.get("logits"), torch.Tensor):
        logits = output["logits"]
        extra = {key: value for key, value in output.items() if key != "logits"}
    elif (
        isinstance(output, (tuple, list))
        and len(output) == 2
        and isinstance(output[0], torch.Tensor)
        and isinstance(output[1], Mapping)
    ):
        logits, extra = output
    else:
        from ganframe.errors import PluginContractError

        raise PluginContractError(
            f"A discriminator returned {type(output).__name__}; it must return logits (a tensor of shape (N,) or "
            "(N, 1)), a tuple (logits, dict of extra outputs), or a dict with the key 'logits'."
        )
    return logits.reshape(logits.shape[0]).float(), extra


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
