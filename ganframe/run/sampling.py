"""Drawing samples from a generator, during training or from a checkpoint.

``mode`` chooses the generator's mode while sampling: ``eval`` (dropout off,
BatchNorm running statistics) or ``train`` (as the tutorial recipes in
docs/background.md sample: dropout on, batch statistics). Sampling in train
mode never changes the model: any BatchNorm running statistics it touches are
restored afterwards.

``weights`` chooses which weights of a checkpoint to sample from: ``ema``
(the average of G's weights a run with ``--g-ema`` keeps), ``trained`` (the
last trained weights), or ``auto`` (the average when the checkpoint has one).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganframe.config import WEIGHTS, check_choice
from ganframe.errors import exception_gist
from ganframe.nn.conditioning import Conditioned
from ganframe.plugin.registry import Registry
from ganframe.plugin.specs import ModelSpec
from ganframe.run.checkpoint import Checkpoint, CheckpointError, newest_of_run

ROW_LENGTH = 10


@contextlib.contextmanager
def sampling_mode(generator: nn.Module, mode: str):
    """Put ``generator`` in ``mode`` without side effects on its buffers or training flag."""
    was_training = generator.training
    saved = {name: buf.clone() for name, buf in generator.named_buffers()} if mode == "train" else {}
    generator.train(mode == "train")
    try:
        with torch.no_grad():
            yield
    finally:
        generator.train(was_training)
        with torch.no_grad():
            for name, buf in generator.named_buffers():
                if name in saved:
                    buf.copy_(saved[name])


def generate(
    generator: Conditioned,
    noise: torch.Tensor,
    labels: torch.Tensor | None,
    *,
    mode: str = "eval",
    batch_size: int = 1000,
) -> torch.Tensor:
    """Samples for ``noise`` (and ``labels``, which an unconditional generator ignores), in chunks,
    as float32 in [-1, 1]."""
    out = []
    with sampling_mode(generator.module, mode):
        for start in range(0, len(noise), batch_size):
            z = noise[start : start + batch_size]
            y = labels[start : start + batch_size] if labels is not None else None
            out.append(generator(z, y).float())
    return torch.cat(out) if out else noise.new_zeros((0,))


def grid_inputs(
    latent_dim: int, num_classes: int, conditional: bool, seed: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Fixed noise for sample grids: 10 per row; for conditional models row i is class i."""
    rows = num_classes if conditional else ROW_LENGTH
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(rows * ROW_LENGTH, latent_dim, generator=generator).to(device)
    labels = None
    if conditional:
        labels = torch.arange(num_classes).repeat_interleave(ROW_LENGTH).to(device)
    return noise, labels


@dataclass
class LoadedGenerator:
    """A generator rebuilt from a checkpoint, with what is needed to sample from it."""

    #: the generator, called with labels when it takes them
    network: Conditioned
    spec: ModelSpec
    class_names: list[str]
    #: the run's resolved config (``RunConfig.to_dict()``)
    config: dict[str, Any]
    path: Path
    #: "ema" (the average of G's weights) or "trained"
    weights: str = "trained"
    #: newer checkpoints of a run directory passed over (another run's, unreadable), one line each
    notes: list[str] = field(default_factory=list)

    @property
    def generator(self) -> nn.Module:
        return self.network.module

    @property
    def conditional(self) -> bool:
        return self.network.conditional

    @property
    def sample_mode(self) -> str:
        """The mode the run drew its sample grids in (its ``--sample-mode``)."""
        return self.config.get("sample_mode", "eval")

    def sample(self, n: int, label: int | None = None, *, seed: int | None = None, mode: str | None = None):
        """``n`` samples and their labels (all ``label``, or uniform random ones for conditional models)."""
        device = next(self.generator.parameters()).device
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        noise = torch.randn(n, self.spec.latent_dim, generator=gen).to(device)
        labels = None
        if self.conditional:
            if label is None:
                labels = torch.randint(0, self.spec.num_classes, (n,), generator=gen)
            else:
                labels = torch.full((n,), label, dtype=torch.long)
            labels = labels.to(device)
        mode = mode or self.sample_mode
        return generate(self.network, noise, labels, mode=mode), labels


def _check_finite(path, state_dict, what: str) -> None:
    """Refuse weights holding NaN or Inf: every sample drawn from them would be NaN."""
    from ganframe.train.nonfinite import describe_entries, nonfinite_entries

    bad = nonfinite_entries(state_dict)
    if bad:
        raise CheckpointError(
            f"Checkpoint {path}: {what} hold NaN or Inf ({describe_entries(bad)}), so every sample would be NaN; "
            f"nothing was written. Its run diverged before this checkpoint; use an earlier checkpoint from "
            f"{Path(path).parent}, or train again with a lower --lr."
        )


def load_generator(
    path: str | Path, registry: Registry, device: str | torch.device = "cpu", *, weights: str = "auto"
) -> LoadedGenerator:
    """Rebuild the generator a checkpoint was trained with, on ``device``, holding the ``weights``
    asked for (see the module docstring); no data set needed."""
    check_choice("weights", weights, WEIGHTS)
    notes: list[str] = []
    if Path(path).is_dir():  # a run directory: its own newest checkpoint, never one copied in
        checkpoint, notes = newest_of_run(Path(path), map_location=device)
    else:
        checkpoint = Checkpoint.load(path, map_location=device)
    if weights == "ema" and checkpoint.generator_ema is None:
        raise CheckpointError(
            f"Checkpoint {checkpoint.path} holds no average of G's weights (it was trained with --g-ema 0); "
            "use --weights trained (or auto)."
        )
    use_average = checkpoint.generator_ema is not None and weights != "trained"
    model = checkpoint.model
    name = model.components.get("generator")
    if name is None:
        raise CheckpointError(f"Checkpoint {checkpoint.path} lacks the model description (no generator name).")
    component = registry.find("generator", name)
    if component is None:
        raise CheckpointError(
            f"Checkpoint {checkpoint.path} was trained with generator '{name}', which is not installed "
            "here; install the plugin that provides it (see `ganframe plugins`)."
        )
    state_dict = checkpoint.generator_weights(average=use_average)
    _check_finite(checkpoint.path, state_dict, "the average of G's weights" if use_average else "G's weights")
    spec = model.generator_spec()
    generator = component.build(spec)
    try:
        generator.load_state_dict(state_dict)
    except RuntimeError as exc:
        raise CheckpointError(
            f"Checkpoint {checkpoint.path} does not fit generator '{name}' as installed here: "
            f"{exception_gist(exc, lines=2)}"
        ) from None
    generator.to(device)
    return LoadedGenerator(
        Conditioned(generator, spec.conditional),
        spec,
        list(model.class_names),
        checkpoint.config,
        Path(checkpoint.path),
        "ema" if use_average else "trained",
        notes,
    )
