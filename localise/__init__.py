"""localise: subtitle localisation for Chinese micro-short dramas.

Same cues, same timings, same styling — only the words change.
The library works without Prefect; ``flows/`` only composes it.
"""

__version__ = "0.1.0"
