"""Pure web helpers: URLs, feeds, sitemaps and links (no Scrapy, no database)."""
