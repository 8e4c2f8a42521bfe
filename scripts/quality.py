"""Reproduce the README's quality table: train every built-in model with its defaults
for 5 epochs on MNIST, score each with ``ganframe eval``, print Markdown.

    GANFRAME_DATA=/path/to/data python scripts/quality.py --out runs/quality
    GANFRAME_DATA=/path/to/data python scripts/quality.py --out runs/quality-docs --documents

Each model trains at its own batch size (64; ``mlp-small`` 100, the small MLP GAN
tutorial's). ``--documents`` trains with the tutorials' settings where ganframe's defaults
differ (see ``DOCUMENTS``: loss, Adam lr and beta1, LeakyReLU slope, no average of G's
weights, ``cgan`` without the projection output, ``batchnorm`` with BatchNorm on G's output
layer). Arguments
after ``--`` go to every ``ganframe run``. Runs already present under ``--out`` are
not trained again, only scored. Runs are sequential on purpose: one CPU run uses
every core.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from ganframe.testing import run_ganframe

MODELS = ("mlp", "cgan", "mlp-small", "batchnorm")
#: options that turn a model's defaults back into the tutorials' settings
DOCUMENTS = {
    "mlp": ["--loss", "bce", "--lr", "2e-4", "--beta1", "0.9", "--model-option", "slope=0.01"],
    "cgan": [
        "--lr",
        "2e-4",
        "--beta1",
        "0.9",
        "--g-ema",
        "0",
        "--model-option",
        "slope=0.01",
        "--model-option",
        "projection=false",
    ],
    "mlp-small": ["--lr", "2e-4", "--beta1", "0.9", "--g-ema", "0"],
    "batchnorm": ["--loss", "bce-smooth", "--lr", "2e-4", "--beta1", "0.9", "--model-option", "output_batchnorm=true"],
}


#: ``python -m ganframe ARGS`` with no time limit (a CPU run takes minutes)
ganframe = partial(run_ganframe, timeout=None)


def train(model: str, out: Path, seed: int, extra: list[str]) -> None:
    if (out / "checkpoints").is_dir():
        return
    result = ganframe("run", "--model", model, "--epochs", "5", "--seed", str(seed), "--out", str(out), *extra)
    if result.returncode != 0:
        sys.exit(f"training {model} failed:\n{result.stderr}")


def score(run: Path, mode: str | None, weights: str) -> dict:
    args = ["eval", str(run), "--json", "--weights", weights] + (["--mode", mode] if mode else [])
    result = ganframe(*args)
    if result.returncode != 0:
        sys.exit(f"ganframe eval {run} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def row(model: str, doc: dict) -> str:
    label = f"{doc['label_accuracy']:.3f}" if "label_accuracy" in doc else "-"
    return (
        f"| {model} | {doc['mode']}, {doc['weights']} | {doc['classes_covered']}/{doc['num_classes']} | {doc['class_kl']:.3f} "
        f"| {doc['confidence']:.3f} | {doc['frechet_distance']:.1f} | {label} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/quality"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--modes", nargs="+", default=["default"], help="sampling modes to score: default, eval, train")
    parser.add_argument("--weights", nargs="+", default=["auto"], help="weights to score: auto, ema, trained")
    parser.add_argument("--documents", action="store_true", help="train with the tutorials' settings")
    parser.add_argument("extra", nargs="*", help="options for ganframe run (after --)")
    args = parser.parse_args()
    print("| model | sampling | classes covered | class KL | confidence | Frechet distance | label accuracy |")
    print("|---|---|---|---|---|---|---|")
    for model in args.models:
        run = args.out / model
        train(model, run, args.seed, (DOCUMENTS.get(model, []) if args.documents else []) + args.extra)
        for mode in args.modes:
            for weights in args.weights:
                print(row(model, score(run, None if mode == "default" else mode, weights)), flush=True)


if __name__ == "__main__":
    main()
