"""Time to quality: training seconds until a model first reaches a quality target, ganframe
against the hand-written tutorial loop, both scored the same way.

    GANFRAME_DATA=/path/to/data python scripts/time_to_quality.py --out runs/ttq --seeds 1 2
    GANFRAME_DATA=/path/to/data python scripts/time_to_quality.py --out runs/ttq --only ring --seeds 1 2 3

Targets (``TARGETS``): ``cgan`` label accuracy >= 0.95, ``mlp`` class KL < 0.05, ``ring``
8 of 8 modes covered. Per-step speed is what ``pytest benchmarks`` measures; this is the
figure a user waits for, and it combines a faster step with a better recipe.

- **ganframe**: ``ganframe run --eval-every 1`` with the model's defaults. Every evaluation
  row of ``metrics.jsonl`` carries ``eval/train_seconds``, the training time before it
  (evaluations excluded). The script watches the file and stops the run (SIGINT, which
  ganframe handles cleanly) at the first row that meets the target.
- **hand loop**: the tutorial's own loop (``benchmarks/hand_loop.py``: torchvision MNIST
  through a DataLoader, Adam 2e-4, ``.item()`` every step) timed per epoch in this
  process, and after each epoch scored exactly as ``--eval-every`` scores (2,000 samples
  from the same seeded noise, the same cached classifier or mode counter). For ``ring``
  the MLP GAN tutorial's networks are sized to 2-D points.

Runs are sequential on purpose: one CPU run uses every core. A target not reached within
``--max-epochs`` is reported as "not reached in N epochs".
"""

from __future__ import annotations

import argparse
import json
import operator
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks.hand_loop


@dataclass(frozen=True)
class Target:
    model: str
    dataset: str
    metric: str  # the key in ganframe eval's figures (without the eval/ prefix)
    compare: str  # ">=" or "<"
    value: float
    max_epochs: int

    def met(self, figure: float | None) -> bool:
        compare = operator.ge if self.compare == ">=" else operator.lt
        return figure is not None and compare(figure, self.value)

    def describe(self) -> str:
        return f"{self.model} on {self.dataset}: {self.metric} {self.compare} {self.value:g}"


TARGETS = {
    "cgan": Target("cgan", "mnist", "label_accuracy", ">=", 0.95, max_epochs=10),
    "mlp": Target("mlp", "mnist", "class_kl", "<", 0.05, max_epochs=10),
    "ring": Target("mlp", "ring", "modes_covered", ">=", 8, max_epochs=20),  # ring's default run: 20,000 steps
}


@dataclass
class Result:
    seconds: float | None
    epochs: int
    figure: float | None


# -- ganframe ----------------------------------------------------------------------------------
def eval_rows(metrics: Path) -> list[dict]:
    if not metrics.exists():
        return []
    rows = []
    for line in metrics.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a line being written
            continue
        if "eval/train_seconds" in row:
            rows.append(row)
    return rows


def ganframe_time(target: Target, seed: int, out: Path, extra: list[str]) -> Result:
    run_dir = out / f"ganframe-{target.model}-{target.dataset}-seed{seed}"
    command = [
        sys.executable,
        "-m",
        "ganframe",
        "run",
        "--model",
        target.model,
        "--dataset",
        target.dataset,
        "--eval-every",
        "1",
        "--epochs",
        str(target.max_epochs),
        "--seed",
        str(seed),
        "--out",
        str(run_dir),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reached: dict | None = None
    while process.poll() is None and reached is None:
        time.sleep(0.5)
        reached = next(
            (r for r in eval_rows(run_dir / "metrics.jsonl") if target.met(r.get("eval/" + target.metric))), None
        )
    if reached is not None and process.poll() is None:
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate()
    if process.returncode not in (0, 130):
        sys.exit(f"ganframe run failed ({process.returncode}):\n{stderr}")
    rows = eval_rows(run_dir / "metrics.jsonl")
    reached = next((r for r in rows if target.met(r.get("eval/" + target.metric))), None)
    if reached is None:
        last = rows[-1] if rows else {}
        return Result(None, int(last.get("epoch", 0)), last.get("eval/" + target.metric))
    return Result(reached["eval/train_seconds"], int(reached["epoch"]), reached["eval/" + target.metric])


# -- the hand-written tutorial loop --------------------------------------------------------------
def hand_time(target: Target, seed: int) -> Result:
    import torch

    from ganframe import Conditioned
    from ganframe.evaluation.evaluator import draw_samples

    torch.manual_seed(seed)
    device = torch.device("cpu")
    if target.dataset == "ring":
        loop, batches, score = _ring_hand_loop(seed)
    else:
        loop, batches, score = _mnist_hand_loop(target.model)
    seconds, figure = 0.0, None
    for epoch in range(1, target.max_epochs + 1):
        started = time.perf_counter()
        for images, labels in batches():
            loop.step(images, labels if loop.conditional else None)
        seconds += time.perf_counter() - started
        samples, sample_labels = draw_samples(
            Conditioned(loop.generator, loop.conditional),
            latent_dim=loop.latent_dim,
            num_classes=10,
            n=2000,
            seed=seed,
            mode="eval",
            device=device,
        )
        figure = score(samples, sample_labels)[target.metric]
        print(f"  hand loop epoch {epoch}: {target.metric} {figure:.3f} after {seconds:.0f} s", flush=True)
        if target.met(figure):
            return Result(seconds, epoch, figure)
    return Result(None, target.max_epochs, figure)


def _mnist_hand_loop(model: str):
    import torch

    from benchmarks.hand_loop import HandLoop, mnist_loader
    from ganframe.evaluation.data_splits import load_splits
    from ganframe.evaluation.evaluator import prepare_evaluator
    from ganframe.plugin.manager import get_plugins
    from ganframe.run.data_root import resolve_data_root

    root = resolve_data_root(None)
    loop = HandLoop(model, 64, torch.device("cpu"))
    loader = mnist_loader(root, 64)
    train_set, test_set = load_splits(get_plugins().registry, "mnist", root)
    evaluator = prepare_evaluator(train_set, test_set, "mnist", root, device=torch.device("cpu"))
    return loop, lambda: iter(loader), evaluator.score


def _ring_hand_loop(seed: int):
    """The MLP GAN tutorial's loop and networks (dropout 0.2, LeakyReLU, Adam 2e-4, BCE) on 2-D points."""
    import torch
    from torch import nn

    from benchmarks.hand_loop import HandLoop
    from ganframe.plugin.specs import DatasetSpec, Options
    from ganframe_builtins.toy_datasets import ring

    dataset = ring(DatasetSpec(root=Path("."), train=True, options=Options({})))
    data = dataset.data.float()
    loop = HandLoop("mlp", 64, torch.device("cpu"))
    layers = list(loop.generator.generator)
    layers[-2] = nn.Linear(1024, 2)
    loop.generator = nn.Sequential(*layers)
    loop.discriminator.discriminator[0] = nn.Linear(2, 1024)
    loop.gen_optimizer = torch.optim.Adam(loop.generator.parameters(), lr=0.0002)
    loop.disc_optimizer = torch.optim.Adam(loop.discriminator.parameters(), lr=0.0002)
    order = torch.Generator().manual_seed(seed)

    def batches():
        permutation = torch.randperm(len(data), generator=order)
        for start in range(0, len(data) - 63, 64):
            yield data[permutation[start : start + 64]], None

    return loop, batches, lambda samples, _labels: dataset.quality_metrics(samples)


# -- report ------------------------------------------------------------------------------------
def cell(result: Result, max_epochs: int) -> str:
    if result.seconds is None:
        shown = "n/a" if result.figure is None else f"{result.figure:.3f}"
        return f"not reached in {max_epochs} epochs (last {shown})"
    return f"{result.seconds:.0f} s (epoch {result.epochs}, {result.figure:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the ganframe runs")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--skip-hand", action="store_true", help="time ganframe only")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    lines = ["| target | seed | ganframe | hand-written tutorial loop |", "|---|---|---|---|"]
    for name in args.only:
        target = TARGETS[name]
        for seed in args.seeds:
            print(f"{target.describe()}, seed {seed}", flush=True)
            ours = ganframe_time(target, seed, args.out, extra)
            hand = Result(None, 0, None) if args.skip_hand else hand_time(target, seed)
            hand_cell = "-" if args.skip_hand else cell(hand, target.max_epochs)
            lines.append(f"| {target.describe()} | {seed} | {cell(ours, target.max_epochs)} | {hand_cell} |")
            print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
