"""Scrapy settings: polite defaults. Our own keys start with MEDIAWATCH_.

Per-outlet delay and concurrency come from the registry (DOWNLOAD_SLOTS is built
from it by crawler.runner); these are the defaults for everything else.
"""

from scrapy.settings import default_settings as _defaults

from crawler import __version__
from crawler.ingest.budget import PAGE_CPU_SECONDS

BOT_NAME = "mediawatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where a site's operator can reach whoever runs this crawler. The placeholder names the
# project, not you: set yours with MEDIAWATCH_CONTACT=https://... (or mailto:...) in the
# crawler's environment, or -s MEDIAWATCH_CONTACT=...; `sources check` warns until you do.
CONTACT_PLACEHOLDER = "https://github.com/mediawatch-archive/mediawatch"
MEDIAWATCH_CONTACT = CONTACT_PLACEHOLDER


def user_agent(contact: str) -> str:
    """The User-Agent header that carries the operator's contact URL."""
    return f"mediawatch/{__version__} (+{contact}; research archive of news coverage)"


USER_AGENT = user_agent(MEDIAWATCH_CONTACT)
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "mediawatch"

# Politeness: a slot per outlet (see crawler.runner), modest global parallelism.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50%, as browsers-free crawlers usually do
AUTOTHROTTLE_ENABLED = False

# Hostile servers must cost seconds, not minutes.
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 1
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
# No code-execution consoles in a scheduled crawler: Scrapy's telnet console, and the HTTP
# "remote control" server (Scrapy >= 2.19) that runs Python sent to it, with its token in a
# job file under the user's home. A crawl reports through crawl_runs and `mediawatch status`.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Out of Scrapy's base lists, not set to None: Scrapy imports every component its lists name,
# None or not, and the remote control's module loads aiohttp, the cookies middleware's
# tldextract and requests (0.15 s of every crawl's start-up for two features it turns off).
EXTENSIONS_BASE = {k: v for k, v in _defaults.EXTENSIONS_BASE.items()
                   if k != "scrapy.extensions.remote_control.RemoteControl"}
DOWNLOADER_MIDDLEWARES_BASE = {k: v for k, v in _defaults.DOWNLOADER_MIDDLEWARES_BASE.items()
                               if k != "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}
# Outputs of one callback processed at once. Scrapy (asyncio) starts this many tasks for every
# response, and an article response yields one item: 100 (its default) cost the crawl's main
# process about 1.4 ms of CPU an article in task set-up (paired bench crawls, 11.8 -> 10.0 s).
CONCURRENT_ITEMS = 8
DNS_TIMEOUT = 20
# An outlet's slot holds to its concurrency with no delay too, and keeps a connection alive
# for every request it may have in flight (crawler.downloader says why).
DOWNLOADER = "crawler.downloader.OutletDownloader"
DOWNLOAD_HANDLERS = {"http": "crawler.downloader.OutletPoolHandler",
                     "https": "crawler.downloader.OutletPoolHandler"}

DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en,ru;q=0.9,hy;q=0.9,*;q=0.5",
}

DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100), so an off-outlet URL never triggers a robots.txt fetch.
    "crawler.middlewares.OutletGuardMiddleware": 40,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.FollowMetaRefreshMiddleware": 580,
    "crawler.middlewares.FollowRedirectMiddleware": 600,
    # Sees responses before RetryMiddleware (550), so a retry waits as long as asked.
    "crawler.middlewares.PolitenessMiddleware": 560,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 300,
    "crawler.pipelines.ArchivePipeline": 800,
}

# Our keys (set by the CLI; never read from the environment here).
MEDIAWATCH_DB = "archive.db"
MEDIAWATCH_SOURCES = "sources.toml"
MEDIAWATCH_SOURCE_IDS: list[str] = []  # empty: every enabled outlet
MEDIAWATCH_WARC_MAX_BYTES = 1_000_000_000  # raw captures rotate to a new WARC file past this
MEDIAWATCH_LOOPBACK_ONLY = False
MEDIAWATCH_LEXICON = None  # framing lexicon file; None = crawler/framing/lexicon.toml
MEDIAWATCH_PROBE_ARTICLES = 2  # `sources probe`: articles fetched and extracted per outlet
MEDIAWATCH_PROBE_URLS: list[str] = []  # `explain --fetch`: probe only these article URLs
MEDIAWATCH_EXTRACT_WORKERS = -1  # extraction processes; -1 = one per core, 0 = in-process
# CPU seconds a worker may spend on one page (0: no limit); over it, an extraction failure.
MEDIAWATCH_EXTRACT_CPU_SECONDS = PAGE_CPU_SECONDS
# The archive writer commits items in batches: after this many items (1 = each item alone)...
MEDIAWATCH_BATCH_ITEMS = 200
# ...or this many seconds after a batch began, whichever comes first; a killed crawl loses
# at most the open batch (those URLs are simply fetched again by the next crawl).
MEDIAWATCH_BATCH_SECONDS = 1.0
# Re-checks of known articles (new URLs are never capped by these).
MEDIAWATCH_CONDITIONAL_REQUESTS = True  # If-None-Match / If-Modified-Since from url_state
MEDIAWATCH_RECHECK_ALL = False  # `crawl --recheck`: every known article now
MEDIAWATCH_RECHECK_BUDGET = 1000  # re-checks per crawl, most overdue first; 0 = no cap
MEDIAWATCH_RECHECK_MAX_AGE_DAYS = 365  # articles older than this are never re-checked
# Due articles taken from the frontier per outlet at each idle moment: the rest stays in
# SQLite, so the crawler's memory does not grow with the frontier (issue 8).
MEDIAWATCH_FRONTIER_PAGE = 500
# Pagination traps (calendars, infinite scroll): stop a section here, and record it.
MEDIAWATCH_MAX_SECTION_PAGES = 100
# An outlet failing this many times in a row (no success between) is paused.
MEDIAWATCH_PAUSE_AFTER_FAILURES = 20
MEDIAWATCH_PAUSE_HOURS = 6
MEDIAWATCH_MAX_RETRY_AFTER = 600  # longer Retry-After: pause the outlet instead of waiting
# `mediawatch crawl` holds the archive's writer lock itself; the pipeline takes it over.
MEDIAWATCH_WRITER_LOCK_HELD = False

# Scheduled crawls (`crawl --due`, `mediawatch canaries`): set by the CLI.
MEDIAWATCH_DUE_ONLY = False  # fetch only due discovery documents, articles and canaries
MEDIAWATCH_CANARY_MODE = "off"  # off | due | only (canaries alone, `mediawatch canaries`)
MEDIAWATCH_CANARY_HOURS = 24  # how often each canary URL is re-fetched and re-extracted
MEDIAWATCH_PROGRESS_SECONDS = 0  # > 0: a progress line on stderr at most this often
# Health and alerts after every crawl run (crawler.ops.health, crawler.ops.alerts).
MEDIAWATCH_HEALTH = True
MEDIAWATCH_QUIET_HOURS = 24  # "went quiet": never before this much silence...
MEDIAWATCH_QUIET_FACTOR = 4  # ...nor before this many of the outlet's usual gaps
MEDIAWATCH_FAILURE_SHARE = 0.5  # "failure rate jumped": this share of a run's fetches failed
MEDIAWATCH_FAILURE_JUMP = 0.25  # ...and this far above the outlet's usual share
MEDIAWATCH_MIN_FETCHES = 3
MEDIAWATCH_NO_DATE_SHARE = 0.5  # "dates missing": share of the last 24 h's new articles
MEDIAWATCH_MIN_SAMPLE = 3
MEDIAWATCH_SHORT_WORDS = 50
MEDIAWATCH_SHORT_TEXT_SHARE = 0.5  # "text missing": share of the last 24 h's new articles
MEDIAWATCH_SHORT_TEXT_JUMP = 0.25  # with less text than that, and this far above the usual
MEDIAWATCH_CANARY_TOLERANCE = 0.5  # canary text length may move this much before an alert
MEDIAWATCH_LINK_BASE = "http://127.0.0.1:8001"  # the Datasette that alert links point to
MEDIAWATCH_ALERTS_JSONL = ""  # the CLI defaults it to <archive>-alerts.jsonl
MEDIAWATCH_ALERT_WEBHOOK = ""  # POST each alert event as JSON here
MEDIAWATCH_SMTP_HOST = ""  # and e-mail a digest of a run's events through this server
MEDIAWATCH_SMTP_PORT = 25
MEDIAWATCH_SMTP_FROM = "mediawatch@localhost"
MEDIAWATCH_SMTP_TO: list[str] = []
MEDIAWATCH_SMTP_USER = ""
MEDIAWATCH_SMTP_PASSWORD = ""
MEDIAWATCH_SMTP_STARTTLS = False

# `crawl --redis URL` workers and `mediawatch archiver` (crawler.distributed; set by the CLI).
MEDIAWATCH_REDIS_URL = ""  # empty: a normal single-process crawl into MEDIAWATCH_DB
MEDIAWATCH_REDIS_PREFIX = "mediawatch"  # every key of one crawl cluster starts with this
MEDIAWATCH_WORKER_ID = ""  # the CLI fills in host-pid-random
MEDIAWATCH_REDIS_HEARTBEAT = 30  # s: a worker silent this long has its leases taken back
MEDIAWATCH_REDIS_IDLE_EXIT = 10  # s: an idle worker leaves after this, if nothing is queued
MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS = 24  # an article URL may be fetched again after this
MEDIAWATCH_REDIS_LOST_AFTER = 60  # s without heartbeat or run_finish: the archiver gives up on a run

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
