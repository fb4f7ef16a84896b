"""jamwatch: find GNSS jamming and spoofing in the position reports aircraft and ships broadcast.

The pipeline runs ``io -> decoder -> signals -> aggregate -> detect``; every stage takes and
returns Arrow tables. The one-call entry point for raw frames is :func:`decode`.
"""

from jamwatch.api import decode

__version__ = "0.1.0"

__all__ = ["__version__", "decode"]
