"""One GAN training step: the documents' two phases, and nothing else.

1. **Discriminator phase.** Fresh noise and (for conditional models) uniform
   random labels; the fake batch is generated under ``no_grad``, which is the
   documents' ``.detach()`` without building a graph through G at all. D sees
   the real batch (with its real labels) and the fake batch; the loss plugin
   turns the two sets of logits into D's loss; only D's optimizer steps.
2. **Generator phase.** Fresh noise and labels again; D's parameters are
   frozen (``requires_grad_(False)``) so backward computes gradients for D's
   input only, never for its weights; only G's optimizer steps.

A step returns ``[d_loss, g_loss, D(x), D(G(z))]`` as one device tensor and
never reads it back to the host: the engine reads metrics every N steps.

:class:`StepLevers` lists the ways this step is faster than the documents'
loop while computing the same thing; ``StepLevers.plain()`` turns them all
off, which is how the benchmarks measure each one and how the tests check the
fast path trains the same model as the plain one.

In a distributed run (:mod:`ganframe.train.distributed`) ``generator_sync`` and
``discriminator_sync`` are the DistributedDataParallel wrappers, called only
where that network's own gradients are computed (D on real and fake in the D
phase, G in the G phase), so DDP all-reduces exactly those gradients; the
no-grad fakes and the frozen D of the G phase use the plain modules. In one
process both are the modules themselves, so nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganframe.errors import PluginContractError
from ganframe.nn.losses import LossInputs


@dataclass(frozen=True)
class StepLevers:
    """Exact speed-ups of the step (each measured in the README's performance table).

    - ``no_grad_fakes``: generate D-phase fakes under ``no_grad`` instead of
      building G's graph and ``.detach()``-ing it.
    - ``freeze_discriminator``: in the G phase compute gradients for D's input
      only, not for its weights (which the documents compute and discard).
    - ``joint_discriminator``: one D forward over ``cat([real, fake])`` instead of
      two (one larger matrix product per layer). Used only when D has no
      batch-coupled layer (BatchNorm); exact but for dropout masks being drawn
      in a different order.
    - ``fused_optimizer``: Adam's fused kernel (SGD's ``foreach`` form) instead of
      PyTorch's default implementation; read where the optimizers are built
      (``ganframe.train.engine.make_optimizer``).

    :meth:`plain` turns them all off: the documents' step, for benchmarks and tests.
    """

    no_grad_fakes: bool = True
    freeze_discriminator: bool = True
    joint_discriminator: bool = True
    fused_optimizer: bool = True

    @classmethod
    def plain(cls) -> "StepLevers":
        return cls(no_grad_fakes=False, freeze_discriminator=False, joint_discriminator=False, fused_optimizer=False)


def _scalar(loss, plugin, method: str) -> torch.Tensor:
    """The loss as a 0-d tensor; anything but one value is a plugin bug, named as such (no host sync)."""
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise PluginContractError(
            f"{type(plugin).__name__}.{method} returned {shape}; a loss must return one scalar tensor "
            "(reduce it with .mean())."
        )
    return loss.reshape(())


def batch_coupled(module: nn.Module) -> bool:
    """True when a module mixes samples of a batch (BatchNorm), so real and fake must not share a forward."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules()) or bool(
        getattr(module, "batch_coupled", False)
    )

#: order of the values in the tensor a step returns
METRIC_NAMES = ("d_loss", "g_loss", "D(x)", "D(G(z))")


class TrainStep:
    """Callable ``step(real, real_labels) -> tensor[4]`` over fixed networks and optimizers."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss,
        g_optimizer: torch.optim.Optimizer,
        d_optimizer: torch.optim.Optimizer,
        *,
        latent_dim: int,
        num_classes: int = 0,
        g_conditional: bool = False,
        d_conditional: bool = False,
        autocast_dtype: torch.dtype | None = None,
        levers: StepLevers = StepLevers(),
        autocast_cache: bool = True,
    ):
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.g_conditional = g_conditional
        self.d_conditional = d_conditional
        self.autocast_dtype = autocast_dtype
        self.levers = levers
        self.autocast_cache = autocast_cache
        self.joint = levers.joint_discriminator and not batch_coupled(discriminator)
        #: the networks as called where their gradients are computed (DDP wrappers when distributed)
        self.generator_sync: nn.Module = generator
        self.discriminator_sync: nn.Module = discriminator
        #: ``--on-nan skip``: called with each loss before its update; True skips that update
        self.skip_update = None

    # -- calling the networks with conditioning handled ------------------------
    def generate(self, noise: torch.Tensor, labels: torch.Tensor | None, net: nn.Module | None = None) -> torch.Tensor:
        net = self.generator if net is None else net
        return net(noise, labels) if self.g_conditional else net(noise)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None, net: nn.Module | None = None) -> torch.Tensor:
        net = self.discriminator if net is None else net
        logits = net(x, labels) if self.d_conditional else net(x)
        return logits.reshape(logits.shape[0]).float()

    def sample_inputs(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fresh noise, and uniform random labels when any network is conditional."""
        noise = torch.randn(n, self.latent_dim, device=device)
        labels = None
        if self.g_conditional or self.d_conditional:
            labels = torch.randint(0, self.num_classes, (n,), device=device)
        return noise, labels

    def _update(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        if self.skip_update is not None and self.skip_update(loss):
            return
        loss.backward()
        optimizer.step()

    def _autocast(self, device: torch.device):
        return torch.autocast(
            device.type,
            dtype=self.autocast_dtype,
            enabled=self.autocast_dtype is not None,
            cache_enabled=self.autocast_cache,  # must be off under CUDA graph capture
        )

    # -- the two phases --------------------------------------------------------
    def discriminator_phase(self, real: torch.Tensor, real_labels: torch.Tensor | None):
        """Update D on a real batch and a detached fake batch; returns (d_loss, real_logits, fake_logits)."""
        noise, fake_labels = self.sample_inputs(real.shape[0], real.device)
        with self._autocast(real.device):
            if self.levers.no_grad_fakes:
                with torch.no_grad():
                    fake = self.generate(noise, fake_labels)
            else:
                fake = self.generate(noise, fake_labels).detach()
            real_logits, fake_logits = self._discriminate_pair(real, real_labels, fake, fake_labels)
            inputs = LossInputs(
                "discriminator", real_logits, fake_logits, real, fake, real_labels, fake_labels, self.discriminate
            )
            d_loss = _scalar(self.loss.discriminator_loss(inputs), self.loss, "discriminator_loss")
        self._update(d_loss, self.d_optimizer)
        return d_loss, real_logits, fake_logits

    def _discriminate_pair(self, real, real_labels, fake, fake_labels):
        """D's logits on the real and the fake batch, through the (DDP-wrapped) D whose gradients count."""
        net = self.discriminator_sync
        if not self.joint:
            return self.discriminate(real, real_labels, net), self.discriminate(fake, fake_labels, net)
        both = torch.cat([real, fake.to(real.dtype)])
        labels = torch.cat([real_labels, fake_labels]) if self.d_conditional else None
        logits = self.discriminate(both, labels, net)
        return logits[: real.shape[0]], logits[real.shape[0] :]

    def generator_phase(self, real: torch.Tensor, real_labels: torch.Tensor | None) -> torch.Tensor:
        """Update G through D (frozen with the ``freeze_discriminator`` lever); returns g_loss."""
        noise, fake_labels = self.sample_inputs(real.shape[0], real.device)
        freeze = self.levers.freeze_discriminator
        if freeze:
            self.discriminator.requires_grad_(False)
        try:
            with self._autocast(real.device):
                fake = self.generate(noise, fake_labels, self.generator_sync)
                fake_logits = self.discriminate(fake, fake_labels)
                inputs = LossInputs(
                    "generator", None, fake_logits, real, fake, real_labels, fake_labels, self.discriminate
                )
                g_loss = _scalar(self.loss.generator_loss(inputs), self.loss, "generator_loss")
            self._update(g_loss, self.g_optimizer)
        finally:
            if freeze:
                self.discriminator.requires_grad_(True)
        return g_loss

    def __call__(self, real: torch.Tensor, real_labels: torch.Tensor | None) -> torch.Tensor:
        d_loss, real_logits, fake_logits = self.discriminator_phase(real, real_labels)
        g_loss = self.generator_phase(real, real_labels)
        return torch.stack(
            [
                d_loss.detach().float(),
                g_loss.detach().float(),
                torch.sigmoid(real_logits.detach()).mean(),
                torch.sigmoid(fake_logits.detach()).mean(),
            ]
        )
