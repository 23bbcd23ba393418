"""stpsim: plan, simulate and roll up England's sustainability and transformation plans.

Start with :func:`stpsim.baseline.baseline` (population and expected activity for any year from
2016/17 to 2035/36) and :func:`stpsim.footprint.all_footprints`.
"""

__version__ = "0.1.0"
