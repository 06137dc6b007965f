"""mediawatch: the Scrapy project, the CLI, and the only writer of archive.db."""

__version__ = "0.1.0"
