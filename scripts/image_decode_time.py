"""Decode time of ``image-folder`` per 1,000 images (the README's figure), on this machine.

Writes synthetic photographs (smooth colour fields plus grain, so they compress
like photos, not like noise) into a temporary folder, then times the first
load (decode + write the uint8 cache) and the second (read the cache) of
``image-folder`` at ``size=64``, for three kinds of file:

- ``png64``: 64x64 PNG, the "folder of 64x64 RGB PNGs" case;
- ``celeba-jpeg``: 178x218 JPEG (quality 90), the size of CelebA's aligned faces;
- ``photo-jpeg``: 1024x768 JPEG (quality 90), a camera folder (the JPEG decoder's
  draft mode shrinks these while decoding).

    .venv/bin/python scripts/image_decode_time.py [--count 2000] [--repeats 2] [--workers N]

``--workers`` overrides the decode processes (default: one per CPU, at most 8).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

KINDS = {"png64": ((64, 64), ".png"), "celeba-jpeg": ((178, 218), ".jpg"), "photo-jpeg": ((1024, 768), ".jpg")}


def write_folder(folder: Path, count: int, size: tuple[int, int], suffix: str, seed: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(count):
        coarse = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
        pixels = np.asarray(image).astype(np.int16) + rng.integers(-12, 13, (size[1], size[0], 3))
        sub = folder / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(sub / f"{i:06d}{suffix}", quality=90)


def load(folder: Path):
    from ganframe.plugin.specs import DatasetSpec, Options
    from ganframe_builtins.image_folder import image_folder

    start = time.perf_counter()
    dataset = image_folder(DatasetSpec(root=folder, options=Options({"path": str(folder), "size": "64"})))
    return time.perf_counter() - start, len(dataset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    if args.workers is not None:
        from ganframe_builtins import image_files

        image_files.workers_for = lambda count, n=args.workers: n
    import torch  # noqa: F401  (imported before timing: its import is not decode time)

    for kind in args.kinds.split(","):
        size, suffix = KINDS[kind]
        firsts, seconds = [], []
        for repeat in range(args.repeats):
            folder = Path(tempfile.mkdtemp(prefix=f"decode-{kind}-"))
            try:
                write_folder(folder, args.count, size, suffix, seed=repeat)
                first, n = load(folder)
                second, _ = load(folder)
                firsts.append(first / n * 1000)
                seconds.append(second / n * 1000)
            finally:
                shutil.rmtree(folder)
        print(
            f"{kind:12s} {args.count} images x {args.repeats} folders: first load (decode + cache) "
            f"{statistics.mean(firsts):.2f} s per 1,000 (runs: {', '.join(f'{v:.2f}' for v in firsts)}); "
            f"second load (cache) {statistics.mean(seconds) * 1000:.1f} ms per 1,000",
            flush=True,
        )


if __name__ == "__main__":
    main()
