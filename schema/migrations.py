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
            not_modified INTEGER DEFAULT 0,  -- 304s and identical bodies: nothing re-extracted
            articles_removed INTEGER DEFAULT 0,
            deferred INTEGER DEFAULT 0,      -- due or new URLs left for the next crawl (budgets)
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
            date_flags TEXT,                   -- JSON list: dates-disagree, date-in-future, ...
            removed_at TEXT                    -- when a live article was found gone (404/410, home)
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
    db.execute(
        """
        CREATE TABLE article_versions (
            article_id TEXT NOT NULL REFERENCES articles(id),
            version INTEGER NOT NULL,          -- 1 = first text seen
            fetched_at TEXT NOT NULL,
            title TEXT,
            text_hash TEXT NOT NULL,           -- of the text with trivia (spacing, times, counters) removed
            text TEXT,
            diff TEXT,                         -- unified diff against the previous version
            flags TEXT,                        -- JSON list: headline-changed, lead-changed, correction, update-notice
            PRIMARY KEY (article_id, version)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE url_state (
            url TEXT PRIMARY KEY,              -- as requested (tracking parameters removed)
            source_id TEXT NOT NULL,
            kind TEXT NOT NULL,                -- article | feed | sitemap | section | robots
            discovered_via TEXT,
            discovered_from TEXT,
            hints TEXT,                        -- JSON feed/sitemap evidence, merged across paths
            article_id TEXT,
            first_seen TEXT NOT NULL,
            last_fetched TEXT,
            last_changed TEXT,
            last_status INTEGER,
            etag TEXT,
            last_modified TEXT,
            content_hash TEXT,
            next_due TEXT,                     -- articles: when to re-check; null = never again
            failures INTEGER NOT NULL DEFAULT 0,   -- consecutive failed fetches
            fetches INTEGER NOT NULL DEFAULT 0,
            not_modified INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX url_state_due ON url_state(source_id, kind, last_fetched, next_due)")
    db.execute(
        """
        CREATE TABLE feed_items (
            feed_url TEXT NOT NULL,
            item_url TEXT NOT NULL,
            source_id TEXT NOT NULL,
            first_position INTEGER,            -- order as first published
            last_position INTEGER,
            first_title TEXT,                  -- headline as first published
            last_title TEXT,
            published TEXT,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,        -- an item that later vanished stops moving here
            PRIMARY KEY (feed_url, item_url)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE outlet_state (
            source_id TEXT PRIMARY KEY,
            paused_until TEXT,
            paused_reason TEXT,
            crawl_delay REAL,                  -- from robots.txt, when it asks for more than the registry
            updated_at TEXT
        )
        """
    )
    db.table("articles").enable_fts(
        ["title", "text"], create_triggers=True, tokenize=FTS_TOKENIZE, replace=True
    )


@migrations(name="0002_search")
def m0002_search(db: Database) -> None:
    """Index normalised copies of title and text (crawler/search.py) instead of the raw ones.

    FTS5 keeps its built-in tokenizer, so the file still opens anywhere; Russian and
    Armenian spelling variants are folded into these columns, and queries are expanded
    through the concept alias table at search time.
    """
    from crawler.search import search_columns

    articles = db.table("articles")
    articles.disable_fts()  # drops articles_fts and its triggers over title/text
    for column in ("search_title", "search_text"):
        if column not in articles.columns_dict:
            articles.add_column(column, str)
    rows = db.execute("SELECT rowid, title, text FROM articles").fetchall()
    for rowid, title, text in rows:
        cols = search_columns(title, text)
        db.execute("UPDATE articles SET search_title = ?, search_text = ? WHERE rowid = ?",
                   [cols["search_title"], cols["search_text"], rowid])
    articles.enable_fts(["search_title", "search_text"], create_triggers=True,
                        tokenize=FTS_TOKENIZE, replace=True)


# -- 0003: framing (naming lexicon mentions, KWIC, stories, distinctive-vocabulary runs) --

_FRAMING_ARTICLES = """
CREATE VIEW framing_articles AS
SELECT a.id AS article_id, a.source_id, a.lang, a.published, a.published_month AS month,
       coalesce(a.word_count, 0) AS word_count, a.on_topic, sa.story_id,
       coalesce(sa.role, CASE WHEN a.republication_of IS NOT NULL THEN 'republication'
                              ELSE 'report' END) AS role,
       -- copies (wire reprints, syndication, translations) are not independent framings
       CASE WHEN a.republication_of IS NOT NULL
              OR coalesce(sa.role, '') IN ('republication', 'translation') THEN 0 ELSE 1 END
         AS independent
FROM articles a LEFT JOIN story_articles sa ON sa.article_id = a.id
WHERE a.extraction_status = 'ok'
"""

# Every aggregate row carries kwic_url: the KWIC lines behind that number.
_KWIC_URL = ("'/-/framing/kwic?source=' || {t}.source_id || '&concept=' || {t}.concept"
             " || '&from=' || {t}.month || '&to=' || {t}.month")

_NAMING_SHARE = f"""
CREATE VIEW naming_share AS
WITH m AS (
  SELECT fa.source_id, fa.month, m.concept, m.naming, sum(m.n) AS mentions,
         count(DISTINCT m.article_id) AS articles
  FROM mentions m JOIN framing_articles fa ON fa.article_id = m.article_id
  WHERE m.kind = 'naming' AND fa.independent = 1
  GROUP BY fa.source_id, fa.month, m.concept, m.naming
), t AS (
  SELECT *, sum(mentions) OVER (PARTITION BY source_id, month, concept) AS concept_mentions
  FROM m
)
SELECT t.source_id, t.month, t.concept, t.naming, t.mentions, t.articles, t.concept_mentions,
       round(1.0 * t.mentions / t.concept_mentions, 4) AS share,
       CASE WHEN t.concept_mentions < (SELECT CAST(value AS INTEGER) FROM framing_settings
                                       WHERE key = 'thin_min_mentions') THEN 1 ELSE 0 END AS thin,
       {_KWIC_URL.format(t="t")} || '&naming=' || t.naming AS kwic_url
FROM t
"""

_OUTLET_MONTHS = """
  SELECT source_id, month, sum(word_count) AS words, count(*) AS articles
  FROM framing_articles WHERE independent = 1 GROUP BY source_id, month
"""

_NAMING_RATE = f"""
CREATE VIEW naming_rate AS
WITH w AS ({_OUTLET_MONTHS}), m AS (
  SELECT fa.source_id, fa.month, m.kind, m.concept, m.naming, sum(m.n) AS mentions
  FROM mentions m JOIN framing_articles fa ON fa.article_id = m.article_id
  WHERE fa.independent = 1
  GROUP BY fa.source_id, fa.month, m.kind, m.concept, m.naming
)
SELECT m.source_id, m.month, m.kind, m.concept, m.naming, m.mentions, w.words,
       w.articles AS outlet_articles,
       round(1000.0 * m.mentions / max(w.words, 1), 3) AS per_1000_words,
       CASE WHEN w.articles < (SELECT CAST(value AS INTEGER) FROM framing_settings
                               WHERE key = 'thin_min_articles') THEN 1 ELSE 0 END AS thin,
       {_KWIC_URL.format(t="m")} || '&naming=' || m.naming AS kwic_url
FROM m JOIN w ON w.source_id = m.source_id AND w.month IS m.month
"""

_ATTENTION = f"""
CREATE VIEW attention AS
WITH w AS ({_OUTLET_MONTHS}), c AS (
  SELECT fa.source_id, fa.month, m.kind, m.concept, count(DISTINCT m.article_id) AS matching
  FROM mentions m JOIN framing_articles fa ON fa.article_id = m.article_id
  WHERE fa.independent = 1
  GROUP BY fa.source_id, fa.month, m.kind, m.concept
)
SELECT c.source_id, c.month, c.kind, c.concept, c.matching, w.articles,
       round(1.0 * c.matching / w.articles, 4) AS attention,
       CASE WHEN w.articles < (SELECT CAST(value AS INTEGER) FROM framing_settings
                               WHERE key = 'thin_min_articles') THEN 1 ELSE 0 END AS thin,
       {_KWIC_URL.format(t="c")} AS kwic_url
FROM c JOIN w ON w.source_id = c.source_id AND w.month IS c.month
"""

_KWIC_LINES = """
CREATE VIEW kwic_lines AS
SELECT k.id, fa.source_id, fa.month, a.published, a.lang, k.kind, k.concept, k.naming, k.variant,
       k.field, k."left", k.hit, k."right", k."offset", k.article_id, a.title, a.url,
       fa.role, fa.independent
FROM kwic k JOIN articles a ON a.id = k.article_id
JOIN framing_articles fa ON fa.article_id = k.article_id
"""


@migrations(name="0003_framing")
def m0003_framing(db: Database) -> None:
    """Naming/frame mentions with KWIC lines, stories with roles, vocabulary runs, views."""
    db.execute("CREATE TABLE framing_settings (key TEXT PRIMARY KEY, value TEXT, note TEXT)")
    db.execute(
        "INSERT INTO framing_settings VALUES "
        "('lexicon_version', NULL, 'version+hash of the lexicon the mentions were built with'),"
        "('code_version', NULL, 'crawler.framing code version of the mentions'),"
        "('thin_min_mentions', '5', 'a naming share over fewer mentions is marked thin'),"
        "('thin_min_articles', '3', 'a rate or attention over fewer articles is marked thin'),"
        "('stories_built_at', NULL, 'last story rebuild'),"
        "('stories_params', NULL, 'clustering parameters of the last rebuild (JSON)')"
    )
    db.execute("""CREATE TABLE lexicon_concepts (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT, description TEXT,
        namings TEXT, lexicon_version TEXT)""")
    db.execute("""CREATE TABLE lexicon_variants (
        id TEXT PRIMARY KEY, concept TEXT NOT NULL REFERENCES lexicon_concepts(id),
        kind TEXT NOT NULL, lang TEXT NOT NULL, naming TEXT NOT NULL, terms TEXT,
        exclude TEXT, note TEXT)""")
    db.execute("""CREATE TABLE mentions (
        article_id TEXT NOT NULL REFERENCES articles(id),
        kind TEXT NOT NULL,                 -- naming | frame
        concept TEXT NOT NULL, variant TEXT NOT NULL,
        naming TEXT NOT NULL,               -- naming label (for frames: the frame id)
        n INTEGER NOT NULL,
        lexicon_version TEXT NOT NULL,
        PRIMARY KEY (article_id, concept, variant))""")
    db.execute("CREATE INDEX mentions_concept ON mentions(concept, naming)")
    db.execute("""CREATE TABLE kwic (
        id INTEGER PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles(id),
        kind TEXT NOT NULL, concept TEXT NOT NULL, variant TEXT NOT NULL, naming TEXT NOT NULL,
        field TEXT NOT NULL,                -- title | text
        "left" TEXT, hit TEXT NOT NULL, "right" TEXT,
        "offset" INTEGER NOT NULL,          -- character offset of the hit in that field
        lexicon_version TEXT NOT NULL)""")
    db.execute("CREATE INDEX kwic_article ON kwic(article_id)")
    db.execute("CREATE INDEX kwic_concept ON kwic(concept, naming)")
    db.execute("""CREATE TABLE stories (
        id TEXT PRIMARY KEY, headline TEXT, first_published TEXT, last_published TEXT,
        n_articles INTEGER, n_independent INTEGER, n_outlets INTEGER, languages TEXT,
        outlets TEXT, concepts TEXT, on_topic INTEGER, built_at TEXT)""")
    db.execute("""CREATE TABLE story_articles (
        story_id TEXT NOT NULL REFERENCES stories(id),
        article_id TEXT NOT NULL UNIQUE REFERENCES articles(id),
        role TEXT NOT NULL CHECK (role IN ('original', 'republication', 'translation', 'report')),
        copy_of TEXT REFERENCES articles(id),  -- the earliest copy, for copies
        score REAL,                            -- similarity in units of the threshold
        PRIMARY KEY (story_id, article_id))""")
    db.execute("""CREATE TABLE fw_runs (
        id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, lang TEXT NOT NULL,
        label_a TEXT NOT NULL, label_b TEXT NOT NULL, group_a TEXT NOT NULL, group_b TEXT NOT NULL,
        period_from TEXT, period_to TEXT, shared_stories_only INTEGER NOT NULL,
        prior TEXT NOT NULL, prior_strength REAL NOT NULL, min_count INTEGER NOT NULL,
        tokenizer TEXT NOT NULL, lexicon_version TEXT, code_version TEXT NOT NULL,
        docs_a INTEGER, docs_b INTEGER, tokens_a INTEGER, tokens_b INTEGER)""")
    db.execute("""CREATE TABLE fw_terms (
        run_id INTEGER NOT NULL REFERENCES fw_runs(id), term TEXT NOT NULL,
        surface TEXT NOT NULL,               -- the stem's commonest surface form in the run
        favours TEXT NOT NULL,               -- a | b
        rank INTEGER NOT NULL, count_a INTEGER NOT NULL, count_b INTEGER NOT NULL,
        delta REAL NOT NULL, z REAL NOT NULL,
        PRIMARY KEY (run_id, term))""")
    for ddl in (_FRAMING_ARTICLES, _NAMING_SHARE, _NAMING_RATE, _ATTENTION, _KWIC_LINES):
        db.execute(ddl)


# -- 0004: scheduling (adaptive polls), source health per run, canaries, alerts ------------


@migrations(name="0004_scheduling")
def m0004_scheduling(db: Database) -> None:
    """Adaptive poll intervals for discovery documents, health rows, canaries and alerts."""
    state = db.table("url_state")
    for column, kind in (("poll_minutes", int),       # interval now in force (discovery docs)
                         ("poll_prev_minutes", int),  # interval before the last poll adjusted it
                         ("poll_new", int)):          # new article URLs the last poll yielded
        if column not in state.columns_dict:
            state.add_column(column, kind)
    db.execute("""CREATE TABLE health (
        run_id INTEGER NOT NULL REFERENCES crawl_runs(id),
        source_id TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        articles_24h INTEGER NOT NULL,       -- new articles first seen in the last 24 hours
        baseline_per_day REAL,               -- the outlet's own recent daily rate (null: too new)
        last_new_at TEXT,                    -- when its newest article was first seen
        hours_since_new REAL,
        fetches INTEGER NOT NULL,            -- fetches of this outlet in this run
        failures INTEGER NOT NULL,           -- 403, 429, 5xx, timeouts, other network errors
        failure_share REAL,
        fail_403 INTEGER NOT NULL, fail_429 INTEGER NOT NULL, fail_5xx INTEGER NOT NULL,
        fail_timeout INTEGER NOT NULL, fail_network INTEGER NOT NULL, gone_404 INTEGER NOT NULL,
        extracted_24h INTEGER NOT NULL,      -- articles first seen in 24 hours with an extraction
        no_date_share REAL, short_text_share REAL,
        feed_items INTEGER NOT NULL,         -- feed items seen in the last 7 days
        feed_items_orphaned INTEGER NOT NULL,  -- ... that never became an article
        open_alerts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,                -- ok | alert
        PRIMARY KEY (run_id, source_id))""")
    db.execute("CREATE INDEX health_source ON health(source_id, computed_at)")
    db.execute("""CREATE TABLE canaries (
        url TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        baseline_title TEXT, baseline_date TEXT, baseline_author TEXT,
        baseline_length INTEGER, baseline_at TEXT,
        last_title TEXT, last_date TEXT, last_author TEXT, last_length INTEGER,
        last_status INTEGER,
        checked_at TEXT,
        next_due TEXT,
        problem TEXT)                        -- why its shape changed; null = as at baseline""")
    db.execute("""CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        rule TEXT NOT NULL,                  -- went_quiet | failure_rate | dates_missing | canary_changed | feed_gone
        subject TEXT NOT NULL DEFAULT '',    -- the canary or feed URL, '' for outlet-wide rules
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        last_seen_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        link TEXT,
        run_id INTEGER,
        delivered TEXT)                      -- JSON list of the channels that took it""")
    db.execute("CREATE UNIQUE INDEX alerts_open ON alerts(source_id, rule, subject) "
               "WHERE cleared_at IS NULL")
