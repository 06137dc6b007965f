"""Pure extraction library: page bytes in, ArticleResult out (no crawler, CLI or DB imports)."""

from .article import ArticleResult, extract_article, fingerprint
from .dates import DateCandidate
from .decode import decode_html
from .options import EXTRACTOR_VERSION

__all__ = [
    "EXTRACTOR_VERSION",
    "ArticleResult",
    "DateCandidate",
    "decode_html",
    "extract_article",
    "fingerprint",
]
