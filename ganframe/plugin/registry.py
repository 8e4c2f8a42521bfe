"""Named components and how a name typed by a user finds one.

The registry records, for every component, who registered it (plugin and
distribution) so that ``ganframe plugins`` can show it and so that two
distributions registering the same name can both stay reachable:

- every component is reachable by its qualified name ``distribution:name``;
- the bare ``name`` resolves only when exactly one distribution registered it;
- an ambiguous bare name is a :class:`UsageError` that lists the qualified
  names, so a built-in can never be silently replaced by a plugin.

Distribution names are compared the way pip compares them (case, ``-``,
``_`` and ``.`` do not matter), so ``ganframe_dcgan:dcgan`` finds what
``ganframe-dcgan`` registered. :func:`check_registration` is what a plugin's
``register(...)`` call goes through: a malformed registration fails that
plugin (with a message naming the mistake) instead of surfacing later.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ganframe.config import GLOBAL_DEFAULTS, OPTIMIZERS, PRECISIONS
from ganframe.errors import GanframeError, PluginError, UsageError, describe_exception, did_you_mean, quoted_list

KINDS = ("generator", "discriminator", "loss", "dataset", "logger", "metric", "step", "regularizer", "augmentation")

#: metadata each kind accepts besides ``help`` (anything else is a plugin bug)
METADATA_BY_KIND = {
    "generator": {"conditional", "defaults"},
    "discriminator": {"conditional"},
    "loss": {"defaults"},
    "dataset": {"defaults"},
    "logger": set(),
    "metric": {"default"},
    "step": set(),
    "regularizer": set(),
    "augmentation": set(),
}

#: run settings a generator, loss or data set may recommend through ``defaults=``
DEFAULTABLE_SETTINGS = set(GLOBAL_DEFAULTS)


def canonical_distribution(name: str) -> str:
    """A distribution name as pip compares it (PEP 503): ``Ganframe_DCGAN`` -> ``ganframe-dcgan``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


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
    def default(self) -> bool:
        """A metric scored when the user names none (``register(..., default=True)``)."""
        return bool(self.metadata.get("default", False))

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.metadata.get("defaults") or {})

    def load(self) -> Callable[..., Any]:
        """The factory callable, importing it first when registered as ``"module:attr"``.

        A factory that cannot be imported is a :class:`PluginError` naming the
        component and its plugin, not a traceback: it is the plugin's bug.
        """
        if callable(self.factory):
            return self.factory
        module_name, _, attr = self.factory.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                target = getattr(target, part)
        except Exception as exc:
            origin = f"plugin '{self.plugin}'" + (f", distribution '{self.distribution}'" if self.distribution else "")
            raise PluginError(
                f"The {self.kind} '{self.qualified_name}' ({origin}) cannot be used: its factory "
                f"'{self.factory}' failed to import: {describe_exception(exc)}. Reinstall or fix the plugin, "
                f"or pick another {self.kind} (see `ganframe plugins`)."
            ) from None
        if not callable(target):
            raise PluginError(
                f"The {self.kind} '{self.qualified_name}' (plugin '{self.plugin}') cannot be used: "
                f"'{self.factory}' is a {type(target).__name__}, not a callable factory."
            )
        return target

    def build(self, *args: Any) -> Any:
        """Call the factory; an exception other than a :class:`GanframeError` (the factory refusing
        bad options) is the plugin's bug, reported as a :class:`PluginError` naming the plugin,
        its distribution and its own line (:mod:`ganframe.plugin.failures`)."""
        factory = self.load()
        try:
            return factory(*args)
        except GanframeError:
            raise
        except Exception as exc:
            from ganframe.plugin.failures import factory_failure

            raise PluginError(factory_failure(self, exc, factory)) from exc


def help_from_factory(factory: Callable[..., Any] | str) -> str:
    """First docstring line of a callable factory (import strings have none)."""
    doc = getattr(factory, "__doc__", None) if callable(factory) else None
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def check_registration(
    kind: str,
    name: Any,
    factory: Any,
    help: Any,
    metadata: dict[str, Any],
    *,
    plugin: str,
    distribution: str | None,
    version: str | None,
) -> Component:
    """The :class:`Component` for one ``register(name, factory, help=..., **metadata)`` call.

    Raises ``TypeError`` / ``ValueError`` naming the mistake (the loader turns
    it into a failed plugin): a name users could not type, a factory that is
    neither a callable nor a ``"module:attr"`` string, metadata this kind does
    not take, or ``defaults`` for settings that do not exist.
    """
    if not isinstance(name, str) or not name or ":" in name or any(ch.isspace() or ch == "," for ch in name):
        raise ValueError(f"{kind} name {name!r} must be a non-empty string without ':', ',' or spaces")
    if not (callable(factory) or (isinstance(factory, str) and re.fullmatch(r"[\w.]+:[\w.]+", factory))):
        raise TypeError(
            f"{kind} '{name}': factory must be a callable or a 'package.module:attribute' string; got {factory!r}"
        )
    if help is not None and not isinstance(help, str):
        raise TypeError(f"{kind} '{name}': help must be a string; got {type(help).__name__}")
    allowed = METADATA_BY_KIND[kind]
    for key in metadata:
        if key not in allowed:
            valid = ", ".join(sorted(allowed)) or "none"
            raise TypeError(
                f"{kind} '{name}': unknown keyword '{key}'.{did_you_mean(key, allowed)} Valid for a {kind}: {valid}"
            )
    if not isinstance(metadata.get("conditional", False), bool):
        raise TypeError(f"{kind} '{name}': conditional must be True or False; got {metadata['conditional']!r}")
    if not isinstance(metadata.get("default", False), bool):
        raise TypeError(f"{kind} '{name}': default must be True or False; got {metadata['default']!r}")
    _check_defaults(kind, name, metadata.get("defaults"))
    return Component(
        kind=kind,
        name=name,
        factory=factory,
        help=help or help_from_factory(factory),
        plugin=plugin,
        distribution=distribution,
        version=version,
        metadata=dict(metadata),
    )


def _check_defaults(kind: str, name: str, defaults: Any) -> None:
    if defaults is None:
        return
    if not isinstance(defaults, dict):
        raise TypeError(f"{kind} '{name}': defaults must be a dict of run settings; got {type(defaults).__name__}")
    valid_keys = DEFAULTABLE_SETTINGS - {"loss"} if kind == "loss" else DEFAULTABLE_SETTINGS
    for key, value in defaults.items():
        if key not in valid_keys:
            raise ValueError(
                f"{kind} '{name}': defaults has unknown setting '{key}'.{did_you_mean(key, valid_keys)} "
                f"Valid settings: {quoted_list(sorted(valid_keys))}"
            )
        expected = type(GLOBAL_DEFAULTS[key])
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        choices = {"optimizer": OPTIMIZERS, "precision": PRECISIONS}.get(key)
        if not ok or isinstance(value, bool) or (choices and value not in choices):
            valid = quoted_list(choices) if choices else f"a {expected.__name__}"
            raise ValueError(f"{kind} '{name}': defaults['{key}'] must be {valid}; got {value!r}")


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

    def find(
        self,
        kind: str,
        name: str,
        *,
        option: str | None = None,
        prefer: tuple[str | None, ...] = (),
        source: str | None = None,
    ) -> Component | None:
        """The component for ``name`` or ``None``; raises only on ambiguity (naming ``option``).

        A name the user did not type (a default) passes ``prefer``: the distributions whose
        component wins when the bare name is ambiguous (the model's own, then ganframe's), so a
        plugin registering a common name cannot break a built-in that never mentions it;
        ``source`` says where the name came from in messages."""
        table = self._components[kind]
        if name in table:  # qualified, spelled as registered
            return table[name]
        if ":" in name:
            owner, _, bare = name.partition(":")
            owner = canonical_distribution(owner)
            for c in table.values():
                if c.name == bare and canonical_distribution(c.distribution or c.plugin) == owner:
                    return c
            return None
        matches = [c for c in table.values() if c.name == name]
        if len(matches) > 1:
            for owner in filter(None, prefer):
                own = [
                    c
                    for c in matches
                    if canonical_distribution(c.distribution or c.plugin) == canonical_distribution(owner)
                ]
                if len(own) == 1:
                    return own[0]
            qualified = sorted(c.qualified_name for c in matches)
            where = f" ({source})" if source else f" (from {option} {name})" if option else ""
            how = f" with {option}" if option else ""
            raise UsageError(
                f"The {kind} name '{name}'{where} is ambiguous: it is registered by "
                f"{len(matches)} distributions. Choose one of {quoted_list(qualified)}{how} "
                f"(see `ganframe plugins`)."
            )
        return matches[0] if matches else None

    def get(
        self,
        kind: str,
        name: str,
        *,
        option: str | None = None,
        prefer: tuple[str | None, ...] = (),
        source: str | None = None,
    ) -> Component:
        """The component for ``name``; an unknown name is a :class:`UsageError` with a suggestion."""
        found = self.find(kind, name, option=option, prefer=prefer, source=source)
        if found is None:
            raise self.unknown(kind, name, self.names(kind), option=option, source=source)
        return found

    def model_names(self) -> list[str]:
        """Names registered as both a generator and a discriminator (selectable with ``--model``)."""
        return sorted(set(self.names("generator")) & set(self.names("discriminator")))

    @staticmethod
    def unknown(
        kind: str, name: str, valid: list[str], *, option: str | None = None, source: str | None = None
    ) -> UsageError:
        where = f" ({source})" if source else f" (from {option})" if option else ""
        return UsageError(
            f"Unknown {kind} '{name}'{where}.{did_you_mean(name, valid)} "
            f"Valid {kind} names: {quoted_list(valid)}. "
            f"Run `ganframe plugins` to list every installed component."
        )
