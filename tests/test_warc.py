"""Raw captures as WARC: validity, revisits, export/import round trip, external files, reextract."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Crawl, crawl_web, query, run_mediawatch

from crawler.archive.core import warc_folder
from crawler.ingest.warcio_read import ImportReport, iter_exchanges

pytestmark = pytest.mark.e2e

WARCIO = str(Path(sys.executable).with_name("warcio"))
SAMPLES = Path(__file__).parent / "data" / "warc"


def test_crawl_writes_valid_warc_with_request_and_metadata(crawled: Crawl) -> None:
    files = sorted(warc_folder(crawled.db).glob("*.warc.gz"))
    assert files
    check = subprocess.run([WARCIO, "check", "-v", *map(str, files)], capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout[-2000:]
    index = subprocess.run([WARCIO, "index", "-f", "warc-type,warc-target-uri",
                            *map(str, files)], capture_output=True, text=True, check=True)
    types = [json.loads(line)["warc-type"] for line in index.stdout.splitlines()]
    captures = query(crawled.db, "select count(*) from pages where warc_file is not null")[0][0]
    assert types.count("response") == captures
    assert types.count("request") == types.count("response") + types.count("revisit")
    assert types.count("metadata") == types.count("request")
    # Every capture of a real response is locatable; failures without a response are not.
    assert query(crawled.db, "select count(*) from pages where status is not null "
                 "and warc_file is null")[0][0] == 0


def test_unchanged_recrawl_writes_revisits(crawled: Crawl, tmp_path: Path) -> None:
    work = tmp_path / "re"
    shutil.copytree(crawled.db.parent, work)
    earlier = query(work / "archive.db", "select sum(revisits) from pages")[0][0]
    # A server that ignores validators answers 200 with the same bytes: a revisit, not a copy.
    again = crawl_web(crawled.web, work, "--recheck", "-s", "MEDIAWATCH_CONDITIONAL_REQUESTS=0")
    assert again.result.returncode == 0, again.result.stderr[-2000:]
    revisits = query(again.db, "select sum(revisits) from pages")[0][0] - earlier
    assert revisits >= 20
    newest = max(warc_folder(again.db).glob("*.warc.gz"), key=lambda p: p.stat().st_mtime)
    index = subprocess.run([WARCIO, "index", "-f", "warc-type,warc-profile", str(newest)],
                           capture_output=True, text=True, check=True)
    records = [json.loads(line) for line in index.stdout.splitlines()]
    revisit = [r for r in records if r["warc-type"] == "revisit"]
    assert len(revisit) == revisits
    assert all(r["warc-profile"].endswith("identical-payload-digest") for r in revisit)
    assert not [r for r in records if r["warc-type"] == "response"]


def test_export_then_import_round_trips(crawled: Crawl, tmp_path: Path) -> None:
    out = tmp_path / "export" / "all.warc.gz"
    done = run_mediawatch("warc", "export", "--db", str(crawled.db), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "captures" in done.stdout
    check = subprocess.run([WARCIO, "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    cdxj = out.with_name(out.name + ".cdxj").read_text().splitlines()
    assert cdxj and all(re.match(r"^\S+\) ?\S* \d{14} \{", line) or re.match(r"^\S+ \d{14} \{",
                                                                               line)
                        for line in cdxj)
    fresh = tmp_path / "fresh" / "archive.db"
    done = run_mediawatch("warc", "import", str(out), "--db", str(fresh),
                          "--sources", str(crawled.sources))
    assert done.returncode == 0, done.stderr
    assert "0 malformed" in done.stdout
    cols = "id, url, title, author, published, published_source, lang, fingerprint, on_topic"
    original = query(crawled.db, f"select {cols} from articles order by id")
    imported = query(fresh, f"select {cols} from articles order by id")
    assert imported == original
    dates = "select article_id, kind, value, source from article_dates order by 1, 2, 3, 4"
    assert query(fresh, dates) == query(crawled.db, dates)
    # `explain` names the file an imported article's capture came from.
    said = run_mediawatch("explain", imported[0][1], "--sources", str(crawled.sources),
                          "--db", str(fresh))
    assert said.returncode == 0 and f"imported captured by warc-import from {out}" in \
        said.stdout, said.stdout


def test_export_selects_by_outlet_and_date(crawled: Crawl, tmp_path: Path) -> None:
    out = tmp_path / "tms.warc.gz"
    done = run_mediawatch("warc", "export", "--db", str(crawled.db), "--source", "tms",
                          "--out", str(out))
    assert done.returncode == 0, done.stderr
    urls = [json.loads(line.split(" ", 2)[2])["url"] for line in
            out.with_name(out.name + ".cdxj").read_text().splitlines()]
    tms = crawled.web.base_urls["tms"]
    assert urls and all(u.startswith(tms) for u in urls)
    future = tmp_path / "none.warc.gz"
    done = run_mediawatch("warc", "export", "--db", str(crawled.db), "--since", "2999-01-01",
                          "--out", str(future))
    assert done.returncode == 0 and " 0 captures" in done.stdout


SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.name != "MANIFEST.tsv")
MALFORMED = {"warcio-example-trunc.warc"}


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_file_reads_without_crashing(sample: Path) -> None:
    report = ImportReport()
    exchanges = list(iter_exchanges(sample, report))
    assert report.responses == len(exchanges)
    assert (report.malformed > 0) == (sample.name in MALFORMED), report.problems
    for capture, _meta in exchanges:
        assert capture.url and capture.status


def test_external_warcs_import_through_the_cli(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[topic]\nid = "t"\nname = "T"\nrequire = [["Internet*", "domain*"]]\n\n'
        '[[source]]\nid = "iana"\nname = "IANA"\nhomepage = "http://www.iana.org/"\n'
        'language = "en"\ncountry = "US"\nkind = "independent"\n')
    db = tmp_path / "archive.db"
    done = run_mediawatch("warc", "import", *map(str, SAMPLE_FILES), "--db", str(db),
                          "--sources", str(sources))
    assert done.returncode == 0, done.stderr
    assert "malformed: " in done.stdout and "Traceback" not in done.stdout + done.stderr
    imported = query(db, "select count(*) from pages where source_id = 'iana'")[0][0]
    articles = query(db, "select count(*) from articles where source_id = 'iana' "
                     "and extraction_status = 'ok'")[0][0]
    assert imported >= 30 and articles >= 5
    assert query(db, "select count(*) from pages where url not like '%iana.org%'")[0][0] == 0
    # --source files everything under one outlet, whatever its host.
    forced = tmp_path / "forced.db"
    done = run_mediawatch("warc", "import", str(SAMPLES / "warcio-example.warc.gz"),
                          "--db", str(forced), "--sources", str(sources), "--source", "iana")
    assert done.returncode == 0 and "1 imported" in done.stdout


def test_reextract_after_a_hint_change_changes_exactly_the_affected_articles(
        crawled: Crawl, tmp_path: Path) -> None:
    work = tmp_path / "re"
    shutil.copytree(crawled.db.parent, work)
    db, sources = work / "archive.db", work / "sources.toml"
    before = dict(query(db, "select id, fingerprint from articles"))
    done = run_mediawatch("reextract", "--db", str(db), "--sources", str(sources))
    assert done.returncode == 0, done.stderr
    assert "0 texts" in done.stdout and f"{len(before)} unchanged" in done.stdout
    # Prune the lead paragraph of one outlet's articles; nothing else may change.
    text = sources.read_text()
    text = text.replace('id = "armnews"\n',
                        'id = "armnews"\nprune_xpath = ["//p[@class=\'news-lead\']"]\n')
    sources.write_text(text)
    done = run_mediawatch("reextract", "--db", str(db), "--sources", str(sources), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    after = dict(query(db, "select id, fingerprint from articles"))
    changed = {aid for aid in before if before[aid] != after[aid]}
    armnews = {r[0] for r in query(db, "select id from articles where source_id = 'armnews' "
                                   "and extraction_status = 'ok'")}
    assert changed == armnews and len(changed) >= 4
    assert f"{len(changed)} texts" in done.stdout


def test_a_cited_sha256_is_checked_with_warcio_alone(crawled: Crawl) -> None:
    """An article's citation gives its capture's SHA-256 and the record's file and offset
    (/article/<id>/capture): anyone holding the WARC files checks it with warcio's own
    command, without mediawatch. Every stored article's capture."""
    warcio = Path(sys.executable).with_name("warcio")
    rows = query(crawled.db, "SELECT p.warc_file, p.warc_offset, p.body_sha256 "
                 "FROM articles a JOIN pages p ON p.id = a.page_id")
    assert len(rows) >= 20
    for name, offset, sha in rows:
        payload = subprocess.run([str(warcio), "extract", "--payload",
                                  str(warc_folder(crawled.db) / name), str(offset)],
                                 capture_output=True, check=True).stdout
        assert hashlib.sha256(payload).hexdigest() == sha, (name, offset)
