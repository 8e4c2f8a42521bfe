"""``ganframe eval``: quality figures for a checkpoint.

Draws N samples and scores them with metric plugins (``--metrics``; see
:mod:`ganframe.evaluation.metric_set`). The default is every default metric
that accepts the data set: today the ``classifier`` metric, which reads the
samples with a classifier trained on the checkpoint's data set (trained once
and cached; see :mod:`ganframe.evaluation`) and prints classes covered, class
KL from uniform, confidence, the Frechet distance to the test split and, for
conditional models, label accuracy overall and per class. ``--metrics
fid,kid,is,prc`` (the ``ganframe[fidelity]`` extra) adds the Inception
figures papers report. A rich table, or ``--json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from ganframe.cli.errors import user_errors
from ganframe.cli.sampling_options import MODE, WEIGHTS_OPTION, check_sampling_options
from ganframe.config import check_seed
from ganframe.errors import UsageError


def _notify(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def evaluate_checkpoint(
    checkpoint: Path,
    *,
    n: int,
    seed: int,
    mode: Optional[str],
    device: str,
    data_root: Optional[str],
    weights: str = "auto",
    metrics: Optional[list[str]] = None,
    metric_options: Optional[dict[str, str]] = None,
) -> dict[str, Any]:
    """The JSON document ``ganframe eval`` prints (imports torch)."""
    from ganframe.evaluation.data_splits import evaluation_data_root, split_loader
    from ganframe.evaluation.evaluator import draw_samples
    from ganframe.evaluation.metric_set import build_metrics, check_metric_names, merge_metrics
    from ganframe.plugin.manager import get_plugins
    from ganframe.run.assemble import resolve_device
    from ganframe.run.sampling import load_generator

    registry = get_plugins().registry
    check_metric_names(registry, metrics)  # a typo fails before the checkpoint and data load
    started = time.perf_counter()
    torch_device = resolve_device(device)
    loaded = load_generator(checkpoint, registry, torch_device, weights=weights)
    for note in loaded.notes:
        typer.echo(f"{note} Using {loaded.path}.", err=True)
    config = loaded.config
    dataset = config.get("dataset") or "mnist"
    root = evaluation_data_root(data_root, config.get("data_root"))
    load_split = split_loader(registry, dataset, root, config.get("dataset_options"))
    train_set = load_split(True)  # the held-out split only when a metric asks for it (not ring's own)
    classes = int(getattr(train_set, "num_classes", 0) or 0)  # checked before a classifier may be trained
    if loaded.conditional and classes and classes != loaded.spec.num_classes:
        raise UsageError(
            f"Checkpoint {loaded.path} has {loaded.spec.num_classes} classes but dataset '{dataset}' under "
            f"{root} has {classes}; point --data-root at the data set it was trained on."
        )
    chosen = build_metrics(
        registry,
        metrics,
        dataset=dataset,
        train_set=train_set,
        load_test_set=lambda: load_split(False),
        data_root=root,
        device=torch_device,
        options=metric_options,
        notify=_notify,
    )
    for item in chosen:
        item.prepare()
    mode = mode or loaded.sample_mode
    prepared = time.perf_counter()
    images, labels = draw_samples(
        loaded.network,
        latent_dim=loaded.spec.latent_dim,
        num_classes=loaded.spec.num_classes,
        n=n,
        seed=seed,
        mode=mode,
        device=torch_device,
    )
    reports, figures = merge_metrics(chosen, images, labels, method="report")
    return {
        "checkpoint": str(loaded.path),
        "dataset": dataset,
        "data_root": str(root),
        "generator": config.get("generator"),
        "conditional": loaded.conditional,
        "n": n,
        "seed": seed,
        "mode": mode,
        "weights": loaded.weights,
        "metrics": figures,
        **reports,
        "seconds": {"prepare": round(prepared - started, 2), "score": round(time.perf_counter() - prepared, 2)},
    }


#: what the figures of a data set's own metric mean (ring's mode coverage); others print without a meaning
OWN_METRIC_ROWS = {
    "high_quality_share": ("high-quality share", "samples within 3 std of their nearest mode"),
    "high_quality": ("high-quality samples", "number of such samples"),
}


def _print_own_metric_table(console: Any, document: dict[str, Any]) -> None:
    """The figures of a data set that scores its own samples (``ring``: mode coverage)."""
    from rich.table import Table

    table = Table(title=f"ganframe eval: {document['checkpoint']}", title_justify="left")
    for column in ("figure", "value", "meaning"):
        table.add_column(column, justify="right" if column == "value" else "left")
    if "modes_covered" in document and "num_modes" in document:
        table.add_row(
            "modes covered",
            f"{document['modes_covered']} / {document['num_modes']}",
            "modes holding >= 1% of the high-quality samples",
        )
    skip = {"modes_covered", "num_modes", "mode_counts"}
    for key in document["metrics"]["dataset"]:
        value = document[key]
        if key in skip or not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        shown = f"{value:.1%}" if key.endswith("_share") else f"{value:.4g}" if isinstance(value, float) else str(value)
        label, meaning = OWN_METRIC_ROWS.get(key, (key.replace("_", " "), ""))
        table.add_row(label, shown, meaning)
    console.print(table)
    counts = document.get("mode_counts")
    if isinstance(counts, list) and counts:
        per_mode = Table(title="per mode (high-quality samples)", title_justify="left")
        for column in ("mode", "samples", "share"):
            per_mode.add_column(column, justify="right")
        total = sum(counts) or 1
        for index, count in enumerate(counts):
            per_mode.add_row(str(index), str(count), f"{count / total:.1%}")
        console.print(per_mode)


def _print_table(document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if "dataset" in document["metrics"]:
        _print_own_metric_table(console, document)
    if "classifier" in document["metrics"]:
        _print_classifier_tables(console, document)
    others = {name: keys for name, keys in document["metrics"].items() if name not in ("classifier", "dataset")}
    if others:
        table = Table(title=f"ganframe eval: {document['checkpoint']}", title_justify="left")
        for column in ("metric", "figure", "value"):
            table.add_column(column, justify="right" if column == "value" else "left")
        for name, keys in others.items():
            for key in keys:
                value = document[key]
                table.add_row(name, key, f"{value:.4g}" if isinstance(value, float) else str(value))
        console.print(table)
    seconds = document["seconds"]["prepare"] + document["seconds"]["score"]
    classifier = document.get("classifier")
    about = (
        f"; classifier: {classifier.get('test_accuracy', float('nan')):.2%} test accuracy on "
        f"'{document['dataset']}', {classifier['path']}"
        if isinstance(classifier, dict)
        else ""
    )
    console.print(
        f"{document['n']} samples ({document['mode']} mode, {document['weights']} weights, seed {document['seed']}) "
        f"in {seconds:.1f} s{about}",
        highlight=False,
        soft_wrap=True,
    )


def _print_classifier_tables(console, document: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"ganframe eval: {document['checkpoint']}", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    rows = [
        (
            "classes covered",
            f"{document['classes_covered']} / {document['num_classes']}",
            "classes with > 2% of samples",
        ),
        ("class KL", f"{document['class_kl']:.4f}", "predicted classes vs uniform; 0 is balanced"),
        ("confidence", f"{document['confidence']:.3f}", "mean top softmax probability"),
        ("Frechet distance", f"{document['frechet_distance']:.2f}", "features vs the test split; 0 is real"),
    ]
    if "label_accuracy" in document:
        rows.append(("label accuracy", f"{document['label_accuracy']:.3f}", "samples read as the class asked for"))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    per_class = Table(title="per class", title_justify="left")
    conditional = "label_accuracy_per_class" in document
    for column in ("class", "share of samples") + (("label accuracy",) if conditional else ()):
        per_class.add_column(column, justify="right")
    accuracies = document.get("label_accuracy_per_class") or [None] * len(document["class_names"])
    for name, share, acc in zip(document["class_names"], document["class_shares"], accuracies):
        cells = [name, f"{share:.1%}"] + (["n/a" if acc is None else f"{acc:.3f}"] if conditional else [])
        per_class.add_row(*cells)
    console.print(per_class)


@user_errors
def eval_(
    checkpoint: Path = typer.Argument(
        ..., help="A checkpoint file, or a run directory (its newest checkpoint of its own run)."
    ),
    n: int = typer.Option(10_000, "--n", "-n", help="Number of samples to score."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    seed: int = typer.Option(0, "--seed", help="Seed for the noise (and labels) of the samples."),
    mode: Optional[str] = MODE,
    weights: str = WEIGHTS_OPTION,
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    data_root: Optional[str] = typer.Option(
        None,
        "--data-root",
        help="Folder holding the data set (default: the run's, else $GANFRAME_DATA, else a per-user cache).",
    ),
    metrics: Optional[str] = typer.Option(
        None,
        "--metrics",
        metavar="NAME,...",
        help="Metrics to score, comma-separated: classifier, fid, kid, is, prc (the last four need "
        "ganframe[fidelity]), or a plugin's (`ganframe plugins`). Default: every default metric that accepts the data set.",
    ),
    metric_option: Optional[list[str]] = typer.Option(
        None,
        "--metric-option",
        metavar="[NAME.]KEY=VALUE",
        help="Option for every metric, or NAME.KEY=VALUE for one (repeatable), e.g. weights=PATH (Inception weights file).",
    ),
) -> None:
    """Score a checkpoint's samples: by default with a classifier trained on its data set (offline), or with --metrics fid,kid,is,prc."""
    from ganframe.config import parse_key_values
    from ganframe.evaluation.metric_set import parse_metric_names

    if n < 2:
        raise UsageError(f"--n must be at least 2 (a Frechet distance needs a covariance); got {n}.")
    check_sampling_options(mode, weights, device)
    from ganframe.cli.json_output import plugin_output

    check_seed(seed)
    with plugin_output(as_json):  # a plugin's print() must not land inside the JSON
        document = evaluate_checkpoint(
            checkpoint,
            n=n,
            seed=seed,
            mode=mode,
            device=device,
            data_root=data_root,
            weights=weights,
            metrics=parse_metric_names(metrics),
            metric_options=parse_key_values(metric_option, "--metric-option"),
        )
    if as_json:
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        _print_table(document)
