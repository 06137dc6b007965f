"""Framing analysis: naming lexicon, KWIC, distinctive vocabulary and story clustering.

Pure modules: they compute rows; only crawler.archive.core writes them to archive.db.
"""

# Bumped when a change in this package changes stored results (mentions, stories, runs).
CODE_VERSION = "framing-2"
