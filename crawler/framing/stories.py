"""The same story across outlets and languages: clustering, republication and translation.

Why this design (so it can be defended in a methods section):

- Within one language, two articles are about the same story when their TF-IDF vectors of
  normalised, stemmed content words are close (cosine) and they were published within a
  short window. Across languages words cannot be compared, so articles are compared on
  language-independent anchors: lexicon concepts (Artsakh and Nagorno-Karabakh are one
  concept), named entities written per language (lexicon [[entity]]), calendar dates and
  numbers. Each kind of similarity is divided by its own threshold, so the two scales can
  be averaged. Word weights come from the whole archive (crawler.framing.features).
- Clustering is incremental average linkage in publication order: an article joins the
  open story whose members it resembles most on average, if that average clears the bar.
  Average linkage does not chain unrelated events the way single linkage does; the fixed
  order makes rebuilds deterministic (same archive, same stories, same ids).
- Only pairs proposed by an index are compared (crawler.framing.candidates): MinHash LSH
  for copies, rare stems and anchors for stories and translations, all within the time
  window. So a build costs in proportion to the archive, not to its square.
- A republication or a translation (crawler.framing.copies decides, with its evidence) is
  linked to the earliest copy and joins its story; it is not an independent framing; the
  earliest copy is the `original`. A declared canonical link decides on its own.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from crawler.framing.candidates import CopyIndex, Focus, KeyIndex
from crawler.framing.copies import CopyEvidence, compare, declared, free_shingles, same_text
from crawler.framing.features import Features, Vocabulary, cosine, featurize, index_keys, tfidf
from crawler.framing.lexicon import Lexicon
from crawler.framing.storydocs import (
    ROLES,
    Membership,
    StoryDoc,
    StoryNode,
    StoryParams,
    day_of,
    order_key,
    parse_when,
)

__all__ = ["ROLES", "Clusterer", "Membership", "StoryDoc", "StoryParams", "cluster", "order_key",
           "parse_when"]

_MAX_CANDIDATES = 300  # a safety bound per article; indexes of rare keys stay far below
_PREFETCH = 2  # LSH candidates per article read ahead by an update (the rest on demand)
_ALIGNED_TRIES = 3  # most similar same-story candidates tried for a rewrite or translation
# The strongest evidence wins, then the earliest copy: the same text beats aligned facts.
_STRENGTH: dict[tuple[str, str | None], int] = {
    ("text", "republication"): 0, ("aligned", "republication"): 1,
    ("aligned", "translation"): 2}


class Clusterer:
    """Streaming clustering: add articles in publication order, read memberships at the end.

    Only articles within the copy window of the newest one are kept in memory. Articles
    decided by an earlier build (`add_context`) take part as candidates but keep their story.
    """

    def __init__(self, lexicon: Lexicon | None, params: StoryParams, vocab: Vocabulary,
                 loader: Callable[[str], StoryDoc | None] | None = None,
                 on_index: Callable[..., None] | None = None,
                 stored: Callable[[StoryDoc], Features | None] | None = None,
                 stored_shingles: Callable[[StoryDoc], Any] | None = None) -> None:
        self.lexicon, self.params, self.vocab, self.loader = lexicon, params, vocab, loader
        # A context article's kept features (and their shingles alone), if they match it.
        self.stored, self.stored_shingles = stored, stored_shingles
        self.on_index = on_index  # (id, published, lang, signature, story keys, copy keys)
        self.nodes: dict[int, StoryNode] = {}
        self.ids: list[str] = []
        self.story_at: list[int] = []  # article index -> story index
        self.score_at: list[float] = []
        self.lang_at: list[str] = []
        self.sids: list[str] = []  # story index -> story id
        self.members: list[list[int]] = []  # story index -> independent members still near
        self.by_id: dict[str, int] = {}  # every article seen: declared copies reach far back
        self.out: list[tuple[int, str, str | None, CopyEvidence | None]] = []
        self.roots: set[str] = set()  # ids of articles something copies
        self._sid_index: dict[str, int] = {}
        self._prepared: dict[str, StoryNode] = {}  # added next, vectors computed by `wanted`
        self._copies, self._story_keys, self._copy_keys = CopyIndex(), KeyIndex(), KeyIndex()
        self._order: deque[tuple[float, int]] = deque()  # active articles by publication
        self._focus: Focus | None = None  # see focus()

    # -- adding ----------------------------------------------------------------------------

    def add(self, doc: StoryDoc, feats: Features | None = None) -> None:
        """Cluster one article (after every earlier one)."""
        idx = self._new_index(doc.id, doc.lang)
        node = self._prepared.pop(doc.id, None) or self._prepare(doc, feats)
        if node.day is not None:
            self._expire(node.day)
        copy = self._copy_of(doc, node)
        if copy is not None:
            j, evidence = copy
            other = self.nodes.get(j)
            node.root = (other.root if other and other.root else None) or self.ids[j]
            self.roots.add(node.root)
            self.story_at[idx] = self.story_at[j]
            self.out.append((idx, evidence.kind or "republication", node.root, evidence))
        else:
            self.story_at[idx] = self._join(idx, node)
            self.out.append((idx, "report", None, None))
        self._index(idx, node)

    def _prepare(self, doc: StoryDoc, feats: Features | None) -> StoryNode:
        feats = feats or featurize(doc.title, doc.text, doc.lang, self.lexicon)
        node = StoryNode(doc.id, doc.lang, day_of(doc.when), feats, doc.published)
        self._vectors(node)
        return node

    def prepare(self, doc: StoryDoc, feats: Features) -> None:
        """Vectors and index keys of an article added later (an update prepares its scope
        first, to index of its context only what the scope can look up: `focus`)."""
        self._prepared[doc.id] = self._prepare(doc, feats)

    def focus(self) -> Focus:
        """From now on, index context articles only under what the prepared articles can
        look up (candidates.Focus); return it."""
        self._focus = Focus()
        for node in self._prepared.values():
            assert node.feats is not None
            self._focus.add(node.feats.signature, node.story_keys, node.copy_keys)
        return self._focus

    def wanted(self, doc: StoryDoc, feats: Features) -> set[str]:
        """Context articles whose text adding `doc` will read first: its earliest LSH
        candidates (a copy is looked for before anything else, earliest first). An update
        reads them all at once, on every core; others are read one by one when needed."""
        node = self._prepared.get(doc.id)
        if node is None:
            node = self._prepared[doc.id] = self._prepare(doc, feats)
        if node.day is None:
            return set()
        since = node.day - self.params.copy_window_days
        found = sorted((c for c in self._copies.query(feats.signature) if c in self.nodes
                        and self.nodes[c].lang == node.lang
                        and (self.nodes[c].day or since - 1) >= since),
                       key=lambda c: (self.nodes[c].day or 0.0, self.ids[c]))[:_PREFETCH]
        return {self.ids[j] for j in found if self.nodes[j].feats is None}

    def provide(self, article_id: str, feats: Features) -> None:
        """The features of a context article, read ahead (see `wanted`)."""
        node = self.nodes.get(self.by_id.get(article_id, -1))
        if node is not None and node.feats is None:
            node.feats = feats
            self._vectors(node, keys=False)

    def add_context(self, article_id: str, lang: str, published: str | None, sid: str,
                    copy_of: str | None, signature: Any | None,
                    keys: tuple[list[str], list[str]]) -> None:
        """An article clustered before, as a candidate only (its text is read if needed)."""
        idx = self._new_index(article_id, lang)
        story = self._sid_index.get(sid)
        if story is None:
            story = self._new_story(sid)
        self.story_at[idx] = story
        node = StoryNode(article_id, lang, day_of(parse_when(published)), None, published,
                     root=copy_of, story_keys=keys[0], copy_keys=keys[1])
        self.nodes[idx] = node
        if node.day is not None:
            self._order.append((node.day, idx))
        if copy_of is None:
            self.members[story].append(idx)
        else:
            self.roots.add(copy_of)
        if node.day is not None:
            focus = self._focus
            if signature is not None:
                self._copies.add(idx, node.day, signature, focus.bands if focus else None)
            self._story_keys.add(idx, node.day, keys[0], focus.story if focus else None)
            self._copy_keys.add(idx, node.day, keys[1], focus.copy if focus else None)

    def node(self, doc: StoryDoc, feats: Features | None = None) -> StoryNode:
        """An article's features and vectors, outside any clustering (evaluation, tests)."""
        return self._prepare(doc, feats)

    def shared_anchors(self, a: StoryNode, b: StoryNode) -> int:
        """Rare anchors (names, numbers, dates, concepts) two articles have in common."""
        return len(set(a.copy_keys).intersection(b.copy_keys))

    def _new_index(self, article_id: str, lang: str) -> int:
        idx = len(self.ids)
        self.ids.append(article_id)
        self.lang_at.append(lang)
        self.story_at.append(-1)
        self.score_at.append(0.0)
        self.by_id[article_id] = idx
        return idx

    def _new_story(self, sid: str) -> int:
        self._sid_index[sid] = len(self.sids)
        self.sids.append(sid)
        self.members.append([])
        return len(self.sids) - 1

    def _vectors(self, node: StoryNode, keys: bool = True) -> None:
        """Index keys from the weighted stem vector (unless a context article's stored ones
        are used: then the vectors wait until it is compared)."""
        assert node.feats is not None
        if keys:
            node.story_keys, node.copy_keys = index_keys(node.feats, self._vec(node),
                                                         self.vocab, self.params.top_stems)

    def _vec(self, node: StoryNode) -> dict[str, float]:
        if node.vec is None and node.feats is not None:
            node.vec = tfidf(node.feats.counts, self.vocab)
        return node.vec or {}

    def _fvec(self, node: StoryNode) -> dict[str, float]:
        if node.fvec is None and node.feats is not None:
            node.fvec = tfidf(node.feats.anchor_counts(), self.vocab)
        return node.fvec or {}

    def _features(self, idx: int) -> StoryNode | None:
        """A node with its features, reading a context article's text on first use."""
        node = self.nodes.get(idx)
        if node is None or node.feats is not None:
            return node
        doc = self.loader(node.id) if self.loader else None
        if doc is None:
            return None
        node.feats = (self.stored(doc) if self.stored else None) or \
            featurize(doc.title, doc.text, doc.lang, self.lexicon)
        self._vectors(node, keys=False)  # indexed already, under its stored keys
        return node

    # -- decisions -------------------------------------------------------------------------

    def similarity(self, a: StoryNode, b: StoryNode) -> float:
        """Similarity of two articles in units of their threshold (>= 1 means same story)."""
        if a.lang == b.lang:
            return cosine(self._vec(a), self._vec(b)) / self.params.text_threshold
        return cosine(self._fvec(a), self._fvec(b)) / self.params.cross_threshold

    def copy_evidence(self, a: StoryNode, b: StoryNode, shared_anchors: int,
                      aligned: bool | None = None) -> CopyEvidence | None:
        """Is `a` a copy of earlier `b`? The evidence when it is (cheap tests first).

        Ordered facts are compared only for articles about the same story (a rewrite or a
        translation is one) and, with `aligned` False, not at all (the costly test).
        """
        assert a.feats is not None and b.feats is not None
        same = a.lang == b.lang
        if not same and shared_anchors < self.params.min_shared_anchors:
            return None
        if aligned is None or aligned:
            aligned = self.similarity(a, b) >= 1.0
        if not same and not aligned:
            return None
        evidence = compare(a.feats.copy, b.feats.copy, self.params.copy, self.vocab.idf,
                           aligned=aligned)
        return evidence if evidence.kind else None

    def _copy_of(self, doc: StoryDoc, node: StoryNode) -> tuple[int, CopyEvidence] | None:
        if doc.republication_of and doc.republication_of in self.by_id:
            j = self.by_id[doc.republication_of]
            return j, declared(doc.lang, self.lang_at[j],
                               doc.canonical_url or doc.republication_of)
        if node.day is None:
            return None
        assert node.feats is not None
        since = node.day - self.params.copy_window_days
        shared = self._copy_keys.query(node.copy_keys, since, self.params.min_shared_anchors)
        story = set(self._story_keys.query(node.story_keys, node.day - self.params.window_days))
        lsh = set(self._copies.query(node.feats.signature))

        def ordered(cands: set[int]) -> list[int]:
            return sorted((c for c in cands if c in self.nodes),
                          key=lambda c: (self.nodes[c].day or 0.0, self.ids[c]))[:_MAX_CANDIDATES]

        # First the same text (the earliest copy wins: cheap, shingles only) ...
        for j in ordered(lsh | story | set(shared)):
            known = self.nodes[j]  # date and language are known without reading the text
            if known.day is None or known.day < since or known.lang != node.lang or \
                    (known.feats is None and not self._may_be_same_text(node, known)):
                continue
            other = self._features(j)
            if other is None or other.feats is None:
                continue
            evidence = self.copy_evidence(node, other, 0, aligned=False)
            if evidence:
                return j, evidence
        # ... then ordered facts, tried against the few most similar candidates of the same
        # story that share its words (3 days) or two of its rare anchors (the copy window).
        similar: list[tuple[float, int, int, StoryNode]] = []
        for rank, j in enumerate(ordered(story | set(shared))):
            known = self.nodes[j]
            if known.day is None or known.day < since:
                continue
            other = self._features(j)
            if other is None or other.feats is None:
                continue
            score = self.similarity(node, other)
            if score >= 1.0:
                similar.append((-score, rank, j, other))
        found: list[tuple[int, int, int, CopyEvidence]] = []
        for _, rank, j, other in sorted(similar, key=lambda s: (s[0], s[1]))[:_ALIGNED_TRIES]:
            evidence = self.copy_evidence(node, other, shared.get(j, 0))
            if evidence:
                found.append((_STRENGTH[(evidence.basis, evidence.kind)], rank, j, evidence))
        if not found:
            return None
        _, _, j, evidence = min(found, key=lambda f: (f[0], f[1]))
        return j, evidence

    def _may_be_same_text(self, node: StoryNode, known: StoryNode) -> bool:
        # The same-text test on a context article's shingles alone (a fraction of its
        # features' cost): the full features are read only for the one that passes.
        if known.shingles is None:
            doc = self.loader(known.id) if self.loader else None
            kept = self.stored_shingles(doc) if doc and self.stored_shingles else None
            known.shingles = kept if kept is not None else free_shingles(doc.text if doc else "")
        assert node.feats is not None
        return same_text(node.feats.copy.shingles, known.shingles, self.params.copy)

    def _join(self, idx: int, node: StoryNode) -> int:
        """The open story this article resembles most on average, or a new one."""
        best, best_score, best_scored = -1, 1.0, []
        if node.day is not None:
            since = node.day - self.params.window_days
            stories = sorted({self.story_at[j]
                              for j in self._story_keys.query(node.story_keys, since)})
            for s in stories:
                scored = []
                self.members[s] = [m for m in self.members[s] if m in self.nodes]
                for m in self.members[s]:
                    other = self.nodes.get(m)
                    if other is None or other.day is None or other.day < since:
                        continue  # the story has gone quiet there: a later event is new
                    other = self._features(m)
                    if other is not None and other.feats is not None:
                        scored.append((m, self.similarity(node, other)))
                if not scored:
                    continue
                avg = sum(v for _, v in scored) / len(scored)
                if avg >= best_score:
                    best, best_score, best_scored = s, avg, scored
        if best < 0:
            best = self._new_story("s-" + hashlib.sha1(node.id.encode()).hexdigest()[:12])
        for m, v in best_scored:
            self.score_at[m] = max(self.score_at[m], v)
            self.score_at[idx] = max(self.score_at[idx], v)
        self.members[best].append(idx)
        return best

    def _index(self, idx: int, node: StoryNode) -> None:
        self.nodes[idx] = node
        if node.day is not None:
            self._order.append((node.day, idx))
        assert node.feats is not None
        if self.on_index:
            self.on_index(node.id, node.published, node.lang, node.feats.signature,
                          node.story_keys, node.copy_keys)
        if node.day is None:
            return
        self._copies.add(idx, node.day, node.feats.signature)
        self._story_keys.add(idx, node.day, node.story_keys)
        self._copy_keys.add(idx, node.day, node.copy_keys)

    def _expire(self, day: float) -> None:
        """Forget what can no longer matter to an article published on `day` or later."""
        horizon = day - self.params.reach_days()
        self._copies.expire(horizon)
        self._copy_keys.expire(horizon)
        self._story_keys.expire(day - self.params.window_days)
        while self._order and self._order[0][0] < horizon:
            self.nodes.pop(self._order.popleft()[1], None)

    # -- results ---------------------------------------------------------------------------

    def memberships(self) -> Iterator[Membership]:
        """Every article added (not context), with its story, role and copy link."""
        for idx, kind, root, evidence in self.out:
            sid, aid = self.sids[self.story_at[idx]], self.ids[idx]
            if root is not None:
                yield Membership(sid, aid, kind, root, 1.0, evidence)
            else:
                role = "original" if aid in self.roots else "report"
                yield Membership(sid, aid, role, None, round(self.score_at[idx], 4))


def cluster(docs: list[StoryDoc], lexicon: Lexicon, params: StoryParams | None = None
            ) -> list[Membership]:
    """Assign every document to a story with its role; deterministic for the same input."""
    params = params or StoryParams()
    docs = sorted(docs, key=order_key)
    feats = [featurize(d.title, d.text, d.lang, lexicon) for d in docs]
    vocab = Vocabulary.build(f.terms() for f in feats)
    clusterer = Clusterer(lexicon, params, vocab)
    for doc, f in zip(docs, feats, strict=True):
        clusterer.add(doc, f)
    return list(clusterer.memberships())
