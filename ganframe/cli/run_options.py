"""``ganframe run``'s options, built from the declarations on :class:`ganframe.config.RunConfig`'s fields.

Typer reads a command's options from its function signature; :func:`command` gives the command a
signature made from :func:`ganframe.config.declared_options` (one keyword parameter per option, its
default a ``typer.Option`` carrying the declared flags, help and metavar; the type from the field),
and :func:`config_from` turns the parsed values back into a :class:`RunConfig`. So an option is
declared once, on its field, and the command, ``--resume``'s rules and help, the names in messages
and the README's table (:mod:`ganframe.cli.options_table`) all follow.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Optional

import typer

from ganframe.config import Option, RunConfig, declared_options, may_change_on_resume, option_name, parse_key_values


def param_name(field_name: str, option: Option) -> str:
    """The command's parameter for an option: the field's name, or the flag's for a shortcut (``smooth``)."""
    return field_name if option.key is None else option.name.lstrip("-").replace("-", "_")


@functools.cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(RunConfig)


def _kind(field_name: str) -> str:
    """``"key-values"`` (a dict field: repeatable KEY=VALUE), ``"list"`` (repeatable) or ``"value"``."""
    origin = typing.get_origin(_field_types()[field_name])
    return {dict: "key-values", list: "list"}.get(origin, "value")


def _cli_type(field_name: str, option: Option) -> Any:
    """The type Typer parses: ``Optional[...]`` where the default is ``None``, a list of strings for
    repeatable options."""
    if option.type is not None:
        return Optional[option.type]
    if _kind(field_name) != "value":
        return Optional[list[str]]
    hint = _field_types()[field_name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return Optional[inner]
    return hint


def _default(field_name: str, option: Option) -> Any:
    field = next(f for f in dataclasses.fields(RunConfig) if f.name == field_name)
    return None if option.key is not None or field.default is dataclasses.MISSING else field.default


def option_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per declared option, as Typer reads them."""
    return [
        inspect.Parameter(
            param_name(name, opt),
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_cli_type(name, opt),
            default=typer.Option(_default(name, opt), *opt.flags, help=opt.help, metavar=opt.metavar),
        )
        for name, opt in declared_options()
    ]


def resume_help() -> str:
    """``--resume``'s help, listing the options that may change (from the declarations)."""
    names = [option_name(name) for name in may_change_on_resume()]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        "Continue the run in RUN_DIR from its newest readable checkpoint (weights, optimizers, counters, RNG, "
        f"data position). --epochs/--max-steps stay totals; only {listed} may differ from the run."
    )


def command(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function(ctx, resume, **options)`` with the signature Typer reads: ``ctx``, every declared
    option, then ``--resume``."""
    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *option_parameters(),
        inspect.Parameter(
            "resume",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Optional[str],
            default=typer.Option(None, "--resume", metavar="RUN_DIR", help=resume_help()),
        ),
    ]
    function.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    return function


def config_from(values: dict[str, Any]) -> RunConfig:
    """The RunConfig the parsed option values describe (KEY=VALUE lists parsed, shortcuts applied)."""
    settings: dict[str, Any] = {}
    for name, opt in declared_options():
        value = values[param_name(name, opt)]
        if opt.key is not None:  # a shortcut, after its field's own option
            if value is not None:
                settings[name][opt.key] = str(value)
        elif _kind(name) == "key-values":
            settings[name] = parse_key_values(value, opt.name)
            if opt.parse is not None:
                settings[name] = opt.parse(settings[name], opt.name)
        elif _kind(name) == "list":
            settings[name] = list(value or [])
        else:
            settings[name] = opt.parse(value, opt.name) if opt.parse is not None else value
    return RunConfig(**settings)


def fields_given(params: dict[str, Any], given: Callable[[str], bool]) -> set[str]:
    """RunConfig fields whose options (or shortcuts) ``given(param)`` says the user set."""
    fields = {param_name(name, opt): name for name, opt in declared_options()}
    return {fields[param] for param in params if param in fields and given(param)}
