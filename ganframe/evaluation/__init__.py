"""Offline quality metrics: score generated samples with a classifier trained
on the data set itself.

FID and IS download Inception weights at run time, which fails offline and
measures ImageNet features rather than digits. ganframe instead trains a small
CNN on the data set's own training split once, caches it next to the data
(keyed on a checksum of the training tensors), and reads generated samples
with it:

- :mod:`.classifier`  the CNN, its training recipe and batched inference
- :mod:`.cache`       checksum, cache location (data root or per-user) and atomic save/load
- :mod:`.metrics`     the figures, as pure functions of predictions and features
- :mod:`.evaluator`   a prepared classifier + reference statistics that scores a batch of samples
- :mod:`.periodic`    the ``--eval-every K`` lifecycle plugin
- :mod:`.dataset_metric`  data sets that score their own samples (``quality_metrics``) instead
- :mod:`.mode_coverage`   modes covered and high-quality share, ``ring``'s own metric
- :mod:`.classifier_metric`  all of the above as the default ``classifier`` metric plugin
- :mod:`.metric_set`  metrics are plugins (``register_metrics``): choosing them (``--metrics``), their
  options, scoring; FID, KID, IS and precision/recall are the built-in plugin
  ``ganframe_builtins.fidelity_metrics`` (the ``ganframe[fidelity]`` extra)

Everything here imports torch; the CLI imports it only inside commands.
"""
