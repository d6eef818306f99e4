"""Translation engines behind one small interface (see ``base.TranslationEngine``).

Importing this package is cheap: torch, transformers and ctranslate2 load only when an engine is
built. Entry points: ``registry.get_engine``, ``registry.routes``, ``registry.translate_texts``.
"""

from localise.engines.base import Decoding, TranslationEngine

__all__ = ["Decoding", "TranslationEngine"]
