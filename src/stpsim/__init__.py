"""stpsim: plan, simulate and roll up England's sustainability and transformation plans."""

__version__ = "0.1.0"

from .baseline import Baseline, baseline  # noqa: E402
from .footprint import Footprint, all_footprints, find  # noqa: E402

__all__ = ["Baseline", "Footprint", "__version__", "all_footprints", "baseline", "find"]
