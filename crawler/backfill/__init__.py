"""History from Common Crawl News (CC-NEWS): list a month's WARC files, stream each one,
keep the records of the registry's outlets (filtered on WARC headers before anything is
decoded), extract them on every core and store them in the archive, resumably.

- `crawler.backfill.http`: the streaming download client (retries, back-off, resume by Range).
- `crawler.backfill.ccnews`: months, listings, which outlets' hosts are wanted.
- `crawler.backfill.pool`: extraction workers, results in input order.
- `crawler.backfill.driver`: one backfill run over the archive (`backfill_files` states).
"""
