"""One GAN training step: the phases its schedule names (two-phase by default).

1. **Discriminator phase.** Fresh noise and (for conditional models) uniform
   random labels; the fake batch is generated under ``no_grad``, which is the
   tutorials' ``.detach()`` without building a graph through G at all. D sees
   the real batch (with its real labels) and the fake batch; the loss plugin
   turns the two sets of logits into D's loss; only D's optimizer steps.
2. **Generator phase.** Fresh noise and labels again; D's parameters are
   frozen (``requires_grad_(False)``) so backward computes gradients for D's
   input only, never for its weights; only G's optimizer steps.

Which phases run at a step (n-critic runs G only every n-th step), and which
regularisers join a phase's loss, comes from the step's
:class:`ganframe.train.schedule.Schedule`, decided on the host from counters
alone. An augmentation (``--augment``) is applied to every batch D sees, real
and fake, in both phases. A discriminator may return extra outputs besides
its logits (:func:`ganframe.nn.losses.split_discriminator_output`); losses
and regularisers get them as ``inputs.real_extra`` / ``inputs.fake_extra``.

A step returns ``[d_loss, g_loss, D(x), D(G(z))]`` as one device tensor and
never reads it back to the host: the engine reads metrics every N steps. At
a step where a phase does not run, its values repeat its latest ones.

:class:`StepLevers` lists the ways this step is faster than the tutorials'
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
from ganframe.nn.conditioning import Conditioned
from ganframe.nn.losses import NO_EXTRA, LossInputs, split_discriminator_output
from ganframe.train.schedule import TWO_PHASE, Phase, Plan, Regularization, Schedule


@dataclass(frozen=True)
class StepLevers:
    """Exact speed-ups of the step (each measured in the README's performance table).

    - ``no_grad_fakes``: generate D-phase fakes under ``no_grad`` instead of
      building G's graph and ``.detach()``-ing it.
    - ``freeze_discriminator``: in the G phase compute gradients for D's input
      only, not for its weights (which the tutorials compute and discard).
    - ``joint_discriminator``: one D forward over ``cat([real, fake])`` instead of
      two (one larger matrix product per layer). Used only when D has no
      batch-coupled layer (BatchNorm); exact but for dropout masks being drawn
      in a different order.
    - ``fused_optimizer``: Adam's fused kernel (SGD's ``foreach`` form) instead of
      PyTorch's default implementation; read where the optimizers are built
      (``ganframe.train.engine.make_optimizer``).

    :meth:`plain` turns them all off: the tutorials' step, for benchmarks and tests.
    """

    no_grad_fakes: bool = True
    freeze_discriminator: bool = True
    joint_discriminator: bool = True
    fused_optimizer: bool = True

    @classmethod
    def plain(cls) -> StepLevers:
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


def _split_extra(extra, n: int):
    """Extra outputs of a joint forward over ``cat([real, fake])``, split into the two batches."""
    if not extra:
        return NO_EXTRA, NO_EXTRA
    real = {k: v[:n] if isinstance(v, torch.Tensor) else v for k, v in extra.items()}
    fake = {k: v[n:] if isinstance(v, torch.Tensor) else v for k, v in extra.items()}
    return real, fake


class TrainStep:
    """Callable ``step(real, real_labels) -> tensor[4]`` over fixed networks and optimizers.

    ``phases`` (default two-phase) and ``regularizations`` make its
    :class:`Schedule`; ``augment`` is applied to D's inputs. :meth:`next_plan`,
    :meth:`run` and :meth:`advance` are the three parts of a call, separated
    so a CUDA graph can replay :meth:`run` while the host keeps counting.
    """

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
        phases: tuple[Phase, ...] | list[Phase] = TWO_PHASE,
        regularizations: tuple[Regularization, ...] | list[Regularization] = (),
        augment=None,
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
        self.schedule = Schedule(phases, regularizations)
        self.augment = augment
        self.joint = levers.joint_discriminator and not batch_coupled(discriminator)
        self._g = Conditioned(generator, g_conditional)
        self._d = Conditioned(discriminator, d_conditional)
        #: the networks as called where their gradients are computed (DDP wrappers when distributed)
        self.generator_sync = generator
        self.discriminator_sync = discriminator
        #: ``--on-nan skip``: called with each loss before its update; True skips that update
        self.skip_update = None
        #: the latest metrics, for steps where a phase does not run (created when first needed)
        self._last: torch.Tensor | None = None

    @property
    def generator_sync(self) -> nn.Module:
        return self._g_sync.module

    @generator_sync.setter
    def generator_sync(self, module: nn.Module) -> None:
        self._g_sync = self._g.using(module)

    @property
    def discriminator_sync(self) -> nn.Module:
        return self._d_sync.module

    @discriminator_sync.setter
    def discriminator_sync(self, module: nn.Module) -> None:
        self._d_sync = self._d.using(module)

    # -- calling the networks with conditioning handled ------------------------
    def generate(self, noise: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self._g(noise, labels)

    def _d_forward(self, x: torch.Tensor, labels: torch.Tensor | None, d: Conditioned):
        """D's (logits, extra outputs) on ``x`` as training sees it (augmented when the run augments)."""
        if self.augment is not None:
            x = self.augment(x)
        return split_discriminator_output(d(x, labels))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D's logits ``(N,)`` on ``x`` (augmented when the run augments): what losses get as ``inputs.discriminator``."""
        return self._d_forward(x, labels, self._d)[0]

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

    def _regularized(self, loss: torch.Tensor, regs: tuple[Regularization, ...], inputs: LossInputs) -> torch.Tensor:
        """The phase's loss plus each applicable regulariser's penalty, scaled by its interval (lazy)."""
        for reg in regs:
            penalty = _scalar(reg.penalty(inputs), reg.regularizer, "penalty")
            loss = loss + (penalty * reg.interval if reg.interval != 1 else penalty)
        return loss

    # -- the phases ------------------------------------------------------------
    def discriminator_phase(
        self, real: torch.Tensor, real_labels: torch.Tensor | None, regs: tuple[Regularization, ...] = ()
    ):
        """Update D on a real batch and a detached fake batch; returns (d_loss, real_logits, fake_logits)."""
        noise, fake_labels = self.sample_inputs(real.shape[0], real.device)
        with self._autocast(real.device):
            if self.levers.no_grad_fakes:
                with torch.no_grad():
                    fake = self.generate(noise, fake_labels)
            else:
                fake = self.generate(noise, fake_labels).detach()
            if regs:
                if any(r.real_input_grad for r in regs):
                    real = real.detach().requires_grad_(True)
                if any(r.fake_input_grad for r in regs):
                    fake = fake.detach().requires_grad_(True)
            (real_logits, real_extra), (fake_logits, fake_extra) = self._discriminate_pair(
                real, real_labels, fake, fake_labels
            )
            inputs = LossInputs(
                "discriminator",
                real_logits,
                fake_logits,
                real,
                fake,
                real_labels,
                fake_labels,
                self.discriminate,
                real_extra,
                fake_extra,
                noise,
                self.generate,
            )
            d_loss = _scalar(self.loss.discriminator_loss(inputs), self.loss, "discriminator_loss")
            if regs:
                d_loss = self._regularized(d_loss, regs, inputs)
        self._update(d_loss, self.d_optimizer)
        return d_loss, real_logits, fake_logits

    def _discriminate_pair(self, real, real_labels, fake, fake_labels):
        """D's (logits, extra) on the real and the fake batch, through the (DDP-wrapped) D whose gradients count."""
        d = self._d_sync
        if not self.joint:
            return self._d_forward(real, real_labels, d), self._d_forward(fake, fake_labels, d)
        both = torch.cat([real, fake.to(real.dtype)])
        labels = torch.cat([real_labels, fake_labels]) if self.d_conditional else None
        logits, extra = self._d_forward(both, labels, d)
        n = real.shape[0]
        real_extra, fake_extra = _split_extra(extra, n)
        return (logits[:n], real_extra), (logits[n:], fake_extra)

    def generator_phase(
        self, real: torch.Tensor, real_labels: torch.Tensor | None, regs: tuple[Regularization, ...] = ()
    ) -> torch.Tensor:
        """Update G through D (frozen with the ``freeze_discriminator`` lever); returns g_loss."""
        noise, fake_labels = self.sample_inputs(real.shape[0], real.device)
        freeze = self.levers.freeze_discriminator
        if freeze:
            self.discriminator.requires_grad_(False)
        try:
            with self._autocast(real.device):
                fake = self._g_sync(noise, fake_labels)
                fake_logits, fake_extra = self._d_forward(fake, fake_labels, self._d)
                inputs = LossInputs(
                    "generator",
                    None,
                    fake_logits,
                    real,
                    fake,
                    real_labels,
                    fake_labels,
                    self.discriminate,
                    NO_EXTRA,
                    fake_extra,
                    noise,
                    self.generate,
                )
                g_loss = _scalar(self.loss.generator_loss(inputs), self.loss, "generator_loss")
                if regs:
                    g_loss = self._regularized(g_loss, regs, inputs)
            self._update(g_loss, self.g_optimizer)
        finally:
            if freeze:
                self.discriminator.requires_grad_(True)
        return g_loss

    # -- one step: plan (host), run (device), advance (host) ----------------------
    def next_plan(self) -> Plan:
        return self.schedule.next_plan()

    def advance(self, plan: Plan) -> None:
        self.schedule.advance(plan)

    def run(self, plan: Plan, real: torch.Tensor, real_labels: torch.Tensor | None) -> torch.Tensor:
        """Run the phases of ``plan`` on one real batch; returns the metrics row (no host sync)."""
        d_result = g_loss = None
        for phase, regs in plan:
            if phase.network == "discriminator":
                d_result = self.discriminator_phase(real, real_labels, regs)
            else:
                g_loss = self.generator_phase(real, real_labels, regs)
        return self._metrics(d_result, g_loss, real.device)

    def _metrics(self, d_result, g_loss, device: torch.device) -> torch.Tensor:
        if d_result is not None and g_loss is not None and self._last is None:  # every phase ran (two-phase)
            d_loss, real_logits, fake_logits = d_result
            return torch.stack(
                [
                    d_loss.detach().float(),
                    g_loss.detach().float(),
                    torch.sigmoid(real_logits.detach()).mean(),
                    torch.sigmoid(fake_logits.detach()).mean(),
                ]
            )
        if self._last is None:
            self._last = torch.zeros(len(METRIC_NAMES), device=device)
        last = self._last
        if d_result is not None:
            d_loss, real_logits, fake_logits = d_result
            d_part = [
                d_loss.detach().float(),
                torch.sigmoid(real_logits.detach()).mean(),
                torch.sigmoid(fake_logits.detach()).mean(),
            ]
        else:
            d_part = [last[0], last[2], last[3]]
        g_part = g_loss.detach().float() if g_loss is not None else last[1]
        row = torch.stack([d_part[0], g_part, d_part[1], d_part[2]])
        last.copy_(row)
        return row

    def __call__(self, real: torch.Tensor, real_labels: torch.Tensor | None) -> torch.Tensor:
        plan = self.next_plan()
        metrics = self.run(plan, real, real_labels)
        self.advance(plan)
        return metrics

    # -- the step's own state, for checkpoints -----------------------------------------
    def state_dict(self) -> dict:
        """The schedule's counters (and the augmentation's state, if it keeps one)."""
        saved = {"counters": self.schedule.counters.state_dict()}
        if self.augment is not None and callable(getattr(self.augment, "state_dict", None)):
            saved["augment"] = self.augment.state_dict()
        return saved

    def load_state_dict(self, saved: dict) -> None:
        self.schedule.counters.load_state_dict(saved["counters"])
        if "augment" in saved and callable(getattr(self.augment, "load_state_dict", None)):
            self.augment.load_state_dict(saved["augment"])
