"""Calling a network with or without labels, decided once.

A registered network is conditional (``conditional=True`` in its
registration: ``forward(x, labels)``) or not (``forward(x)``). The engine,
sampling, assembly checks and the test kit all call networks, and before 0.2
each of them repeated ``net(x, y) if conditional else net(x)``.
:class:`Conditioned` owns that decision: build it once where the network is
built, then call it with labels whether or not the network takes them.

It is deliberately not an ``nn.Module``: wrapping would add a prefix to every
``state_dict`` key and change the checkpoint format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Conditioned:
    """A network and whether it takes labels; ``adapter(x, labels)`` calls it the right way.

    >>> g = Conditioned(generator, conditional=True)
    >>> fake = g(noise, labels)        # generator(noise, labels)
    >>> g.conditional, g.module is generator
    (True, True)
    """

    module: Any
    conditional: bool = False

    def __call__(self, x: Any, labels: Any = None) -> Any:
        if not self.conditional:
            return self.module(x)
        if labels is None:
            raise TypeError("this network is conditional: it needs the labels of its samples")
        return self.module(x, labels)

    def using(self, module: Any) -> Conditioned:
        """The same conditioning for another module holding these weights (a DDP wrapper, a compiled
        copy, the average of G's weights)."""
        return Conditioned(module, self.conditional)
