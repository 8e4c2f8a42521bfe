"""What one training step runs: its phases, how often each runs, and which regularisers apply.

A step plugin (``register_steps``) declares a list of :class:`Phase`, as
stylegan2-ada's training loop runs ``Gmain``/``Dmain``/``Greg``/``Dreg``
phases each with an interval. One training step consumes one batch of real
data and runs, in order, every phase whose interval falls on it:

- ``two-phase``: ``D`` then ``G`` at every step (the classic loop);
- ``n-critic``: ``D`` at every step, ``G`` every ``n``-th step, so D is
  updated ``n`` times (on ``n`` different real batches, as in WGAN-GP's
  algorithm) per G update.

Regularisers (``register_regularizers``) add a term to the loss of the phases
that update their network; a lazy one (``interval > 1``) applies on every
``interval``-th update of that network only, multiplied by ``interval``
(StyleGAN2's lazy regularisation).

Which phases and regularisers run at a step is a function of counters alone
(:class:`Counters`), read on the host with no device sync; the counters are
saved in checkpoints and restored on resume, so a resumed run continues the
schedule exactly. A :class:`Plan` (the phases and regularisers of one step)
is hashable: ``--cuda-graph`` captures one graph per distinct plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ganframe.errors import PluginContractError

NETWORKS = ("discriminator", "generator")


@dataclass(frozen=True)
class Phase:
    """One update of one network within a training step.

    - ``name``: shown in counters and messages (``"D"``, ``"G"``, ``"Dreg"``).
    - ``network``: ``"discriminator"`` or ``"generator"``, the network this
      phase's optimizer updates.
    - ``interval``: the phase runs at every ``interval``-th step.
    - ``offset``: at the steps ``i`` (counted from 0) with
      ``i % interval == offset``; default ``interval - 1``, i.e. after
      ``interval`` steps (n-critic's G runs after n D updates).
    """

    name: str
    network: str
    interval: int = 1
    offset: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a Phase needs a non-empty name; got {self.name!r}")
        if self.network not in NETWORKS:
            raise ValueError(
                f"Phase '{self.name}': network must be 'discriminator' or 'generator'; got {self.network!r}"
            )
        if not isinstance(self.interval, int) or isinstance(self.interval, bool) or self.interval < 1:
            raise ValueError(f"Phase '{self.name}': interval must be a whole number >= 1; got {self.interval!r}")
        if self.offset is None:
            object.__setattr__(self, "offset", self.interval - 1)
        elif not isinstance(self.offset, int) or not 0 <= self.offset < self.interval:
            raise ValueError(f"Phase '{self.name}': offset must be in [0, interval); got {self.offset!r}")

    def runs_at(self, step: int) -> bool:
        return step % self.interval == self.offset


#: the classic step: one D update, then one G update
TWO_PHASE = (Phase("D", "discriminator"), Phase("G", "generator"))


@dataclass(frozen=True, eq=False)
class Regularization:
    """A regulariser plugin object as the step uses it (hashed by identity, so plans stay hashable)."""

    name: str
    regularizer: Any
    network: str
    interval: int
    real_input_grad: bool = False
    fake_input_grad: bool = False

    @classmethod
    def of(cls, name: str, regularizer: Any) -> Regularization:
        """Read and check a regulariser's declared attributes (a bad one is the plugin's bug)."""
        network = getattr(regularizer, "network", None)
        interval = getattr(regularizer, "interval", 1)
        problem = None
        if network not in NETWORKS:
            problem = f"its network is {network!r}; it must be 'discriminator' or 'generator'"
        elif not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            problem = f"its interval is {interval!r}; it must be a whole number >= 1"
        elif not callable(getattr(regularizer, "penalty", None)):
            problem = "it has no penalty(inputs) method"
        if problem:
            raise PluginContractError(f"Regulariser '{name}' cannot be used: {problem}.")
        return cls(
            name,
            regularizer,
            network,
            interval,
            bool(getattr(regularizer, "real_input_grad", False)),
            bool(getattr(regularizer, "fake_input_grad", False)),
        )

    def penalty(self, inputs) -> Any:
        return self.regularizer.penalty(inputs)


#: what one step runs: ``((phase, regularizations applied in it), ...)`` in order
Plan = tuple[tuple[Phase, tuple[Regularization, ...]], ...]


@dataclass
class Counters:
    """How far the schedule has run: steps, updates per phase, updates per network, applications
    per regulariser. Plain host integers; saved in checkpoints."""

    steps: int = 0
    phases: dict[str, int] = field(default_factory=dict)
    networks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NETWORKS, 0))
    regularizers: dict[str, int] = field(default_factory=dict)

    def state_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "phases": dict(self.phases),
            "networks": dict(self.networks),
            "regularizers": dict(self.regularizers),
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        self.steps = int(saved["steps"])
        self.phases = {k: int(v) for k, v in saved["phases"].items()}
        self.networks = {**dict.fromkeys(NETWORKS, 0), **{k: int(v) for k, v in saved["networks"].items()}}
        self.regularizers = {k: int(v) for k, v in saved.get("regularizers", {}).items()}


class Schedule:
    """Phases and regularisers, and the plan of each step from the counters."""

    def __init__(self, phases: Sequence[Phase] = TWO_PHASE, regularizations: Sequence[Regularization] = ()):
        self.phases = tuple(check_phases(phases))
        self.regularizations = tuple(regularizations)
        self.counters = Counters(
            phases={p.name: 0 for p in self.phases}, regularizers={r.name: 0 for r in self.regularizations}
        )
        #: True when every step runs the same plan (no interval > 1): computed once
        constant = all(p.interval == 1 for p in self.phases) and all(r.interval == 1 for r in self.regularizations)
        self._constant_plan = self._plan_at(0, dict.fromkeys(NETWORKS, 0)) if constant else None

    def next_plan(self) -> Plan:
        """The plan of the next step (host integers only)."""
        if self._constant_plan is not None:
            return self._constant_plan
        return self._plan_at(self.counters.steps, dict(self.counters.networks))

    def _plan_at(self, step: int, runs: dict[str, int]) -> Plan:
        plan = []
        for phase in self.phases:
            if not phase.runs_at(step):
                continue
            done = runs[phase.network]
            regs = tuple(
                r for r in self.regularizations if r.network == phase.network and done % r.interval == r.interval - 1
            )
            runs[phase.network] = done + 1
            plan.append((phase, regs))
        return tuple(plan)

    def advance(self, plan: Plan) -> None:
        """Count the step just run with ``plan``."""
        counters = self.counters
        counters.steps += 1
        for phase, regs in plan:
            counters.phases[phase.name] += 1
            counters.networks[phase.network] += 1
            for reg in regs:
                counters.regularizers[reg.name] += 1

    def fast_forward(self, steps: int) -> None:
        """Counters as if ``steps`` steps had run from zero (a checkpoint written before steps kept counters)."""
        self.counters = Counters(
            phases={p.name: 0 for p in self.phases}, regularizers={r.name: 0 for r in self.regularizations}
        )
        for _ in range(steps):
            self.advance(self.next_plan())


def check_phases(phases: Any, owner: str = "The step") -> list[Phase]:
    """A step factory's result as a list of phases; anything else is the plugin's bug, named."""
    if isinstance(phases, Phase) or not isinstance(phases, Sequence) or not phases:
        raise PluginContractError(f"{owner} must return a non-empty list of ganframe.Phase; got {phases!r}.")
    phases = list(phases)
    bad = [p for p in phases if not isinstance(p, Phase)]
    if bad:
        raise PluginContractError(f"{owner} returned {bad[0]!r} among its phases; each must be a ganframe.Phase.")
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise PluginContractError(f"{owner} returned phases with repeated names {names}; names must be unique.")
    missing = [n for n in NETWORKS if n not in {p.network for p in phases}]
    if missing:
        raise PluginContractError(
            f"{owner} never updates the {missing[0]}: give it a Phase with network='{missing[0]}'."
        )
    return phases
