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
    """Index normalised copies of title and text (crawler/search/columns.py) instead of the
    raw ones.

    FTS5 keeps its built-in tokenizer, so the file still opens anywhere; Russian and
    Armenian spelling variants are folded into these columns, and queries are expanded
    through the concept alias table at search time.

    Self-contained since 0006: this migration used to fill the columns of existing rows by
    importing the application's normaliser. It now leaves them empty (NULL search_version);
    the archive re-indexes every row whose stamp is not the current normaliser when a writer
    opens it. Applied to an archive, the result is the same; the migration no longer needs
    the project installed, and a later normaliser cannot change what it does.
    """
    articles = db.table("articles")
    articles.disable_fts()  # drops articles_fts and its triggers over title/text
    for column in ("search_title", "search_text"):
        if column not in articles.columns_dict:
            articles.add_column(column, str)
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


# -- 0005: search at scale (bench/search_scale.py): covering indexes, framing aggregates ----
#
# /search filters by language, outlet and topic inside the FTS index (search_meta).
# At a million articles any query that reads an article column stored after `text`
# (word_count, on_topic, extraction_status, ...) walks that text's overflow pages, and every
# count over all articles is a scan. The indexes cover the lookups of the search, article,
# facet and framing pages. `framing_counts` holds per outlet x month x language what the
# framing views and the compare page add up (independent articles and their words;
# mentions and distinct articles per naming, concept and kind), kept current by triggers,
# so those pages read rows per month instead of every article. Rows whose counts fell back
# to zero stay; readers skip them (articles > 0).

_INDEPENDENT = ("{a}.extraction_status = 'ok' AND {a}.republication_of IS NULL AND "
                "coalesce((SELECT sa.role FROM story_articles sa WHERE sa.article_id = {a}.id),"
                " '') NOT IN ('republication', 'translation')")
_UNROLED = "a.extraction_status = 'ok' AND a.republication_of IS NULL"  # role decided apart
_DEPENDENT = "{r}.role IN ('republication', 'translation')"
_KEY = "coalesce(a.source_id, ''), coalesce(a.published_month, ''), coalesce(a.lang, '')"
_INTO = ("INSERT INTO framing_counts (kind, concept, naming, source_id, month, lang, "
         "articles, mentions, words) ")
_UPSERT = (" ON CONFLICT DO UPDATE SET articles = articles + excluded.articles, "
           "mentions = mentions + excluded.mentions, words = words + excluded.words;")
# A mention counts at three levels: (kind, concept, naming), (kind, concept), (kind).
_LEVELS = (("kind", "concept", "naming"), ("kind", "concept"), ("kind",))
_ARTICLE_COLUMNS = ("id", "source_id", "published_month", "lang", "word_count",
                    "extraction_status", "republication_of")


def _select(level: tuple[str, ...], t: str) -> str:
    return ", ".join([f"{t}.{c}" for c in level] + ["''"] * (3 - len(level)))


def _same(level: tuple[str, ...], x: str, y: str) -> str:
    return " AND ".join([f"{x}.article_id = {y}.article_id"]
                        + [f"{x}.{c} = {y}.{c}" for c in level[1:] or level])


def framing_counts_sql() -> str:
    """Every framing_counts row recomputed from articles, story roles and mentions."""
    fa = (f"SELECT a.id, coalesce(a.source_id, '') AS s, coalesce(a.published_month, '') AS mo, "
          f"coalesce(a.lang, '') AS l, coalesce(a.word_count, 0) AS w FROM articles a "
          f"WHERE {_INDEPENDENT.format(a='a')}")
    parts = ["SELECT '', '', '', s, mo, l, count(*), 0, sum(w) FROM fa GROUP BY s, mo, l"]
    for level in _LEVELS:
        group = ", ".join(f"m.{c}" for c in level)
        parts.append(f"SELECT {_select(level, 'm')}, s, mo, l, count(DISTINCT m.article_id), "
                     f"sum(m.n), 0 FROM mentions m JOIN fa ON fa.id = m.article_id "
                     f"GROUP BY {group}, s, mo, l")
    return f"WITH fa AS ({fa}) " + " UNION ALL ".join(parts)


def _article_delta(sign: int, src: str, where: str) -> str:
    """Add (+1) or take away (-1) one article's whole contribution; `src` names it `a`."""
    parts = [f"SELECT '', '', '', {_KEY}, {sign}, 0, {sign} * coalesce(a.word_count, 0) "
             f"FROM {src} WHERE {where}"]
    for level in _LEVELS:
        parts.append(f"SELECT {_select(level, 'm')}, {_KEY}, {sign}, {sign} * sum(m.n), 0 "
                     f"FROM {src}, mentions m WHERE m.article_id = a.id AND {where} "
                     f"GROUP BY {', '.join(f'm.{c}' for c in level)}")
    return _INTO + " UNION ALL ".join(parts) + _UPSERT


def _mention_delta(row: str, sign: int, others: str, kept: str | None = None) -> str:
    """Add or take away one mention row: its n at every level, and its article at a level
    where no other row (`others`) speaks for it; `kept` = the other row image of an UPDATE,
    whose unchanged levels keep their article."""
    parts = []
    for level in _LEVELS:
        alone = (f"NOT EXISTS (SELECT 1 FROM mentions o WHERE {_same(level, 'o', row)} "
                 f"AND {others})")
        if kept:
            alone += f" AND NOT ({_same(level, row, kept)})"
        parts.append(f"SELECT {_select(level, row)}, {_KEY}, {sign} * ({alone}), "
                     f"{sign} * {row}.n, 0 FROM articles a WHERE a.id = {row}.article_id "
                     f"AND {_INDEPENDENT.format(a='a')}")
    return _INTO + " UNION ALL ".join(parts) + _UPSERT


def _image(ref: str) -> str:
    """NEW or OLD of an articles row as a one-row table named `a`."""
    return "(SELECT " + ", ".join(f"{ref}.{c} AS {c}" for c in _ARTICLE_COLUMNS) + ") a"


def framing_counts_triggers() -> dict[str, str]:
    """The triggers keeping framing_counts equal to framing_counts_sql() after any write."""
    indep = _INDEPENDENT.format(a="a")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _ARTICLE_COLUMNS)
    old_dep, new_dep = _DEPENDENT.format(r="OLD"), _DEPENDENT.format(r="NEW")
    same_story = "OLD.article_id = NEW.article_id"
    return {
        "framing_counts_ai": f"AFTER INSERT ON articles BEGIN "
                             f"{_article_delta(1, _image('NEW'), indep)} END",
        "framing_counts_ad": f"AFTER DELETE ON articles BEGIN "
                             f"{_article_delta(-1, _image('OLD'), indep)} END",
        "framing_counts_au": f"AFTER UPDATE OF {', '.join(_ARTICLE_COLUMNS)} ON articles "
                             f"WHEN {changed} BEGIN {_article_delta(-1, _image('OLD'), indep)} "
                             f"{_article_delta(1, _image('NEW'), indep)} END",
        "framing_counts_mi": f"AFTER INSERT ON mentions BEGIN "
                             f"{_mention_delta('NEW', 1, 'o.rowid != NEW.rowid')} END",
        "framing_counts_md": f"AFTER DELETE ON mentions BEGIN "
                             f"{_mention_delta('OLD', -1, '1')} END",
        "framing_counts_mu": f"AFTER UPDATE ON mentions BEGIN "
                             f"{_mention_delta('OLD', -1, 'o.rowid != NEW.rowid', 'NEW')} "
                             f"{_mention_delta('NEW', 1, 'o.rowid != NEW.rowid', 'OLD')} END",
        # A copy's story role is what changes its independence, so it is judged here.
        "framing_counts_si": f"AFTER INSERT ON story_articles WHEN {new_dep} BEGIN "
                             f"{_article_delta(-1, 'articles a', f'a.id = NEW.article_id AND {_UNROLED}')} END",
        "framing_counts_sd": f"AFTER DELETE ON story_articles WHEN {old_dep} BEGIN "
                             f"{_article_delta(1, 'articles a', f'a.id = OLD.article_id AND {_UNROLED}')} END",
        "framing_counts_su": f"AFTER UPDATE OF article_id, role ON story_articles BEGIN "
                             f"{_article_delta(1, 'articles a', f'a.id = OLD.article_id AND {_UNROLED} AND {old_dep} AND NOT ({same_story} AND {new_dep})')} "
                             f"{_article_delta(-1, 'articles a', f'a.id = NEW.article_id AND {_UNROLED} AND {new_dep} AND NOT ({same_story} AND {old_dep})')} END",
    }


# The 0003 views, same columns and rows, added up from framing_counts.
_OUTLET_MONTH_COUNTS = """
  SELECT nullif(source_id, '') AS source_id, nullif(month, '') AS month, sum(words) AS words,
         sum(articles) AS articles
  FROM framing_counts WHERE kind = '' AND articles > 0 GROUP BY 1, 2
"""
_VIEWS_0005 = {
    "naming_share": _NAMING_SHARE.split("), t AS (")[0].split("WITH m AS (")[0] + """WITH m AS (
  SELECT nullif(source_id, '') AS source_id, nullif(month, '') AS month, concept, naming,
         sum(mentions) AS mentions, sum(articles) AS articles
  FROM framing_counts WHERE kind = 'naming' AND naming != '' AND articles > 0
  GROUP BY 1, 2, 3, 4
), t AS (""" + _NAMING_SHARE.split("), t AS (")[1],
    "naming_rate": _NAMING_RATE.split("WITH w AS (")[0] + f"""WITH w AS ({_OUTLET_MONTH_COUNTS}), m AS (
  SELECT nullif(source_id, '') AS source_id, nullif(month, '') AS month, kind, concept, naming,
         sum(mentions) AS mentions
  FROM framing_counts WHERE kind != '' AND naming != '' AND articles > 0 GROUP BY 1, 2, 3, 4, 5
)""" + _NAMING_RATE.split("GROUP BY fa.source_id, fa.month, m.kind, m.concept, m.naming\n)")[1],
    "attention": _ATTENTION.split("WITH w AS (")[0] + f"""WITH w AS ({_OUTLET_MONTH_COUNTS}), c AS (
  SELECT nullif(source_id, '') AS source_id, nullif(month, '') AS month, kind, concept,
         sum(articles) AS matching
  FROM framing_counts WHERE kind != '' AND concept != '' AND naming = '' AND articles > 0
  GROUP BY 1, 2, 3, 4
)""" + _ATTENTION.split("GROUP BY fa.source_id, fa.month, m.kind, m.concept\n)")[1],
}
_INDEXES_0005 = (
    # facets of the articles table (Datasette counts them over every article)
    "CREATE INDEX articles_lang ON articles(lang)",
    "CREATE INDEX articles_month ON articles(published_month)",
    "CREATE INDEX articles_kind ON articles(source_kind)",
    "CREATE INDEX articles_status ON articles(extraction_status)",
    # the article page: the same story elsewhere (reprints, originals, identical texts)
    "CREATE INDEX articles_url ON articles(url)",
    "CREATE INDEX articles_canonical ON articles(canonical_url)",
    "CREATE INDEX articles_republication ON articles(republication_of) "
    "WHERE republication_of IS NOT NULL",
    "CREATE INDEX articles_fingerprint ON articles(fingerprint)",
    # framing_articles (KWIC, stories) without reading the article row; unique (like the
    # primary key it extends) so the planner prefers it for lookups by id
    "CREATE UNIQUE INDEX articles_framing ON articles(id, extraction_status, republication_of, "
    "source_id, published_month, lang, word_count, on_topic, published)",
    # /outlets, /outlet/<id> and /charts: counts per outlet, month and topic from indexes
    "CREATE INDEX articles_source_month ON articles(source_id, published_month, on_topic)",
    "DROP INDEX articles_on_topic",  # (on_topic, published): superseded by the next one
    "CREATE INDEX articles_topic_source ON articles(on_topic, published, source_id)",
    "CREATE INDEX pages_source_outcome ON pages(source_id, outcome, last_fetched_at)",
    # the failure canned queries
    "CREATE INDEX pages_outcome ON pages(outcome, last_fetched_at)",
)


# An article's language, outlet and on_topic flag as FTS tokens (crawler/search.py makes
# the same ones for a query), so /search filters and counts in the index alone instead of
# reading each match's row: `mwlang656e mwsrc74617373 mwtopic1` (hex: any id is one token).
SEARCH_META = ("'mwlang' || lower(hex(coalesce(lang, ''))) || ' mwsrc' || "
               "lower(hex(coalesce(source_id, ''))) || ' mwtopic' || coalesce(on_topic, '')")


@migrations(name="0005_search_scale")
def m0005_search_scale(db: Database) -> None:
    """search_meta in the FTS index; indexes for the search, article, facet and framing
    pages; framing_counts and its triggers."""
    articles = db.table("articles")
    articles.disable_fts()
    db.execute(f"ALTER TABLE articles ADD COLUMN search_meta TEXT "
               f"GENERATED ALWAYS AS ({SEARCH_META}) VIRTUAL")
    articles.enable_fts(["search_title", "search_text", "search_meta"], create_triggers=True,
                        tokenize=FTS_TOKENIZE, replace=True)
    for ddl in _INDEXES_0005:
        db.execute(ddl)
    db.execute("""CREATE TABLE framing_counts (
        kind TEXT NOT NULL,                  -- naming | frame; '' = the outlet's own totals
        concept TEXT NOT NULL,               -- '' = every concept of the kind
        naming TEXT NOT NULL,                -- '' = every naming of the concept
        source_id TEXT NOT NULL,
        month TEXT NOT NULL,                 -- published_month; '' = unknown
        lang TEXT NOT NULL,                  -- '' = unknown
        articles INTEGER NOT NULL,           -- independent articles (distinct)
        mentions INTEGER NOT NULL,           -- sum of mentions.n
        words INTEGER NOT NULL,              -- sum of word_count (outlet totals)
        PRIMARY KEY (kind, concept, naming, source_id, month, lang)) WITHOUT ROWID""")
    db.execute(f"INSERT INTO framing_counts {framing_counts_sql()}")
    for name, body in framing_counts_triggers().items():
        db.execute(f"CREATE TRIGGER {name} {body}")
    for name, ddl in _VIEWS_0005.items():
        db.execute(f"DROP VIEW {name}")
        db.execute(ddl)


# -- 0006: which normalisation built each row's search columns -------------------------------

# The normalisation that built every search_title/search_text before this migration existed
# (crawler/search/columns.py SEARCH_VERSION at the time). Frozen here: later versions of the
# application may change the normaliser, never what this migration wrote.
_SEARCH_VERSION_0006 = "search 1 / normalize 1"


@migrations(name="0006_search_version")
def m0006_search_version(db: Database) -> None:
    """articles.search_version stamps the normaliser behind each row's search columns, and
    archive_meta remembers the version the whole archive was last indexed with, so a writer
    that ships a new normaliser re-indexes the stale rows once (never a silent split)."""
    db.execute("CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT)")
    if "search_version" not in db.table("articles").columns_dict:
        db.execute("ALTER TABLE articles ADD COLUMN search_version TEXT")
    # Stamping every row must not re-index it: set the stamp with the FTS update trigger
    # lifted, then put the very same trigger back.
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                          "AND tbl_name = 'articles' AND name LIKE '%\\_au' ESCAPE '\\'").fetchall()
    for name, _sql in triggers:
        db.execute(f"DROP TRIGGER [{name}]")
    db.execute("UPDATE articles SET search_version = ? WHERE search_title IS NOT NULL",
               [_SEARCH_VERSION_0006])
    for _name, sql in triggers:
        db.execute(sql)
    db.execute("CREATE INDEX IF NOT EXISTS articles_search_version ON articles(search_version)")
    # Rows a pre-0002 archive never indexed stay unstamped: no archive-wide stamp until the
    # archive (crawler.archive.core.Archive.reindex_search) has indexed them.
    if db.execute("SELECT 1 FROM articles WHERE search_version IS NULL LIMIT 1").fetchone() \
            is None:
        db.execute("INSERT OR REPLACE INTO archive_meta (key, value) "
                   "VALUES ('search_version', ?)", [_SEARCH_VERSION_0006])


@migrations(name="0007_article_fields")
def m0007_article_fields(db: Database) -> None:
    """The raw <title> beside the headline, the authors as a JSON list, and how much of the
    article the page held (access: open, paywalled, teaser); old rows were read as open."""
    have = {row[1] for row in db.execute("PRAGMA table_info(articles)").fetchall()}
    for column, ddl in (
        ("page_title", "page_title TEXT"),                       # <title> as the page has it
        ("authors", "authors TEXT"),                             # JSON list of names
        ("access", "access TEXT NOT NULL DEFAULT 'open'"),       # open | paywalled | teaser
    ):
        if column not in have:
            db.execute(f"ALTER TABLE articles ADD COLUMN {ddl}")
    # Counts and searches that keep or leave out paywalled teasers filter on access.
    db.execute("CREATE INDEX IF NOT EXISTS articles_access ON articles(access, source_id, published)")


@migrations(name="0008_probes")
def m0008_probes(db: Database) -> None:
    """probes: the last `mediawatch sources probe --write` verdict per outlet."""
    db.execute("""CREATE TABLE IF NOT EXISTS probes (
        source_id TEXT PRIMARY KEY,          -- no foreign key: an outlet may be probed first
        probed_at TEXT NOT NULL,             -- ISO 8601 UTC
        ok INTEGER NOT NULL,                 -- 1: every endpoint answered as the registry says
        endpoints INTEGER NOT NULL,
        problems INTEGER NOT NULL,           -- endpoints with a problem
        summary TEXT,                        -- the first problem, in plain words
        report TEXT NOT NULL                 -- JSON array: the endpoint rows of --json
    )""")


# -- 0009: the evidence of each copy decision, and what incremental story builds reuse -----

_STORY_EVIDENCE = (
    ("copy_basis", "TEXT"),         # canonical | text | aligned (copies only)
    ("containment", "REAL"),        # share of this text's shingles found in the original
    ("containment_other", "REAL"),  # share of the original's shingles found in this text
    ("shared_shingles", "INTEGER"),  # unquoted word 5-grams in common
    ("aligned", "INTEGER"),         # facts (or words) in one ordered chain
    ("coverage", "REAL"),           # their weight / the poorer text's
    ("align_order", "REAL"),        # chain / shared mentions of the shorter text
    ("anchors", "TEXT"),            # JSON: names, numbers, dates, concepts both state
    ("canonical_url", "TEXT"),      # the declared canonical link, when that was the evidence
)


@migrations(name="0009_story_evidence")
def m0009_story_evidence(db: Database) -> None:
    """Why each copy is a copy (story_articles), the stories' code version, the MinHash
    signatures, rare keys and vocabulary an incremental story build reads instead of text,
    and the stop words and per-group minimums of distinctive-vocabulary runs."""
    links = db.table("story_articles")
    have = set(links.columns_dict)
    for column, kind in _STORY_EVIDENCE:
        if column not in have:
            db.execute(f"ALTER TABLE story_articles ADD COLUMN {column} {kind}")
    if "code_version" not in db.table("stories").columns_dict:
        db.execute("ALTER TABLE stories ADD COLUMN code_version TEXT")
    db.execute("""CREATE TABLE IF NOT EXISTS story_sketches (
        article_id TEXT PRIMARY KEY,
        published TEXT,                  -- as in articles (ordering and windows)
        lang TEXT,
        minhash BLOB,                    -- 64 x 4-byte MinHash of the unquoted 5-grams
        story_keys TEXT,                 -- rare stems and anchors (same-story candidates)
        copy_keys TEXT                   -- rare anchors (translation candidates)
    )""")
    db.execute("CREATE INDEX IF NOT EXISTS story_sketches_published "
               "ON story_sketches(published)")
    db.execute("""CREATE TABLE IF NOT EXISTS story_vocab (
        key TEXT PRIMARY KEY,            -- "lang:stem" or an anchor ("p:ptn", "n:124", ...)
        df INTEGER NOT NULL              -- articles with the key (estimated from a sample)
    )""")
    db.execute("INSERT OR IGNORE INTO framing_settings VALUES ('stories_vocab_n', NULL, "
               "'articles the story vocabulary (story_vocab) was counted over')")
    # Distinctive-vocabulary runs: stop words and the per-group minimums they were made with,
    # and in how many articles of each group a term occurs.
    for table, columns in (("fw_runs", (("min_docs", "INTEGER"), ("stopwords", "TEXT"))),
                           ("fw_terms", (("docs_a", "INTEGER"), ("docs_b", "INTEGER")))):
        have = set(db.table(table).columns_dict)
        for column, kind in columns:
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


# -- 0010: the researcher's workbench (issue 16): attention over time, saved searches ----------
#
# /-/attention counts, per day, outlet and language, every dated article of a range and
# those that match each query. `article_days` is one small row per article, keyed by
# the article's rowid (the FTS index's rowid): its day of publication, outlet, language,
# topic flag and whether it is an independent article (no republication or translation:
# the rule of the framing_articles view), kept current by triggers on articles and
# story_articles. Its day index streams the per-day groups of a range without a sort, and
# an FTS match's rowids are looked up in it (a few dozen bytes a row instead of an article
# row). `first_seen_at` serves the front page's "collected in the last 30 days". Saved
# searches (`watches`) and what each has already notified (`watch_hits`).

_DAY_INDEPENDENT = ("({a}.republication_of IS NULL AND NOT EXISTS (SELECT 1 FROM story_articles "
                    "sa WHERE sa.article_id = {a}.id AND sa.role IN ('republication', "
                    "'translation')))")
_DAY_ROW = ("SELECT {a}.rowid, coalesce(substr({a}.published, 1, 10), ''), {a}.source_id, "
            "{a}.lang, {a}.on_topic, {a}.access, " + _DAY_INDEPENDENT)


def article_days_sql() -> str:
    """The backfill of article_days from articles (also used by bench/scale_build.py)."""
    return ("INSERT INTO article_days (article_rowid, day, source_id, lang, on_topic, access, "
            f"independent) {_DAY_ROW.format(a='a')} FROM articles a INDEXED BY articles_framing")


def _day_refresh(article_id: str) -> str:
    return ("UPDATE article_days SET independent = (SELECT "
            f"{_DAY_INDEPENDENT.format(a='a')} FROM articles a WHERE a.id = {article_id}) "
            f"WHERE article_rowid = (SELECT rowid FROM articles WHERE id = {article_id});")


def article_days_triggers() -> dict[str, str]:
    """Triggers that keep article_days equal to article_days_sql() over the articles."""
    new = (f"INSERT OR REPLACE INTO article_days (article_rowid, day, source_id, lang, on_topic, "
           f"access, independent) VALUES (NEW.rowid, coalesce(substr(NEW.published, 1, 10), ''), "
           f"NEW.source_id, NEW.lang, NEW.on_topic, NEW.access, "
           f"{_DAY_INDEPENDENT.format(a='NEW')});")
    return {
        "article_days_ai": f"AFTER INSERT ON articles BEGIN {new} END",
        "article_days_ad": "AFTER DELETE ON articles BEGIN "
                           "DELETE FROM article_days WHERE article_rowid = OLD.rowid; END",
        "article_days_au": "AFTER UPDATE OF id, published, source_id, lang, on_topic, access, "
                           "republication_of ON articles BEGIN "
                           f"DELETE FROM article_days WHERE article_rowid = OLD.rowid; {new} END",
        "article_days_si": f"AFTER INSERT ON story_articles BEGIN "
                           f"{_day_refresh('NEW.article_id')} END",
        "article_days_sd": f"AFTER DELETE ON story_articles BEGIN "
                           f"{_day_refresh('OLD.article_id')} END",
        "article_days_su": f"AFTER UPDATE OF article_id, role ON story_articles BEGIN "
                           f"{_day_refresh('OLD.article_id')} {_day_refresh('NEW.article_id')} END",
    }


@migrations(name="0010_watches")
def m0010_watches(db: Database) -> None:
    """Saved searches and their notified matches; article_days and the indexes for the
    attention and front pages."""
    db.execute("""CREATE TABLE IF NOT EXISTS watches (
        name TEXT PRIMARY KEY,               -- [A-Za-z0-9_-], the feed is /-/watch/<name>.atom
        query TEXT NOT NULL,                 -- as typed; expanded like /search at every use
        literal INTEGER NOT NULL DEFAULT 0,  -- 1: no aliases, no word endings (/search literal=1)
        langs TEXT NOT NULL DEFAULT '[]',    -- JSON list of languages ([] = any)
        sources TEXT NOT NULL DEFAULT '[]',  -- JSON list of outlet ids ([] = any)
        on_topic INTEGER NOT NULL DEFAULT 0, -- 1: on-topic articles only
        created_at TEXT NOT NULL,
        seen_rowid INTEGER NOT NULL DEFAULT 0,  -- articles up to this rowid were already checked
        checked_at TEXT,                     -- last check after a crawl run
        last_run_id INTEGER)""")
    db.execute("""CREATE TABLE IF NOT EXISTS watch_hits (
        watch TEXT NOT NULL REFERENCES watches(name) ON DELETE CASCADE,
        article_id TEXT NOT NULL,
        run_id INTEGER,                      -- the crawl run after which it was notified
        matched_at TEXT NOT NULL,
        delivered TEXT,                      -- JSON list of the channels that took the event
        PRIMARY KEY (watch, article_id))""")
    if "article_days" not in db.table_names():
        db.execute("""CREATE TABLE article_days (
            article_rowid INTEGER PRIMARY KEY,   -- articles.rowid (= articles_fts.rowid)
            day TEXT NOT NULL,                   -- substr(published, 1, 10); '' = undated
            source_id TEXT,
            lang TEXT,
            on_topic INTEGER,
            access TEXT NOT NULL DEFAULT 'open', -- open | paywalled | teaser (articles.access)
            independent INTEGER NOT NULL)        -- 0: a republication or translation""")
        db.execute(article_days_sql())
    db.execute("CREATE INDEX IF NOT EXISTS article_days_day ON article_days(day, source_id, "
               "lang, on_topic, independent, access)")
    existing = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for name, body in article_days_triggers().items():
        if name not in existing:
            db.execute(f"CREATE TRIGGER {name} {body}")
    db.execute("CREATE INDEX IF NOT EXISTS articles_first_seen ON articles(first_seen_at, lang, "
               "source_id)")


@migrations(name="0011_backfill")
def m0011_backfill(db: Database) -> None:
    """Backfills from Common Crawl News: each WARC file's state, and where each imported
    capture came from (file, offset, length in the original WARC)."""
    db.execute("""CREATE TABLE IF NOT EXISTS backfill_files (
        file TEXT NOT NULL,                  -- path under the base URL, e.g. crawl-data/CC-NEWS/...
        sources TEXT NOT NULL,               -- the outlets filtered for: sorted ids, comma-separated
        month TEXT NOT NULL,                 -- YYYY-MM of the listing it came from
        state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
        reason TEXT,                         -- why it failed
        attempts INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER,                       -- compressed bytes read
        records_seen INTEGER,
        records_matched INTEGER,             -- responses of the outlets' hosts
        articles_new INTEGER,
        articles_updated INTEGER,
        stored INTEGER,                      -- captures stored (pages rows new or seen again)
        out_of_window INTEGER,               -- page date outside the requested months
        dropped INTEGER,                     -- not stored: --strict-dates
        malformed INTEGER,
        run_id INTEGER,                      -- the crawl_runs row of the backfill that ran it
        started_at TEXT,
        finished_at TEXT,
        PRIMARY KEY (file, sources))""")
    db.execute("CREATE INDEX IF NOT EXISTS backfill_files_state ON backfill_files(state, month)")
    db.execute("""CREATE TABLE IF NOT EXISTS capture_origins (
        file TEXT NOT NULL,                  -- the original WARC (CC path, or the imported file)
        record_offset INTEGER NOT NULL,      -- byte offset of the response record in it
        record_length INTEGER,               -- the record's length (compressed, as stored)
        page_id INTEGER REFERENCES pages(id),
        article_id TEXT,
        via TEXT NOT NULL,                   -- ccnews | warc-import
        record_date TEXT,                    -- the record's WARC-Date
        url TEXT,
        PRIMARY KEY (file, record_offset))""")
    db.execute("CREATE INDEX IF NOT EXISTS capture_origins_page ON capture_origins(page_id)")


@migrations(name="0012_fts_triggers")
def m0012_fts_triggers(db: Database) -> None:
    """Re-index an article in articles_fts only when an indexed column changes.

    sqlite-utils' update trigger deletes and re-inserts the FTS row on every UPDATE, so a
    re-check that only moves `fetched_at` rewrote the index entries of the whole text. The
    trigger now compares old and new values of every column articles_fts indexes (read from
    the FTS table itself, so it follows whatever columns earlier migrations indexed;
    search_meta is generated from lang, source_id and on_topic and is compared as it is).
    """
    if not db["articles_fts"].exists():
        return
    columns = [c.name for c in db["articles_fts"].columns]
    quoted = [f'"{c}"' for c in columns]
    changed = " OR ".join(f"old.{q} IS NOT new.{q}" for q in ("rowid", *quoted))
    old = ", ".join(f"old.{q}" for q in quoted)
    new = ", ".join(f"new.{q}" for q in quoted)
    names = ", ".join(quoted)
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute(
        f'CREATE TRIGGER "articles_au" AFTER UPDATE ON "articles" WHEN {changed} BEGIN\n'
        f'  INSERT INTO "articles_fts" ("articles_fts", rowid, {names}) '
        f"VALUES('delete', old.rowid, {old});\n"
        f'  INSERT INTO "articles_fts" (rowid, {names}) VALUES (new.rowid, {new});\n'
        "END")


@migrations(name="0013_story_changes")
def m0013_story_changes(db: Database) -> None:
    """Queue the articles a story update must look at, as they are written.

    Finding them by comparing articles with story_articles read every row of both tables
    (about 20 s at a million articles, before any clustering). The triggers record an id
    when an article arrives, leaves, or changes a column clustering reads; a story build
    takes the ids it handled off the queue. Archives built before this migration have an
    empty queue and no `stories_changes` setting: their next update compares the tables
    once, as before.
    """
    db.execute("CREATE TABLE IF NOT EXISTS story_changes (\n"
               "        article_id TEXT PRIMARY KEY  -- written since the last story build\n"
               "    )")
    watched = ("id", "extraction_status", "published", "title", "text", "lang",
               "republication_of")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    for sql in (
        "CREATE TRIGGER IF NOT EXISTS story_changes_ai AFTER INSERT ON articles BEGIN "
        "INSERT OR IGNORE INTO story_changes (article_id) VALUES (NEW.id); END",
        f"CREATE TRIGGER IF NOT EXISTS story_changes_au AFTER UPDATE ON articles WHEN {changed} "
        "BEGIN INSERT OR IGNORE INTO story_changes (article_id) VALUES (OLD.id); "
        "INSERT OR IGNORE INTO story_changes (article_id) VALUES (NEW.id); END",
        "CREATE TRIGGER IF NOT EXISTS story_changes_ad AFTER DELETE ON articles BEGIN "
        "INSERT OR IGNORE INTO story_changes (article_id) VALUES (OLD.id); END",
    ):
        db.execute(sql)
    # An update keeps `original` roles right without re-clustering far originals: it asks
    # whether anything still copies them.
    db.execute("CREATE INDEX IF NOT EXISTS story_articles_copy_of ON story_articles(copy_of)")


@migrations(name="0014_story_features")
def m0014_story_features(db: Database) -> None:
    """Story features computed by the extraction workers, queued with the article's id.

    A worker has each article's text in hand while the crawl waits on the network; the
    story build after the crawl then reads these instead of featurizing every new text
    again (crawler.framing.featblob), and drops them with the queue entry. `features_key`
    says what they were computed from (text, title, language, lexicon, feature code): a
    build uses them only when it matches the article as stored.
    """
    columns = {c[1] for c in db.execute("PRAGMA table_info(story_changes)")}
    if "features" not in columns:
        db.execute("ALTER TABLE story_changes ADD COLUMN features BLOB")
    if "features_key" not in columns:
        db.execute("ALTER TABLE story_changes ADD COLUMN features_key TEXT")


@migrations(name="0015_story_feature_cache")
def m0015_story_feature_cache(db: Database) -> None:
    """Story features of the newest articles, kept after the build that used them.

    A story update compares each new article with the stored ones its indexes propose,
    which are mostly recent (a copy comes within the copy window of its original), and
    featurizing those again cost most of an update at a million articles. Builds keep the
    features of the articles within the copy window of the newest one here (about 4 KB an
    article; older rows are deleted at each build), in the format of the story queue
    (crawler.framing.featblob); `features_key` says what they were computed from.
    """
    db.execute("CREATE TABLE IF NOT EXISTS story_features (\n"
               "        article_id TEXT PRIMARY KEY,\n"
               "        published TEXT,  -- the article's date when its features were kept\n"
               "        features_key TEXT NOT NULL,\n"
               "        features BLOB NOT NULL\n"
               "    )")
    db.execute("CREATE INDEX IF NOT EXISTS story_features_published "
               "ON story_features(published)")


@migrations(name="0016_stories_by_date")
def m0016_stories_by_date(db: Database) -> None:
    """Stories in date order for the stories page: one page of the newest at a time.

    `/-/framing/stories` listed every story in one page, sorted on the fly: at a million
    articles, hundreds of thousands of rows past Datasette's time limit. It now reads a page
    at a time backwards along this index (first_published, then id for a stable order).
    """
    db.execute("CREATE INDEX IF NOT EXISTS stories_first_published "
               "ON stories(first_published, id)")


@migrations(name="0017_changes_by_date")
def m0017_changes_by_date(db: Database) -> None:
    """What outlets changed or took down, newest first, for the /-/changes page.

    Edits are article_versions past the first; removals are articles with `removed_at`. Both
    are few beside the archive, and the page reads the newest along these partial indexes
    instead of sorting every version (whose rows hold whole texts) or every article.
    """
    db.execute("CREATE INDEX IF NOT EXISTS article_versions_edits "
               "ON article_versions(fetched_at) WHERE version > 1")
    db.execute("CREATE INDEX IF NOT EXISTS articles_removed "
               "ON articles(removed_at) WHERE removed_at IS NOT NULL")
