"""Reference figures for ``ganframe eval``'s scale: real MNIST training images scored like samples.

    GANFRAME_DATA=/path/to/data python scripts/real_reference.py [--n 10000]

Prints the figures of N real training images (which the classifier saw) and of
uniform noise images, against the held-out test split: the Frechet distance of
real images is the floor a perfect generator would reach.
"""

from __future__ import annotations

import argparse
import json

import torch

from ganframe.evaluation.data_splits import load_splits
from ganframe.evaluation.evaluator import prepare_evaluator
from ganframe.plugin.manager import get_plugins
from ganframe.run.data_root import resolve_data_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dataset", default="mnist")
    args = parser.parse_args()
    root = resolve_data_root(None)
    train_set, test_set = load_splits(get_plugins().registry, args.dataset, root)
    evaluator = prepare_evaluator(train_set, test_set, args.dataset, root, device=torch.device("cpu"), notify=print)
    index = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(0))[: args.n]
    noise = torch.rand((args.n, *train_set.data.shape[1:]), generator=torch.Generator().manual_seed(0)) * 2 - 1
    for name, images, labels in (
        ("real training images", train_set.data[index], train_set.labels[index]),
        ("uniform noise", noise, None),
    ):
        scores = evaluator.score(images, labels)
        keep = ("classes_covered", "class_kl", "confidence", "frechet_distance", "label_accuracy")
        print(name, json.dumps({k: round(scores[k], 4) for k in keep if k in scores}))


if __name__ == "__main__":
    main()
