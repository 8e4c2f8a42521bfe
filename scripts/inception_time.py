"""Seconds per image of torch-fidelity's InceptionV3 feature extractor (what ``--metrics fid,kid,is`` costs), on this machine.

The figure does not depend on the weights' values, so the network is built
with random weights (as the tests do) and needs no download. Images are
64x64 uint8 RGB; the extractor resizes every image to 299x299, so the input
size barely matters.

    .venv/bin/python scripts/inception_time.py [--images 32] [--threads 1,2] [--device cpu]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def random_weights(path: Path) -> None:
    import torch
    from torch_fidelity import feature_extractor_inceptionv3 as module

    cls = module.FeatureExtractorInceptionV3
    loader, load = module.load_state_dict_from_url, cls.load_state_dict
    module.load_state_dict_from_url, cls.load_state_dict = (lambda *a, **k: None), (lambda self, *a, **k: None)
    try:
        network = cls("inception-v3-compat", ["2048"])
    finally:
        module.load_state_dict_from_url, cls.load_state_dict = loader, load
    torch.save(network.state_dict(), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    import torch
    from torch_fidelity.utils import create_feature_extractor

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "random-inception.pth"
        random_weights(weights)
        cuda = args.device == "cuda"
        network = create_feature_extractor(
            "inception-v3-compat",
            ["2048", "logits_unbiased"],
            cuda=cuda,
            feature_extractor_weights_path=str(weights),
            verbose=False,
        )
    x = torch.randint(0, 256, (args.images, 3, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    x = x.cuda() if cuda else x
    with torch.no_grad():
        network(x[:2])  # warm-up
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            network(x)
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
            print(
                f"{args.device}, {threads} thread(s): {seconds / args.images:.3f} s per image "
                f"({args.images} images of 64x64, resized to 299x299)"
            )


if __name__ == "__main__":
    main()
