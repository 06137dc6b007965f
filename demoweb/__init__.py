"""Offline fixture web: fictional outlets served on loopback for crawler tests and the demo."""

from demoweb.inventory import ExpectedArticle, Hazard, expected_articles, hazards
from demoweb.server import FixtureWeb, RequestRecord

__all__ = [
    "ExpectedArticle",
    "FixtureWeb",
    "Hazard",
    "RequestRecord",
    "expected_articles",
    "hazards",
]
