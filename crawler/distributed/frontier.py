"""The shared frontier in Redis: one queue per outlet, politeness and leases in Lua.

Per-outlet politeness across workers lives here, in the queue, not in each worker: an
outlet's next request is handed out only once its delay (the registry's, or robots.txt's
Crawl-delay if longer) has passed since the last one, whichever worker asks. Redis'
own clock decides, so workers' clocks never need to agree.

A popped request is leased, not deleted: it waits under `lease:data` until the worker
has handed everything the response produced to the archiver queue (then it is acked).
Leases of a worker whose heartbeat key has expired (killed, machine lost) are put back
at the front of their outlet's queue by whichever worker looks next.

Keys (all under one prefix): q:<outlet> zset of requests (score: priority, then
arrival), ready zset outlet -> earliest next hand-out (ms, only outlets with queued
requests), next hash outlet -> next allowed hand-out, delay / delay:robots hashes outlet -> registry
and robots.txt delays (ms; the longer applies),
lease:data / lease:owner hashes, worker:<id> heartbeats, fp:<fingerprint> seen-markers
with a TTL, seq counter.
"""

from __future__ import annotations

import uuid
from typing import Any

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: q, ready, next, fp ; ARGV: data, priority, outlet, fp_ttl (0: no filtering)
_PUSH = _NOW + """
if tonumber(ARGV[4]) > 0 then
  if not redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) then return 0 end
end
local seq = redis.call('INCR', KEYS[1] .. ':seq')
redis.call('ZADD', KEYS[1], -tonumber(ARGV[2]) * 1e10 + seq, ARGV[1])
if not redis.call('ZSCORE', KEYS[2], ARGV[3]) then
  local nxt = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
  redis.call('ZADD', KEYS[2], math.max(now, nxt), ARGV[3])
end
return 1
"""

# KEYS: ready, next, delay, lease:data, lease:owner ; ARGV: q prefix, lease id, worker id
# Returns {data or '', wait_ms}: wait_ms < 0 when nothing is queued at all.
_POP = _NOW + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1)
if #due == 0 then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #first == 0 then return {'', '-1'} end
  return {'', tostring(tonumber(first[2]) - now)}
end
local outlet = due[1]
local q = ARGV[1] .. outlet
local head = redis.call('ZRANGE', q, 0, 0)
if #head == 0 then
  redis.call('ZREM', KEYS[1], outlet)
  return {'', '0'}
end
redis.call('ZREM', q, head[1])
local delay = math.max(tonumber(redis.call('HGET', KEYS[3], outlet) or '0'),
                      tonumber(redis.call('HGET', KEYS[3] .. ':robots', outlet) or '0'))
local nxt = now + delay
redis.call('HSET', KEYS[2], outlet, nxt)
if redis.call('ZCARD', q) > 0 then
  redis.call('ZADD', KEYS[1], nxt, outlet)
else
  redis.call('ZREM', KEYS[1], outlet)
end
redis.call('HSET', KEYS[4], ARGV[2], head[1])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[3] .. '|' .. outlet)
return {head[1], '0'}
"""

# KEYS: ready, next, lease:data, lease:owner ; ARGV: q prefix, worker key prefix
_RECLAIM = _NOW + """
local owners = redis.call('HGETALL', KEYS[4])
local n = 0
for i = 1, #owners, 2 do
  local lease = owners[i]
  local worker, outlet = string.match(owners[i + 1], '^(.*)|(.*)$')
  if redis.call('EXISTS', ARGV[2] .. worker) == 0 then
    local data = redis.call('HGET', KEYS[3], lease)
    if data then
      redis.call('ZADD', ARGV[1] .. outlet, '-inf', data)
      if not redis.call('ZSCORE', KEYS[1], outlet) then
        local nxt = tonumber(redis.call('HGET', KEYS[2], outlet) or '0')
        redis.call('ZADD', KEYS[1], math.max(now, nxt), outlet)
      end
    end
    redis.call('HDEL', KEYS[3], lease)
    redis.call('HDEL', KEYS[4], lease)
    n = n + 1
  end
end
return n
"""

# KEYS: ready ; ARGV: q prefix
_LENGTH = """
local n = 0
for _, outlet in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('ZCARD', ARGV[1] .. outlet)
end
return n
"""


class Frontier:
    """Per-outlet request queues with shared politeness and leases (see the module doc)."""

    def __init__(self, server: Any, prefix: str, worker: str) -> None:
        self.server = server
        self.prefix = prefix
        self.worker = worker
        self._push = server.register_script(_PUSH)
        self._pop = server.register_script(_POP)
        self._reclaim = server.register_script(_RECLAIM)
        self._length = server.register_script(_LENGTH)

    def key(self, *parts: str) -> str:
        """A key under this frontier's prefix."""
        return ":".join((self.prefix, *parts))

    def push(self, data: bytes, outlet: str, priority: int = 0,
             fingerprint: str | None = None, ttl: int = 0) -> bool:
        """Queue a request for an outlet; False if its fingerprint was seen within `ttl` s."""
        fp_key = self.key("fp", fingerprint) if fingerprint else self.key("fp", "-")
        keys = [self.key("q", outlet), self.key("ready"), self.key("next"), fp_key]
        # Scores keep 14 significant digits in Lua: priority takes the top four.
        priority = max(-9999, min(9999, priority))
        return bool(self._push(keys=keys, args=[data, priority, outlet,
                                                 ttl if fingerprint else 0]))

    def pop(self) -> tuple[str, bytes] | float:
        """(lease, request data) for the next outlet allowed now, else seconds to wait (-1: empty)."""
        lease = uuid.uuid4().hex
        keys = [self.key("ready"), self.key("next"), self.key("delay"),
                self.key("lease", "data"), self.key("lease", "owner")]
        data, wait = self._pop(keys=keys, args=[self.key("q", ""), lease, self.worker])
        if data:
            return lease, data
        return float(wait) / 1000 if float(wait) >= 0 else -1.0

    def ack(self, lease: str, pipe: Any = None) -> None:
        """Forget a finished lease (inside `pipe`, if given, so it commits with the hand-off)."""
        target = pipe if pipe is not None else self.server
        target.hdel(self.key("lease", "data"), lease)
        target.hdel(self.key("lease", "owner"), lease)

    def reclaim(self) -> int:
        """Put back the leases of workers whose heartbeat is gone; return how many."""
        keys = [self.key("ready"), self.key("next"), self.key("lease", "data"),
                self.key("lease", "owner")]
        return int(self._reclaim(keys=keys, args=[self.key("q", ""), self.key("worker", "")]))

    def release_own(self) -> int:
        """A worker leaving cleanly puts its unfinished leases back at once."""
        self.server.delete(self.key("worker", self.worker))
        return self.reclaim()

    def queued(self) -> int:
        """Requests waiting in all outlet queues."""
        return int(self._length(keys=[self.key("ready")], args=[self.key("q", "")]))

    def leased(self) -> int:
        """Requests handed out and not yet acked (any worker)."""
        return int(self.server.hlen(self.key("lease", "owner")))

    def set_delay(self, outlet: str, seconds: float) -> None:
        """An outlet's delay between hand-outs, for every worker."""
        self.server.hset(self.key("delay"), outlet, int(seconds * 1000))

    def raise_delay(self, outlet: str, seconds: float) -> None:
        """A robots.txt Crawl-delay: kept apart from the registry's delay (which each worker
        sets when it starts), and the longer of the two applies."""
        key = self.key("delay", "robots")
        current = self.server.hget(key, outlet)
        if current is None or int(current) < int(seconds * 1000):
            self.server.hset(key, outlet, int(seconds * 1000))

    def heartbeat(self, ttl: int, info: str) -> None:
        """This worker is alive for `ttl` more seconds."""
        self.server.set(self.key("worker", self.worker), info, ex=ttl)
