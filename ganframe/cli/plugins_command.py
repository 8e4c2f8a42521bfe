"""``ganframe plugins``: every installed component and plugin, as a table or JSON.

Third-party plugins are listed with their status: ``loaded``, ``failed``
(with the error; the command still succeeds, see :mod:`ganframe.plugin.manager`) or
``disabled`` (left out by ``GANFRAME_LOAD_PLUGINS``). The JSON form also
carries the loader's warnings under ``problems`` for plugin authors' CI.
"""

from __future__ import annotations

import json

import typer

from ganframe.cli.errors import user_errors


def plugins_document(plugin_set) -> dict:
    """The JSON form: components, plugins (with status and errors) and model names."""
    return {
        "components": [
            {
                "kind": c.kind,
                "name": c.name,
                "qualified_name": c.qualified_name,
                "help": c.help,
                "plugin": c.plugin,
                "distribution": c.distribution,
                "version": c.version,
                "conditional": c.conditional if c.kind in ("generator", "discriminator") else None,
                "default": c.default if c.kind == "metric" else None,
            }
            for c in plugin_set.registry
        ],
        "plugins": [
            {
                "name": p.name,
                "distribution": p.distribution,
                "version": p.version,
                "builtin": p.builtin,
                "status": p.status,
                "error": p.error,
                "warnings": p.warnings,
                "hooks": p.hooks,
            }
            for p in plugin_set.plugins
        ],
        "models": plugin_set.registry.model_names(),
        "problems": list(plugin_set.problems),
    }


@user_errors
def plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """List installed generators, discriminators, losses, data sets, loggers and metrics, and the plugins behind them."""
    from ganframe.plugin.manager import get_plugins

    plugin_set = get_plugins()
    document = plugins_document(plugin_set)
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=None if Console().is_terminal else 160)
    table = Table(title="ganframe components", title_justify="left")
    for column in ("kind", "name", "help", "plugin", "distribution", "version"):
        table.add_column(column, overflow="fold")
    for row in document["components"]:
        name = row["name"] + (" (conditional)" if row["conditional"] else "") + (" (default)" if row["default"] else "")
        cells = (row["kind"], name, row["help"], row["plugin"], row["distribution"] or "", row["version"] or "")
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table)
    console.print(f"Models (use with --model): {', '.join(document['models'])}", highlight=False)
    defaults = [row["name"] for row in document["components"] if row["default"]]
    console.print(f"Default metrics (ganframe eval without --metrics): {', '.join(defaults)}", highlight=False)
    third_party = [p for p in document["plugins"] if not p["builtin"]]
    if third_party:
        plugin_table = Table(title="third-party plugins", title_justify="left")
        for column in ("plugin", "distribution", "version", "status", "error or warnings"):
            plugin_table.add_column(column, overflow="fold")
        for p in third_party:
            status = {"failed": "[red]failed[/red]", "disabled": "[dim]disabled[/dim]"}.get(p["status"], p["status"])
            if p["warnings"]:
                status += f" [yellow]({len(p['warnings'])} warning{'s' if len(p['warnings']) > 1 else ''})[/yellow]"
            cells = [escape(p["name"]), escape(p["distribution"] or ""), escape(p["version"] or "")]
            plugin_table.add_row(*cells, status, escape(p["error"] or " ".join(p["warnings"])))
        console.print(plugin_table)
