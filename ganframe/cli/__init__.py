"""The ``ganframe`` command line (Typer + rich).

Commands are thin: they turn options into a :class:`ganframe.config.RunConfig`
or a call into the library, import torch only when they need it (so
``ganframe --help`` and ``ganframe plugins`` stay fast), and turn every
:class:`ganframe.errors.GanframeError` into one message and an exit code,
never a traceback.
"""

from __future__ import annotations

import typer

from ganframe.cli import eval_command, plugins_command, run_command, sample_command

app = typer.Typer(
    name="ganframe",
    help="Train GANs from plugins picked by name: ganframe run --model cgan --loss bce-smooth",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("run")(run_command.run)
app.command("plugins")(plugins_command.plugins)
app.command("sample")(sample_command.sample)
app.command("eval")(eval_command.eval_)


def main() -> None:
    app(prog_name="ganframe")
