"""Inception (and VGG16) features through torch-fidelity, shared by the ``fid``, ``kid``, ``is`` and ``prc`` metrics.

Why torch-fidelity: it is the reference PyTorch port of the TensorFlow
InceptionV3 that FID, KID and IS were defined with (torchmetrics' FID wraps
its ``FeatureExtractorInceptionV3``), it computes all four figures
(torchmetrics has no precision/recall), and its extractor takes a local
weights file (``feature_extractor_weights_path``), which offline machines need.
We reimplement nothing: features come from its extractor and
``get_featuresdict_from_dataset``, the figures from its ``*_features_to_metric``
functions.

What this module adds:

- samples in ``[-1, 1]`` (or uint8 pixels) become the uint8 3-channel images
  the extractor expects (1-channel images are repeated to 3; the extractor
  resizes to 299x299 itself, as the library always does);
- one extractor per process and weights file, and the features of the last
  batch of samples, so ``--metrics fid,kid,is,prc`` runs Inception once;
- the real images' features are computed once per data set and cached as
  ``<data root or per-user cache>/ganframe-inception/<dataset>-<split>-<checksum>-<weights>.pt``,
  keyed like the evaluation classifier: a checksum of the split's tensors,
  plus the weights (the download's name, or a hash of a local file);
- the weights: torch-fidelity's normal download (into torch's hub cache) on a
  connected machine, or ``--metric-option weights=PATH``; offline without
  them, a UsageError says which file to put where.

Precision/recall uses VGG16's ``fc2_relu`` features by default, as
torch-fidelity does (and Kynkaanniemi et al. 2019, who defined it);
``prc.features=inception`` uses Inception's pool features instead.
"""

from __future__ import annotations

import hashlib
import io
import re
import weakref
from pathlib import Path

from ganframe import MetricDeclined, UsageError, user_cache_dir

INSTALL_HINT = 'pip install "ganframe[fidelity]"'
#: our name -> (torch-fidelity's extractor, the features we take from it, the option naming a local weights file)
EXTRACTORS = {
    # pool features (FID, KID, precision/recall) and unbiased logits (Inception Score)
    "inception": ("inception-v3-compat", ("2048", "logits_unbiased"), "weights"),
    "vgg16": ("vgg16", ("fc2_relu",), "vgg16_weights"),
}
CACHE_FOLDER = "ganframe-inception"
CACHE_FORMAT = "ganframe-inception-features"
CACHE_VERSION = 1

_extractors: dict[tuple[str, str], object] = {}
_real: dict[tuple[str, str, str, str], dict] = {}
#: each data set object's checksum, so repeated lookups (every metric's prepare, every --eval-every
#: score) do not hash all its images again; data sets are not changed once built
_checksums: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def require_torch_fidelity(metric: str):
    """The ``torch_fidelity`` module, or a UsageError with the pip command."""
    try:
        import torch_fidelity
    except ImportError:
        raise UsageError(
            f"The '{metric}' metric computes Inception features with torch-fidelity, which is not installed; "
            f"install it with: {INSTALL_HINT}"
        ) from None
    return torch_fidelity


def weights_url(extractor: str = "inception") -> str:
    """Where torch-fidelity downloads the weights from (its own constant; torchvision's for VGG16)."""
    if extractor == "vgg16":
        import torchvision

        return torchvision.models.VGG16_Weights.IMAGENET1K_V1.url
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    return URL_INCEPTION_V3


def weights_file_name(extractor: str = "inception") -> str:
    return weights_url(extractor).rsplit("/", 1)[-1]


def default_weights_path(extractor: str = "inception") -> Path:
    """Where the library's download lands, and where it looks first: torch's hub cache."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / weights_file_name(extractor)


def check_images(spec, metric: str) -> None:
    """MetricDeclined unless the data set's samples are images with 1 or 3 channels."""
    data = getattr(spec.train_set, "data", None)
    shape = tuple(getattr(spec.train_set, "sample_shape", ()) or (tuple(data.shape[1:]) if data is not None else ()))
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise MetricDeclined(
            f"The '{metric}' metric scores images (1 or 3 channels x height x width) with Inception features, "
            f"but dataset '{spec.dataset}' has samples of shape {shape}; choose a metric that scores this data set "
            "(see `ganframe plugins`)."
        )


def weights_option(spec, metric: str, extractor: str = "inception") -> str | None:
    """The extractor's weights option (``weights``, ``vgg16_weights``) as a checked path, or None for the download."""
    key = EXTRACTORS[extractor][2]
    raw = spec.options.get(key, "")
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise UsageError(
            f"--metric-option {key}={raw} (for '{metric}'): no such file. Give the path of the weights file "
            f"{weights_file_name(extractor)}, or leave the option out to use the library's download."
        )
    return str(path.resolve())


def to_uint8_rgb(images):
    """``(N, C, H, W)`` floats in [-1, 1] or uint8 pixels -> uint8 ``(N, 3, H, W)`` on the CPU."""
    import torch

    x = images.detach()
    if x.dtype != torch.uint8:
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    x = x.cpu()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    return x.contiguous()


class InceptionFeatures:
    """One torch-fidelity extractor (per extractor, weights file and device) and what it has computed."""

    def __init__(
        self, weights: str | None, device, notify, metric: str, batch_size: int = 64, extractor: str = "inception"
    ):
        self.kind = extractor
        self.library_name, self.feature_names, self.weights_key = EXTRACTORS[extractor]
        self.weights = weights
        self.cuda = getattr(device, "type", str(device)) == "cuda"
        self.notify = notify
        self.metric = metric
        self.batch_size = batch_size
        self._last = None  # (samples tensor, its version, features)

    # -- the extractor ------------------------------------------------------------
    def weights_id(self) -> str:
        """Part of the real-feature cache key: the download's file name, or a hash of the local file."""
        if self.weights is None:
            return re.sub(r"\.pth$", "", weights_file_name(self.kind))
        if getattr(self, "_weights_id", None):
            return self._weights_id
        digest = hashlib.blake2b(digest_size=8)
        with open(self.weights, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        self._weights_id = "file-" + digest.hexdigest()
        return self._weights_id

    def extractor(self):
        key = (self.kind, self.weights or "download", "cuda" if self.cuda else "cpu")
        if key not in _extractors:
            _extractors[key] = self._create()
        return _extractors[key]

    def _create(self):
        from torch_fidelity.utils import create_feature_extractor

        try:
            return create_feature_extractor(
                self.library_name,
                list(self.feature_names),
                cuda=self.cuda,
                feature_extractor_weights_path=self.weights,
                verbose=False,
            )
        except Exception as exc:  # the library raises whatever urllib / torch.load raise
            gist = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            network = "InceptionV3" if self.kind == "inception" else "VGG16"
            if self.weights is not None:
                raise UsageError(
                    f"--metric-option {self.weights_key}={self.weights} (for '{self.metric}') is not the {network} "
                    f"state dict torch-fidelity loads ({gist}). Use {weights_file_name(self.kind)} from "
                    f"{weights_url(self.kind)}."
                ) from None
            raise UsageError(
                f"The '{self.metric}' metric needs the {network} weights torch-fidelity uses, and downloading them "
                f"failed ({gist}); this machine is probably offline. On a machine with internet, download "
                f"{weights_url(self.kind)} and either put it at {default_weights_path(self.kind)} (torch's hub cache, "
                f"where the library looks; set TORCH_HOME to move it) or pass the file with "
                f"--metric-option {self.weights_key}=PATH."
            ) from None

    # -- features -------------------------------------------------------------------
    def features(self, images) -> dict:
        """``{"2048": N x 2048, "logits_unbiased": N x 1008}`` (VGG16: ``{"fc2_relu": N x 4096}``) float32 CPU
        tensors for ``images``: a tensor of samples, or a map-style data set (``dataset[i] -> (x, label)``,
        e.g. a folder read file by file because it fits neither in RAM nor in a cache), read item by item."""
        import torch
        from torch_fidelity import utils as fidelity_utils

        if torch.is_tensor(images):
            x = to_uint8_rgb(images)
            count, item = len(x), x.__getitem__
        else:
            count, item = len(images), lambda i: to_uint8_rgb(images[i][0].unsqueeze(0))[0]
        extractor = self.extractor()

        class Images(torch.utils.data.Dataset):
            def __len__(self):
                return count

            def __getitem__(self, i):
                return item(i)

        return fidelity_utils.get_featuresdict_from_dataset(
            Images(),
            extractor,
            self.batch_size,
            self.cuda,
            True,
            False,  # save_cpu_ram: no workers (data in memory)
        )

    def sample_features(self, samples) -> dict:
        """:meth:`features` of generated samples; the same tensor scored by several metrics is read once."""
        if self._last is not None and self._last[0] is samples and self._last[1] == samples._version:
            return self._last[2]
        features = self.features(samples)
        self._last = (samples, samples._version, features)
        return features

    def real_features(self, spec, split: str) -> dict:
        """Features of the data set's ``split`` (``test`` or ``train``): memory, then the cache file, else computed and cached."""
        import torch

        from ganframe import is_writable, tensor_checksum  # import torch

        dataset = spec.test_set if split == "test" else spec.train_set
        if dataset is None or not len(dataset):
            raise UsageError(
                f"The '{self.metric}' metric compares with the {split} split of dataset "
                f"'{spec.dataset}', which is empty or missing."
            )
        data = getattr(dataset, "data", None)
        try:
            checksum = _checksums.get(dataset)
        except TypeError:  # a data set that cannot be weakly referenced or hashed: hashed every time
            checksum = None
        if checksum is None:
            checksum = tensor_checksum(data) if torch.is_tensor(data) else _files_checksum(dataset)
            try:
                _checksums[dataset] = checksum
            except TypeError:
                pass
        weights_id = self.weights_id()
        key = (spec.dataset, split, checksum, weights_id)
        if key in _real:
            return _real[key]
        name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', spec.dataset)}-{split}-{checksum}-{weights_id}-v{CACHE_VERSION}.pt"
        folders = list(dict.fromkeys([Path(spec.data_root) / CACHE_FOLDER, user_cache_dir() / CACHE_FOLDER]))
        for folder in folders:
            loaded = _load(folder / name, checksum, self.feature_names)
            if loaded is not None:
                _real[key] = loaded
                return loaded
        spec.notify(
            f"Computing {self.kind} features of the {len(dataset)} real images of '{spec.dataset}' ({split} split; "
            "done once per data set and weights, then cached)."
        )
        features = self.features(data if torch.is_tensor(data) else dataset)
        folder = folders[0] if is_writable(folders[0]) else folders[-1]
        _save(
            folder / name,
            {
                "format": CACHE_FORMAT,
                "version": CACHE_VERSION,
                "checksum": checksum,
                "weights": weights_id,
                "features": list(self.feature_names),
                **{k: v.float().contiguous() for k, v in features.items()},
            },
        )
        spec.notify(f"Real-image {self.kind} features saved to {folder / name}")
        _real[key] = features
        return features


def _files_checksum(dataset) -> str:
    """Cache key of a data set read file by file: its files' paths, sizes and modification times."""
    files = getattr(dataset, "files", None)
    if not files:
        raise UsageError(
            "The Inception metrics need the real images in memory (an InMemoryDataset) or as files; this data set "
            f"({type(dataset).__name__}) is neither."
        )
    digest = hashlib.blake2b(digest_size=10)
    for path in files:
        stat = Path(path).stat()
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def _save(path: Path, document: dict) -> None:
    import torch

    from ganframe import atomic_write

    atomic_write(path, lambda handle: torch.save(document, handle))


def _load(path: Path, checksum: str, feature_names) -> dict | None:
    """The cached features, or None when missing, unreadable or for other data."""
    import torch

    if not path.is_file():
        return None
    try:
        document = torch.load(io.BytesIO(path.read_bytes()), map_location="cpu", weights_only=True)
    except Exception:
        return None
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT or document.get("checksum") != checksum:
        return None
    if document.get("version") != CACHE_VERSION or any(k not in document for k in feature_names):
        return None
    return {k: document[k] for k in feature_names}


_shared: dict[tuple, InceptionFeatures] = {}


def shared_features(
    weights: str | None, device, notify, metric: str, batch_size: int, extractor: str = "inception"
) -> InceptionFeatures:
    """One :class:`InceptionFeatures` per (extractor, weights, device, batch size) in this process, so metrics
    share sample features."""
    key = (extractor, weights, str(device), batch_size)
    if key not in _shared:
        _shared[key] = InceptionFeatures(weights, device, notify, metric, batch_size, extractor)
    return _shared[key]


def forget() -> None:
    """Drop every extractor and feature held in memory (tests: force the cache files to be read)."""
    _extractors.clear()
    _real.clear()
    _shared.clear()
