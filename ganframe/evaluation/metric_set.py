"""The metrics one command scores: ``ganframe eval --metrics`` and ``ganframe run --eval-metrics``.

Metrics are plugins (``register_metrics``). A metric factory is cheap: it
checks that it can score the data set (else raises
:class:`ganframe.errors.MetricDeclined` with the reason) and reads its
options; heavy work waits for ``prepare()``. This module

- resolves the names a user typed (did-you-mean for typos, qualified names
  for collisions), or, when none were typed, takes every metric registered
  with ``default=True`` that accepts the data set (a data set's own metric,
  such as a ring's modes covered, joins the defaults that way);
- routes ``--metric-option KEY=VALUE`` to every chosen metric and
  ``NAME.KEY=VALUE`` to metric NAME only, and reports an option no metric
  read as a typo;
- scores samples with each metric and merges their figures.

No torch here: the CLI validates names before importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganframe.config import comma_separated
from ganframe.errors import MetricDeclined, PluginContractError, UsageError, did_you_mean, quoted_list
from ganframe.plugin.registry import Component, Registry
from ganframe.plugin.specs import MetricSpec, Options


@dataclass
class ChosenMetric:
    """One metric ready to score: its registered component and the object its factory built."""

    component: Component
    metric: Any
    options: Options

    @property
    def name(self) -> str:
        return self.component.name

    def prepare(self) -> None:
        prepare = getattr(self.metric, "prepare", None)
        if callable(prepare):
            prepare()

    def score(self, samples, labels=None) -> dict[str, float]:
        figures = self.metric.score(samples, labels)
        return checked_figures(self.component, figures)

    def report(self, samples, labels=None) -> dict[str, Any]:
        report = getattr(self.metric, "report", None)
        return dict(report(samples, labels)) if callable(report) else self.score(samples, labels)


def checked_figures(component: Component, figures: Any) -> dict[str, float]:
    """``figures`` as ``{str: float}``; anything else is the plugin's bug, named as such."""
    if not isinstance(figures, dict):
        raise PluginContractError(
            f"metric '{component.qualified_name}' (plugin '{component.plugin}') returned a "
            f"{type(figures).__name__} from score(); it must return a dict of figure name -> float."
        )
    checked: dict[str, float] = {}
    for key, value in figures.items():
        try:
            checked[str(key)] = float(value)
        except (TypeError, ValueError):
            raise PluginContractError(
                f"metric '{component.qualified_name}' (plugin '{component.plugin}') returned "
                f"{key!r}: {value!r} from score(); every figure must be a number."
            ) from None
    return checked


def parse_metric_names(value: str | None, option: str = "--metrics") -> list[str] | None:
    """``"fid,kid"`` -> ``["fid", "kid"]``; ``None`` (not given) -> ``None`` (the defaults)."""
    return comma_separated(value, option)


def check_metric_names(registry: Registry, names: list[str] | None, option: str = "--metrics") -> list[Component]:
    """The components for ``names`` (an unknown name is a UsageError with a suggestion); ``None``:
    every default metric."""
    if names is None:
        return [c for c in registry.components("metric") if c.default]
    return [registry.get("metric", name, option=f"{option} {name}") for name in names]


def _options_for(component: Component, options: dict[str, Any], chosen: list[Component]) -> dict[str, Any]:
    """Global keys plus ``NAME.KEY`` keys addressed to this metric (by bare or qualified name)."""
    mine: dict[str, Any] = {}
    for key, value in options.items():
        target, dot, bare_key = key.rpartition(".")
        if not dot or not _addressed(target, chosen):
            mine.setdefault(key, value)
        elif target in (component.name, component.qualified_name):
            mine[bare_key] = value
    return mine


def _addressed(target: str, chosen: list[Component]) -> bool:
    return any(target in (c.name, c.qualified_name) for c in chosen)


def build_metrics(
    registry: Registry,
    names: list[str] | None,
    *,
    dataset: str,
    train_set: Any,
    data_root: Path,
    device: Any = "cpu",
    options: dict[str, Any] | None = None,
    load_test_set: Callable[[], Any] | None = None,
    notify: Callable[[str], None] | None = None,
    what: str = "ganframe eval",
    option: str = "--metrics",
    options_flag: str = "--metric-option",
) -> list[ChosenMetric]:
    """Build the chosen metrics (cheap: factories only check and read options); see the module doc."""
    options = dict(options or {})
    components = check_metric_names(registry, names, option)
    for key in options:
        target, dot, _ = key.rpartition(".")
        if dot and not _addressed(target, components) and registry.find("metric", target) is not None:
            raise UsageError(
                f"{options_flag} {key} is for metric '{target}', which is not among the metrics scored "
                f"({quoted_list(c.name for c in components)}); add it to {option}."
            )
    test_cache: list[Any] = []

    def shared_test_set():  # one load for every metric
        if not test_cache and load_test_set is not None:
            test_cache.append(load_test_set())
        return test_cache[0] if test_cache else None

    chosen: list[ChosenMetric] = []
    declined: list[tuple[Component, str]] = []
    for component in components:
        metric_options = Options(_options_for(component, options, components), owner=f"metric '{component.name}'")
        spec = MetricSpec(
            dataset=dataset,
            train_set=train_set,
            data_root=Path(data_root),
            device=device,
            options=metric_options,
            what=what,
            load_test_set=shared_test_set,
            **({"notify": notify} if notify is not None else {}),
        )
        try:
            metric = component.build(spec)
        except MetricDeclined as exc:
            if names is not None:  # asked for by name: the reason is the error
                raise
            declined.append((component, exc.message))
            continue
        if not callable(getattr(metric, "score", None)):
            raise PluginContractError(
                f"metric '{component.qualified_name}' (plugin '{component.plugin}'): its factory returned a "
                f"{type(metric).__name__}, which has no score(samples, labels) method."
            )
        chosen.append(ChosenMetric(component, metric, metric_options))
    if not chosen:
        reasons = " ".join(f"({c.name}) {reason}" for c, reason in declined) or "no default metric is installed."
        raise UsageError(
            f"No default metric can score dataset '{dataset}': {reasons} Name a metric that can with "
            f"{option} NAME (see `ganframe plugins`)."
        )
    _check_options_read(options, chosen, options_flag)
    return chosen


def _check_options_read(options: dict[str, Any], chosen: list[ChosenMetric], options_flag: str) -> None:
    """An option no chosen metric read is a typo: name it and what the metrics do read."""
    components = [c.component for c in chosen]
    for key in sorted(options):
        target, dot, bare_key = key.rpartition(".")
        addressed = [c for c in chosen if dot and target in (c.component.name, c.component.qualified_name)]
        readers = addressed if addressed else chosen
        wanted = bare_key if addressed else key
        if all(wanted in c.options.unread() for c in readers):
            known = sorted({k for c in readers for k in c.options.effective() if k not in c.options.unread()})
            if addressed or len(components) == 1:
                whose = f"metric '{(addressed or chosen)[0].name}' reads no option"
            else:
                whose = "none of the metrics scored (" + quoted_list(c.name for c in components) + ") reads an option"
            raise UsageError(
                f"{options_flag} {key}={options[key]}: {whose} '{wanted}'.{did_you_mean(wanted, known)} "
                f"Options read: {quoted_list(known)}."
            )


def merge_metrics(chosen: list[ChosenMetric], samples, labels=None, *, method: str = "score"):
    """Every metric's ``method`` (``score`` or ``report``) merged into one dict (a figure name two
    metrics share is kept as ``NAME/figure``), and the keys each metric contributed."""
    merged: dict[str, Any] = {}
    keys: dict[str, list[str]] = {}
    for item in chosen:
        keys[item.name] = []
        for key, value in getattr(item, method)(samples, labels).items():
            key = f"{item.name}/{key}" if key in merged else key
            merged[key] = value
            keys[item.name].append(key)
    return merged, keys


def score_metrics(chosen: list[ChosenMetric], samples, labels=None) -> dict[str, float]:
    """Every metric's figures, merged (a figure name two metrics share is kept as ``NAME/figure``)."""
    return merge_metrics(chosen, samples, labels)[0]
