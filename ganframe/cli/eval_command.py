"""``ganframe eval``: offline quality figures for a checkpoint.

Draws N samples, reads them with a classifier trained on the checkpoint's
data set (trained once and cached; see :mod:`ganframe.evaluation`) and prints
classes covered, class KL from uniform, confidence, the Frechet distance to
the test split and, for conditional models, label accuracy overall and per
class. A rich table, or ``--json``.
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
from ganframe.errors import UsageError


def _notify(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def evaluate_checkpoint(
    checkpoint: Path, *, n: int, seed: int, mode: Optional[str], device: str, data_root: Optional[str],
    weights: str = "auto",
) -> dict[str, Any]:
    """The JSON document ``ganframe eval`` prints (imports torch)."""
    from ganframe.run.assemble import resolve_device
    from ganframe.evaluation.data_splits import evaluation_data_root, load_splits
    from ganframe.evaluation.evaluator import draw_samples, prepare_evaluator
    from ganframe.plugin.manager import get_plugins
    from ganframe.run.sampling import load_generator

    registry = get_plugins().registry
    started = time.perf_counter()
    torch_device = resolve_device(device)
    loaded = load_generator(checkpoint, registry, torch_device, weights=weights)
    config = loaded.config
    dataset = config.get("dataset") or "mnist"
    root = evaluation_data_root(data_root, config.get("data_root"))
    train_set, test_set = load_splits(registry, dataset, root, config.get("dataset_options"))
    classes = int(getattr(train_set, "num_classes", 0) or 0)  # checked before a classifier may be trained
    if loaded.conditional and classes and classes != loaded.spec.num_classes:
        raise UsageError(
            f"Checkpoint {loaded.path} has {loaded.spec.num_classes} classes but dataset '{dataset}' under "
            f"{root} has {classes}; point --data-root at the data set it was trained on."
        )
    evaluator = prepare_evaluator(train_set, test_set, dataset, root, device=torch_device, notify=_notify)
    mode = mode or loaded.sample_mode
    prepared = time.perf_counter()
    images, labels = draw_samples(
        loaded.generator, latent_dim=loaded.spec.latent_dim, num_classes=loaded.spec.num_classes,
        conditional=loaded.conditional, n=n, seed=seed, mode=mode, device=torch_device,
    )
    scores = evaluator.score(images, labels)
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
        **scores,
        "class_names": evaluator.class_names,
        "classifier": evaluator.info,
        "seconds": {"prepare": round(prepared - started, 2), "score": round(time.perf_counter() - prepared, 2)},
    }


def _print_table(document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    classifier = document["classifier"]
    table = Table(title=f"ganframe eval: {document['checkpoint']}", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("meaning")
    rows = [
        ("classes covered", f"{document['classes_covered']} / {document['num_classes']}", "classes with > 2% of samples"),
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
    seconds = document["seconds"]["prepare"] + document["seconds"]["score"]
    console.print(
        f"{document['n']} samples ({document['mode']} mode, {document['weights']} weights, seed {document['seed']}) "
        f"in {seconds:.1f} s; "
        f"classifier: {classifier.get('test_accuracy', float('nan')):.2%} test accuracy on "
        f"'{document['dataset']}', {classifier['path']}",
        highlight=False, soft_wrap=True,
    )


@user_errors
def eval_(
    checkpoint: Path = typer.Argument(..., help="A checkpoint file, or a run directory (its newest checkpoint)."),
    n: int = typer.Option(10_000, "--n", "-n", help="Number of samples to score."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    seed: int = typer.Option(0, "--seed", help="Seed for the noise (and labels) of the samples."),
    mode: Optional[str] = MODE,
    weights: str = WEIGHTS_OPTION,
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto."),
    data_root: Optional[str] = typer.Option(
        None, "--data-root", help="Folder holding the data set (default: the run's, else $GANFRAME_DATA, else a per-user cache)."
    ),
) -> None:
    """Score a checkpoint's samples with a classifier trained on its data set (offline FID-style figures)."""
    if n < 2:
        raise UsageError(f"--n must be at least 2 (a Frechet distance needs a covariance); got {n}.")
    check_sampling_options(mode, weights, device)
    from ganframe.cli.json_output import plugin_output

    with plugin_output(as_json):  # a plugin's print() must not land inside the JSON
        document = evaluate_checkpoint(
            checkpoint, n=n, seed=seed, mode=mode, device=device, data_root=data_root, weights=weights
        )
    if as_json:
        typer.echo(json.dumps(document, indent=2, default=str))
    else:
        _print_table(document)
