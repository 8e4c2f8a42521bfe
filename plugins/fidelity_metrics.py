"""FID, KID, Inception Score and precision/recall: the figures papers report (``ganframe[fidelity]``).

``ganframe eval RUN --metrics fid,kid,is,prc`` scores generated samples
against the data set's held-out split (``--metric-option reference=train``
for the training split, as CIFAR-10 papers often do) with the standard
InceptionV3 features, through torch-fidelity (see
:mod:`ganframe_builtins.inception_features` for why that library, the
weights and the cache). None of them is a default metric: they need the
extra and the weights, and Inception at 299x299 on a CPU takes of the order of a second per image.

Registering imports nothing; each factory checks the extra (a UsageError
with the pip command), declines data sets that are not images, and reads its
options. Options (``--metric-option KEY=VALUE`` for all, ``fid.KEY=VALUE``
for one):

- ``weights=PATH``: torch-fidelity's InceptionV3 weights file, instead of its download;
- ``reference=test|train``: the real split compared with (default ``test``);
- ``batch_size=64``: images per Inception batch;
- ``kid.subsets=100``, ``kid.subset_size=1000`` (capped at the smaller sample count);
- ``is.splits=10``;
- ``prc.neighborhood=3`` (k of the k-nearest-neighbour balls);
- ``prc.features=vgg16|inception``: VGG16's ``fc2_relu`` features (default, as
  torch-fidelity and the paper that defined the metric, Kynkaanniemi et al.
  2019, use; ``vgg16_weights=PATH`` for a local file) or Inception's.

Figures: ``fid``; ``kid_mean``, ``kid_std``; ``is_mean``, ``is_std``;
``precision``, ``recall``, ``f_score``.
"""

from ganframe import UsageError, hookimpl, quoted_list
from ganframe_builtins import inception_features as inception

REFERENCES = ("test", "train")


@hookimpl
def register_metrics(register):
    hint = inception.INSTALL_HINT
    register("fid", fid_metric, help=f"Frechet Inception Distance to the held-out images, via torch-fidelity ({hint})")
    register("kid", kid_metric, help=f"Kernel Inception Distance (mean, std over subsets), via torch-fidelity ({hint})")
    register("is", is_metric, help=f"Inception Score (mean, std over splits), via torch-fidelity ({hint})")
    register("prc", prc_metric, help=f"precision, recall and F-score of VGG16 features, via torch-fidelity ({hint})")


class InceptionMetric:
    """Common part: the shared extractor, the real split's features, samples' features."""

    name = ""
    needs_real = True

    def __init__(self, spec):
        inception.require_torch_fidelity(self.name)
        inception.check_images(spec, self.name)
        self.spec = spec
        self.extractor = self.choose_extractor(spec.options)
        self.layer = inception.EXTRACTORS[self.extractor][1][0]
        weights = inception.weights_option(spec, self.name, self.extractor)
        self.reference = spec.options.get("reference", "test")
        if self.needs_real and self.reference not in REFERENCES:
            raise UsageError(
                f"--metric-option reference={self.reference} (for '{self.name}'): must be one of {quoted_list(REFERENCES)}."
            )
        batch_size = spec.options.get("batch_size", 64)
        if batch_size < 1:
            raise UsageError(f"--metric-option batch_size={batch_size} (for '{self.name}'): must be at least 1.")
        self.features = inception.shared_features(
            weights, spec.device, spec.notify, self.name, batch_size, self.extractor
        )
        self.read_options(spec.options)

    def choose_extractor(self, options) -> str:
        return "inception"

    def read_options(self, options) -> None:
        pass

    def prepare(self) -> None:
        """Load the extractor (downloading the weights when needed) and the real features."""
        self.features.extractor()
        if self.needs_real:
            self.features.real_features(self.spec, self.reference)

    def _pair(self, samples):
        real = self.features.real_features(self.spec, self.reference)[self.layer]
        return self.features.sample_features(samples)[self.layer], real


class FID(InceptionMetric):
    name = "fid"

    def score(self, samples, labels=None):
        from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

        fake, real = self._pair(samples)
        statistics = fid_features_to_statistics(fake.double()), fid_features_to_statistics(real.double())
        return {"fid": fid_statistics_to_metric(*statistics, verbose=False)[KEY_METRIC_FID]}


class KID(InceptionMetric):
    name = "kid"

    def read_options(self, options):
        self.subsets = options.get("subsets", 100)
        self.subset_size = options.get("subset_size", 1000)
        if self.subsets < 1 or self.subset_size < 2:
            raise UsageError(
                f"'kid' needs subsets >= 1 and subset_size >= 2; got subsets={self.subsets}, subset_size={self.subset_size}."
            )

    def score(self, samples, labels=None):
        from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

        fake, real = self._pair(samples)
        size = min(self.subset_size, len(fake), len(real))
        figures = kid_features_to_metric(fake, real, kid_subsets=self.subsets, kid_subset_size=size, verbose=False)
        return {"kid_mean": figures[KEY_METRIC_KID_MEAN], "kid_std": figures[KEY_METRIC_KID_STD]}


class InceptionScore(InceptionMetric):
    name = "is"
    needs_real = False

    def read_options(self, options):
        self.splits = options.get("splits", 10)
        if self.splits < 1:
            raise UsageError(f"'is' needs splits >= 1; got splits={self.splits}.")

    def score(self, samples, labels=None):
        from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD, isc_features_to_metric

        logits = self.features.sample_features(samples)["logits_unbiased"]
        if len(logits) < self.splits:
            raise UsageError(
                f"'is' splits {len(logits)} samples into {self.splits} parts; score more samples or lower is.splits."
            )
        figures = isc_features_to_metric(logits, splits=self.splits)
        return {"is_mean": figures[KEY_METRIC_ISC_MEAN], "is_std": figures[KEY_METRIC_ISC_STD]}


class PrecisionRecall(InceptionMetric):
    name = "prc"

    def choose_extractor(self, options):
        features = options.get("features", "vgg16")
        if features not in inception.EXTRACTORS:
            raise UsageError(
                f"--metric-option features={features} (for 'prc'): must be one of {quoted_list(inception.EXTRACTORS)}."
            )
        return features

    def read_options(self, options):
        self.neighborhood = options.get("neighborhood", 3)
        if self.neighborhood < 1:
            raise UsageError(f"'prc' needs neighborhood >= 1; got {self.neighborhood}.")

    def score(self, samples, labels=None):
        from torch_fidelity.metric_prc import (
            KEY_METRIC_F_SCORE,
            KEY_METRIC_PRECISION,
            KEY_METRIC_RECALL,
            prc_features_to_metric,
        )

        fake, real = self._pair(samples)
        if min(len(fake), len(real)) <= self.neighborhood:
            raise UsageError(
                f"'prc' needs more than neighborhood={self.neighborhood} samples on each side; "
                f"got {len(fake)} generated and {len(real)} real."
            )
        figures = prc_features_to_metric(fake, real, prc_neighborhood=self.neighborhood, verbose=False)
        return {
            "precision": figures[KEY_METRIC_PRECISION],
            "recall": figures[KEY_METRIC_RECALL],
            "f_score": figures[KEY_METRIC_F_SCORE],
        }


def fid_metric(spec):
    """Frechet Inception Distance to the held-out images (torch-fidelity)."""
    return FID(spec)


def kid_metric(spec):
    """Kernel Inception Distance (torch-fidelity)."""
    return KID(spec)


def is_metric(spec):
    """Inception Score (torch-fidelity)."""
    return InceptionScore(spec)


def prc_metric(spec):
    """Precision, recall and F-score in VGG16 (or Inception) feature space (torch-fidelity)."""
    return PrecisionRecall(spec)
