"""ganframe: a plugin-style GAN framework for PyTorch.

Every generator, discriminator, loss and data set is a plugin registered by
name through pluggy hooks (see :mod:`ganframe.hookspecs`). This module stays
free of heavy imports so that ``ganframe --help`` and ``ganframe plugins``
start fast; torch is imported only by the modules that train or sample.
"""

from ganframe.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["hookimpl", "__version__"]
