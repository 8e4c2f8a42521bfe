"""Every ``ganframe run`` option is declared once, on its RunConfig field, and everything else follows:
the command's options, what ``--resume`` lets change, the names in messages and the README's table."""

import dataclasses
from pathlib import Path

import pytest
import typer

from ganframe.cli import app
from ganframe.cli.options_table import in_readme, markdown
from ganframe.cli.run_options import config_from, fields_given, param_name, resume_help
from ganframe.config import RunConfig, declared_options, may_change_on_resume, option_name, validate
from ganframe.errors import UsageError
from tests.helpers import said

README = Path(__file__).resolve().parents[1] / "README.md"
DECLARED = list(declared_options())


def run_command():
    return typer.main.get_command(app).commands["run"]


def click_option(flag):
    return next(p for p in run_command().params if flag in p.opts)


def test_every_field_declares_an_option_with_unique_names():
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    assert [name for name, opt in DECLARED if opt.key is None] == fields
    flags = [flag for _, opt in DECLARED for flag in opt.flags]
    assert len(flags) == len(set(flags)) and all(flag.startswith("-") for flag in flags)
    params = [param_name(name, opt) for name, opt in DECLARED]
    assert len(params) == len(set(params)) and "resume" not in params


@pytest.mark.parametrize("name,option", DECLARED, ids=[opt.name for _, opt in DECLARED])
def test_each_declared_option_is_a_run_option_with_its_help(name, option):
    param = click_option(option.name)
    assert set(param.opts) == set(option.flags) and param.help == option.help and param.help
    field = next(f for f in dataclasses.fields(RunConfig) if f.name == name)
    if field.default is not dataclasses.MISSING and option.key is None:
        assert param.default == field.default
    assert param.multiple == (option.key is None and field.default_factory is not dataclasses.MISSING)
    if option.metavar:
        assert param.metavar == option.metavar


def test_run_help_lists_every_declared_option_and_no_fast_path(cli):
    result = cli("run", "--help", terminal_width=250)
    assert result.exit_code == 0
    for _, option in DECLARED:
        for flag in option.flags:
            assert f" {flag} " in result.output, flag
    assert "--fast-path" not in result.output and "--plain-path" not in result.output
    for args in (["--plain-path"], ["--fast-path"]):
        rejected = cli("run", *args)
        assert rejected.exit_code == 2 and "No such option" in said(rejected)


def sample_value(name):
    """A value unlike the field's default, of the field's type."""
    default = getattr(RunConfig(), name)
    hint = {f.name: f.type for f in dataclasses.fields(RunConfig)}[name]
    if isinstance(default, bool):
        return not default
    if isinstance(default, dict) and "dict[str, dict" in str(hint):  # options of named components
        return {"a": {"k": "v"}, "b": {f"{name}-key": "2"}}
    if isinstance(default, dict):
        return {"k": "v", f"{name}-key": "2"}
    if isinstance(default, list) or "list[str] | None" in str(hint):
        return ["a", "b"]
    if "int" in hint:
        return 7
    if "float" in hint:
        return 0.25
    return f"{name}-value"


def declared(name):
    return dict(declared_options())[name]


def test_options_parse_into_their_fields():
    """Every option given on the command line lands in its field (repeatable ones as lists, KEY=VALUE
    as dicts, --smooth as loss_options['smooth']), and each counts as given for --resume."""
    expected = RunConfig(**{f.name: sample_value(f.name) for f in dataclasses.fields(RunConfig)})
    args = ["--smooth", "0.8"]
    for f in dataclasses.fields(RunConfig):
        value = getattr(expected, f.name)
        flag = option_name(f.name)
        if isinstance(value, bool):
            args += [flag]
        elif isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            args += [part for n, kv in value.items() for k, v in kv.items() for part in (flag, f"{n}.{k}={v}")]
        elif isinstance(value, dict):
            args += [part for k, v in value.items() for part in (flag, f"{k}={v}")]
        elif isinstance(value, list) and declared(f.name).parse is not None:  # one comma-separated value
            args += [flag, ",".join(value)]
        elif isinstance(value, list):
            args += [part for item in value for part in (flag, item)]
        else:
            args += [flag, str(value)]
    ctx = run_command().make_context("run", args)
    config = config_from({k: v for k, v in ctx.params.items() if k != "resume"})
    assert config == dataclasses.replace(expected, loss_options={**expected.loss_options, "smooth": "0.8"})
    given = fields_given(ctx.params, lambda param: ctx.get_parameter_source(param).name == "COMMANDLINE")
    assert given == {f.name for f in dataclasses.fields(RunConfig)}


def test_options_left_out_give_the_declared_defaults():
    ctx = run_command().make_context("run", [])
    assert config_from({k: v for k, v in ctx.params.items() if k != "resume"}) == RunConfig()
    assert fields_given(ctx.params, lambda param: ctx.get_parameter_source(param).name == "COMMANDLINE") == set()


def test_resume_may_change_exactly_the_flagged_options(tmp_path):
    from ganframe.run.resume import MAY_CHANGE, merge

    flagged = {name for name, opt in DECLARED if opt.may_change_on_resume}
    assert set(MAY_CHANGE) == set(may_change_on_resume()) == flagged and "epochs" in flagged and "lr" not in flagged
    for name in flagged:
        assert option_name(name) in resume_help()
    for name in {name for name, _ in DECLARED} - flagged:
        assert f"{option_name(name)}," not in resume_help() and f"{option_name(name)} may" not in resume_help()

    # a KEY=VALUE option conflicts only with a key the run recorded
    recorded = {
        f.name: ({"a": {"k": "recorded"}} if "dict[str, dict" in str(f.type) else {"k": "recorded"})
        for f in dataclasses.fields(RunConfig)
        if isinstance(getattr(RunConfig(), f.name), dict)
    }
    saved = RunConfig(out=str(tmp_path), **recorded)
    given = RunConfig(**{f.name: sample_value(f.name) for f in dataclasses.fields(RunConfig)})
    merged = merge(saved, given, flagged, tmp_path)
    assert all(getattr(merged, name) == getattr(given, name) for name in flagged)
    others = {name for name, _ in DECLARED} - flagged - {"out"}
    with pytest.raises(UsageError) as error:
        merge(saved, given, others, tmp_path)
    for name in others:  # each refused option named as the user typed it
        assert f"{option_name(name)} " in error.value.message


def bad_value(name):
    default = {f.name: f.type for f in dataclasses.fields(RunConfig)}[name]
    return -1 if "int" in default else -1.0 if "float" in default else "nope"


@pytest.mark.parametrize("name,option", [(n, o) for n, o in DECLARED if o.check], ids=lambda x: getattr(x, "name", x))
def test_validate_runs_each_declared_check_naming_the_option(name, option):
    with pytest.raises(UsageError, match=option.name):
        validate(RunConfig(**{name: bad_value(name)}))


def test_readme_options_table_matches_the_declarations():
    table = in_readme(README.read_text(encoding="utf-8"))
    assert table is not None, "README.md lost its options table markers"
    assert table == markdown(), (
        "README's options table is stale: run python -m ganframe.cli.options_table --write README.md"
    )
    assert all(f"`{opt.name}`" in table for _, opt in DECLARED)
