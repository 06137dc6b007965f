"""The distributed crawl's parts on their own: the Redis codec and the shared frontier.

The frontier tests run against a real redis-server (conftest.redis_url).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from conftest import query
from scrapy import Request
from scrapy.utils.request import request_from_dict

from crawler.distributed import codec
from crawler.distributed.frontier import Frontier
from crawler.items import Discovered, FetchedPage, Found
from crawler.registry.topic import TopicMatch
from demoweb import FixtureWeb
from extract import ArticleResult
from extract.datesources import DateCandidate

pytestmark = pytest.mark.redis


def test_items_cross_redis_as_json_and_come_back_equal() -> None:
    page = FetchedPage(
        source_id="armnews", url="http://a.example/n/1", kind="article",
        discovered_via="feed", fetched_at="2026-01-01T00:00:00+00:00",
        status=200, headers={"etag": '"x"'}, body=b"<html>\xff\x00</html>",
        redirect_chain=["http://a.example/old"], hints={"feed_title": "Заголовок"},
        extraction=ArticleResult(status="ok", title="Title", text="Текст",
                                 date_candidates=[DateCandidate("published", "2025-05-12",
                                                                "json-ld")],
                                 tags=["CSTO"]),
        topic=TopicMatch(True, {"Pashinyan": 2}), lease="abc")
    kind, back = codec.decode(codec.encode_item(page))
    assert kind == "page" and back == page
    found = Discovered("armnews", "feed", "http://a.example/rss", "2026-01-01T00:00:00+00:00",
                       [Found("http://a.example/n/1", {"feed_date": "x"}, "T", None, 0)],
                       snapshot=True)
    assert codec.decode(codec.encode_item(found)) == ("discovered", found)
    assert b"\\u" not in codec.encode_item(found)  # readable UTF-8, not escapes


def test_requests_cross_redis_without_pickle() -> None:
    request = Request("http://a.example/rss", headers={"If-None-Match": '"x"'},
                      meta={"source_id": "armnews", "hints": {"t": "ü"}, "redirect_urls": []},
                      priority=3)
    data = codec.dumps(request.to_dict())
    assert not data.startswith(b"\x80")  # not a pickle
    back = request_from_dict(codec.loads(data))
    assert (back.url, back.priority, back.meta) == (request.url, 3, request.meta)
    assert back.headers.get("If-None-Match") == b'"x"'
    with pytest.raises(TypeError, match="cannot send object"):
        codec.dumps({"meta": {"bad": object()}})


@pytest.fixture
def frontier(redis_url: str) -> Frontier:
    return Frontier(redis.Redis.from_url(redis_url), "t", "w1")


def test_requests_leave_by_priority_then_arrival(frontier: Frontier) -> None:
    for name, priority in (("a", 0), ("b", 0), ("c", 5), ("d", 0)):
        assert frontier.push(name.encode(), "o1", priority)
    order = []
    for _ in range(4):
        popped = frontier.pop()
        assert not isinstance(popped, float)
        order.append(popped[1])
    assert order == [b"c", b"a", b"b", b"d"]
    assert frontier.pop() == -1.0  # nothing queued anywhere


def test_an_outlets_delay_holds_while_other_outlets_go(frontier: Frontier) -> None:
    frontier.set_delay("slow", 0.5)
    frontier.push(b"s1", "slow")
    frontier.push(b"s2", "slow")
    frontier.push(b"f1", "fast")
    got = [frontier.pop(), frontier.pop()]
    assert sorted(p[1] for p in got if not isinstance(p, float)) == [b"f1", b"s1"]
    wait = frontier.pop()
    assert isinstance(wait, float) and 0 < wait <= 0.5  # s2 must wait for the slow outlet
    time.sleep(wait + 0.01)
    popped = frontier.pop()
    assert not isinstance(popped, float) and popped[1] == b"s2"


def test_fingerprints_filter_until_they_expire(frontier: Frontier) -> None:
    assert frontier.push(b"r", "o", fingerprint="fp1", ttl=1)
    assert not frontier.push(b"r", "o", fingerprint="fp1", ttl=1)
    assert frontier.queued() == 1
    time.sleep(1.1)
    assert frontier.push(b"r2", "o", fingerprint="fp1", ttl=1)
    assert frontier.push(b"r3", "o")  # no fingerprint (dont_filter): never filtered


def test_leases_of_a_silent_worker_go_back_to_the_front(frontier: Frontier,
                                                        redis_url: str) -> None:
    other = Frontier(redis.Redis.from_url(redis_url), "t", "w2")
    frontier.heartbeat(60, "alive")
    other.heartbeat(1, "about to die")
    frontier.push(b"mine", "o1")
    other.push(b"theirs", "o2")
    mine, theirs = frontier.pop(), other.pop()
    assert not isinstance(mine, float) and not isinstance(theirs, float)
    other.push(b"later", "o2")
    assert (frontier.queued(), frontier.leased()) == (1, 2)
    assert frontier.reclaim() == 0  # both workers are alive
    time.sleep(1.2)  # w2's heartbeat expires
    assert frontier.reclaim() == 1
    assert frontier.leased() == 1 and frontier.queued() == 2
    back = frontier.pop()
    assert not isinstance(back, float) and back[1] == b"theirs"  # ahead of "later"
    frontier.ack(mine[0])
    frontier.ack(back[0])
    assert frontier.leased() == 0


def test_the_archiver_keeps_what_it_cannot_store_and_goes_on(
        redis_url: str, tmp_path: Path, web: FixtureWeb) -> None:
    from scrapy.settings import Settings

    from crawler.archive.core import Archive
    from crawler.distributed.archiver import Archiver

    sources = web.write_sources(tmp_path / "sources.toml")
    server = redis.Redis.from_url(redis_url)
    page = FetchedPage(source_id="tms", url="http://127.0.0.2/robots.txt", kind="robots",
                       discovered_via="robots", fetched_at="2026-01-01T00:00:00+00:00",
                       status=200, body=b"User-agent: *\n")
    for message in (
            codec.encode_message("run_start", run="r1", worker="w1", sources=["tms"],
                                 registry=sources.read_text(), registry_path=str(sources)),
            b'{"type": "page", "item": {"not": "a page"}}',  # hostile or from a newer version
            b"\xff not json",
            codec.encode_item(page),
            codec.encode_message("run_finish", run="r1", worker="w1", reason="finished",
                                 stats={"downloader/request_count": 3})):
        server.lpush("mediawatch:items", message)
    settings = Settings()
    settings.setmodule("crawler.settings")
    archive = Archive(tmp_path / "archive.db")
    try:
        archiver = Archiver(server, "mediawatch", archive, settings)
        archiver.run(drain=True, idle_exit=0.1)
    finally:
        archive.close()
    assert (archiver.written, archiver.store_errors) == (5, 2)
    assert server.lrange("mediawatch:items:failed", 0, -1) == [
        b"\xff not json", b'{"type": "page", "item": {"not": "a page"}}']
    assert server.llen("mediawatch:items:processing") == 0
    db = tmp_path / "archive.db"
    assert query(db, "select url from pages") == [(page.url,)]
    assert query(db, "select finish_reason, requests from crawl_runs") == [("finished", 3)]


def test_a_lease_waits_for_its_last_item_or_request_and_strands_only_when_done() -> None:
    from crawler.distributed.worker import LeaseTracker

    leases = LeaseTracker()
    leases.started("feed")
    leases.add("feed")  # its listing
    leases.add("feed")  # an article request it yielded
    assert leases.handed_off("feed") is False  # the listing is in Redis, the request is not
    assert leases.stranded() == []  # still producing: nothing is stranded yet
    assert leases.finished("feed") is False  # the callback ended; the request is on its way
    assert leases.handed_off("feed") is True  # pushed: now the lease may go
    # A response whose request never reached the scheduler (refused on the way): released
    # when Scrapy is idle, never kept (the worker would wait for it forever).
    leases.started("section")
    leases.add("section")
    assert leases.finished("section") is False
    assert leases.stranded() == ["section"] and leases.stranded() == []
    assert leases.handed_off("section") is True  # untracked now: a second HDEL is harmless
