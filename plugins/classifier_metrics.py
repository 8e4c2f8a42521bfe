"""The built-in default metrics of ``ganframe eval`` and ``--eval-every``: ``classifier`` (labelled
images) and ``dataset`` (a data set that scores its own samples, such as ``ring``).

Registered by import string through ganframe's front door, so registering
imports no torch; the implementation is :func:`ganframe.classifier_metric`.
"""

from ganframe import hookimpl


@hookimpl
def register_metrics(register):
    register(
        "classifier",
        "ganframe:classifier_metric",
        help="classes covered, class KL, confidence, Frechet distance (own classifier's features), label accuracy",
        default=True,
    )
    register(
        "dataset",
        "ganframe:dataset_metric",
        help="the data set's own quality figures (ring: modes covered, high-quality share)",
        default=True,
    )
