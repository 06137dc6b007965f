"""Numbered, append-only migrations for archive.db.

Apply with `sqlite-utils migrate archive.db schema/migrations.py` or through any
`mediawatch` command that writes (they migrate a missing or old archive first).
Never edit a migration that has shipped: add a new numbered one below.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("mediawatch")

FTS_TOKENIZE = "unicode61 remove_diacritics 2"


@migrations(name="0001_foundation")
def m0001_foundation(db: Database) -> None:
    """Registry, every capture (raw bytes in WARC files), articles with FTS, crawl runs."""
    db.execute(
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            homepage TEXT NOT NULL,
            language TEXT NOT NULL,          -- JSON list of ISO 639-1 codes
            country TEXT NOT NULL,
            kind TEXT NOT NULL,
            owner TEXT,
            feeds TEXT,                      -- JSON lists from here on
            sitemaps TEXT,
            sections TEXT,
            urls TEXT,
            article_url_pattern TEXT,
            download_delay REAL,
            concurrency INTEGER,
            enabled INTEGER,
            verified_live INTEGER,
            licence TEXT,
            public_full_text INTEGER,
            config TEXT,                     -- the whole registry entry as JSON
            synced_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            finish_reason TEXT,
            sources TEXT,                    -- JSON list of outlet ids crawled
            settings TEXT,                   -- JSON of the -s overrides and flags
            requests INTEGER DEFAULT 0,
            responses INTEGER DEFAULT 0,
            pages_new INTEGER DEFAULT 0,
            pages_seen_again INTEGER DEFAULT 0,
            articles_new INTEGER DEFAULT 0,
            articles_updated INTEGER DEFAULT 0,
            articles_unchanged INTEGER DEFAULT 0,
            extraction_failures INTEGER DEFAULT 0,
            errors INTEGER DEFAULT 0,
            error_summary TEXT,              -- JSON {reason: count}
            stats TEXT,                      -- Scrapy's stats at close, JSON
            mediawatch_version TEXT,
            pid INTEGER
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            capture_key TEXT NOT NULL UNIQUE,  -- url + outcome + body hash: one row per distinct capture
            source_id TEXT REFERENCES sources(id),
            url TEXT NOT NULL,                 -- as requested
            final_url TEXT,                    -- after redirects
            redirect_chain TEXT,               -- JSON list of intermediate URLs
            kind TEXT NOT NULL,                -- robots | feed | sitemap | section | article
            discovered_via TEXT,               -- feed | sitemap | section | seed | robots | pagination
            discovered_from TEXT,              -- the feed/sitemap/section URL that led here
            status INTEGER,                    -- HTTP status; null when no response arrived
            headers TEXT,                      -- JSON of response headers
            content_type TEXT,
            body_sha256 TEXT,
            body_length INTEGER,
            hints TEXT,                        -- JSON feed/sitemap evidence that came with the URL
            warc_file TEXT,                    -- raw capture: file under the WARC folder,
            warc_offset INTEGER,               --   byte offset of its response record,
            warc_length INTEGER,               --   and that record's length
            revisits INTEGER NOT NULL DEFAULT 0,  -- identical re-fetches written as revisit records
            error TEXT,                        -- network error, offsite redirect, parse error...
            outcome TEXT NOT NULL,             -- ok | http_error | network_error | dropped | parse_error | extracted | not_article | empty | extraction_error
            article_id TEXT,
            run_id INTEGER REFERENCES crawl_runs(id),
            fetched_at TEXT NOT NULL,          -- first time this capture was fetched
            last_fetched_at TEXT NOT NULL,
            fetch_count INTEGER NOT NULL DEFAULT 1
        )
        """
    )
    db.execute("CREATE INDEX pages_url ON pages(url)")
    db.execute("CREATE INDEX pages_source ON pages(source_id, kind)")
    db.execute("CREATE INDEX pages_article ON pages(article_id)")
    db.execute(
        """
        CREATE TABLE articles (
            id TEXT PRIMARY KEY,               -- sha1 of the normalised URL (or same-outlet canonical)
            source_id TEXT REFERENCES sources(id),
            url TEXT NOT NULL,                 -- fetched URL after redirects, tracking params removed
            canonical_url TEXT,                -- the page's declared canonical link, as written
            republication_of TEXT,             -- canonical link to another outlet: evidence of a reprint
            title TEXT,
            author TEXT,
            published TEXT,                    -- ISO 8601, date first
            published_source TEXT,
            published_month TEXT,              -- YYYY-MM, for facets
            modified TEXT,
            lang TEXT,
            text TEXT,
            description TEXT,
            sitename TEXT,
            license TEXT,
            word_count INTEGER,
            fingerprint TEXT,
            on_topic INTEGER,
            topic_terms TEXT,                  -- JSON {term: count}: why it is (not) on topic
            source_kind TEXT,                  -- the outlet's kind, for facets
            discovered_via TEXT,
            feed_title TEXT,
            page_id INTEGER REFERENCES pages(id),
            first_seen_at TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            extraction_status TEXT NOT NULL,   -- ok | empty | error
            extraction_error TEXT,
            extractor_version TEXT,
            removed_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX articles_source_published ON articles(source_id, published)")
    db.execute("CREATE INDEX articles_published ON articles(published)")
    db.execute("CREATE INDEX articles_on_topic ON articles(on_topic, published)")
    db.execute(
        """
        CREATE TABLE article_dates (
            article_id TEXT NOT NULL REFERENCES articles(id),
            kind TEXT NOT NULL,                -- published | modified
            value TEXT NOT NULL,               -- ISO 8601 with the offset as written
            source TEXT NOT NULL,              -- json-ld, meta:..., url, feed, sitemap, ...
            PRIMARY KEY (article_id, kind, source, value)
        )
        """
    )
    db.table("articles").enable_fts(
        ["title", "text"], create_triggers=True, tokenize=FTS_TOKENIZE, replace=True
    )
