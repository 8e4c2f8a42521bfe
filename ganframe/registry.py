"""Named components and how a name typed by a user finds one.

The registry records, for every component, who registered it (plugin and
distribution) so that ``ganframe plugins`` can show it and so that two
distributions registering the same name can both stay reachable:

- every component is reachable by its qualified name ``distribution:name``;
- the bare ``name`` resolves only when exactly one distribution registered it;
- an ambiguous bare name is a :class:`UsageError` that lists the qualified
  names, so a built-in can never be silently replaced by a plugin.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ganframe.errors import UsageError, did_you_mean, quoted_list

KINDS = ("generator", "discriminator", "loss", "dataset", "logger")

#: metadata each kind accepts besides ``help`` (anything else is a plugin bug)
METADATA_BY_KIND = {
    "generator": {"conditional", "defaults"},
    "discriminator": {"conditional"},
    "loss": set(),
    "dataset": set(),
    "logger": set(),
}

#: run settings a generator may recommend through ``defaults=``
DEFAULTABLE_SETTINGS = {"latent_dim", "batch_size", "lr", "beta1", "beta2", "optimizer"}


@dataclass(frozen=True)
class Component:
    """One registered factory and where it came from."""

    kind: str
    name: str
    factory: Callable[..., Any] | str
    help: str
    plugin: str
    distribution: str | None = None
    version: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        """``distribution:name``; plugins registered without a distribution use the plugin name."""
        return f"{self.distribution or self.plugin}:{self.name}"

    @property
    def conditional(self) -> bool:
        return bool(self.metadata.get("conditional", False))

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.metadata.get("defaults") or {})

    def load(self) -> Callable[..., Any]:
        """The factory callable, importing it first when registered as ``"module:attr"``."""
        if callable(self.factory):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
        return target


def help_from_factory(factory: Callable[..., Any] | str) -> str:
    """First docstring line of a callable factory (import strings have none)."""
    doc = getattr(factory, "__doc__", None) if callable(factory) else None
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


class Registry:
    """All components by kind, with collision-aware lookup."""

    def __init__(self) -> None:
        self._components: dict[str, dict[str, Component]] = {kind: {} for kind in KINDS}

    # -- filling -----------------------------------------------------------
    def add(self, component: Component) -> None:
        """Add a component; a second registration of the same qualified name is refused."""
        if component.kind not in KINDS:
            raise ValueError(f"unknown component kind {component.kind!r}; valid: {', '.join(KINDS)}")
        table = self._components[component.kind]
        if component.qualified_name in table:
            existing = table[component.qualified_name]
            raise ValueError(
                f"{component.kind} '{component.name}' is registered twice by "
                f"'{component.distribution or component.plugin}' (plugins "
                f"'{existing.plugin}' and '{component.plugin}'); the first one is kept"
            )
        table[component.qualified_name] = component

    # -- reading -----------------------------------------------------------
    def __iter__(self) -> Iterator[Component]:
        for kind in KINDS:
            yield from sorted(self._components[kind].values(), key=lambda c: (c.name, c.qualified_name))

    def components(self, kind: str) -> list[Component]:
        return [c for c in self if c.kind == kind]

    def names(self, kind: str) -> list[str]:
        """Every name a user may type for ``kind``: unique bare names and all qualified names."""
        bare: dict[str, int] = {}
        for c in self._components[kind].values():
            bare[c.name] = bare.get(c.name, 0) + 1
        unique = sorted(name for name, count in bare.items() if count == 1)
        qualified = sorted(c.qualified_name for c in self._components[kind].values() if bare[c.name] > 1)
        return unique + qualified

    def collisions(self, kind: str) -> dict[str, list[str]]:
        """Bare names registered by more than one distribution, with their qualified names."""
        seen: dict[str, list[str]] = {}
        for c in self._components[kind].values():
            seen.setdefault(c.name, []).append(c.qualified_name)
        return {name: sorted(q) for name, q in seen.items() if len(q) > 1}

    def find(self, kind: str, name: str) -> Component | None:
        """The component for ``name`` or ``None``; raises only on ambiguity."""
        table = self._components[kind]
        if name in table:  # qualified
            return table[name]
        matches = [c for c in table.values() if c.name == name]
        if len(matches) > 1:
            qualified = sorted(c.qualified_name for c in matches)
            raise UsageError(
                f"The {kind} name '{name}' is ambiguous: it is registered by "
                f"{len(matches)} distributions. Choose one of {quoted_list(qualified)} "
                f"(see `ganframe plugins`)."
            )
        return matches[0] if matches else None

    def get(self, kind: str, name: str, *, option: str | None = None) -> Component:
        """The component for ``name``; an unknown name is a :class:`UsageError` with a suggestion."""
        found = self.find(kind, name)
        if found is None:
            raise self.unknown(kind, name, self.names(kind), option=option)
        return found

    def model_names(self) -> list[str]:
        """Names registered as both a generator and a discriminator (selectable with ``--model``)."""
        return sorted(set(self.names("generator")) & set(self.names("discriminator")))

    @staticmethod
    def unknown(kind: str, name: str, valid: list[str], *, option: str | None = None) -> UsageError:
        where = f" (from {option})" if option else ""
        return UsageError(
            f"Unknown {kind} '{name}'{where}.{did_you_mean(name, valid)} "
            f"Valid {kind} names: {quoted_list(valid)}. "
            f"Run `ganframe plugins` to list every installed component."
        )
