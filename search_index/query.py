"""The search seam's executor: which records a parsed query (``syntax``)
matches, in which order, with which facet counts and suggestions. It answers
ids with their rank tier; turning a match into highlighted HTML is the view's
job (``web.highlight``).

- Each word must occur in a record, in one of its fields: candidates come from
  the index and are verified against the folded text, so a fragment crossing word
  boundaries (恒达建) is found exactly, with no false positives.
- Order (``sort`` None): by where the words match — exact name (or exact code or
  decision number), name starting with the word, name containing it, a person's
  exact name, a person's name containing it, decision number or code, facts —
  then newest first. With several words a record's tier is the sum of theirs.
  ``sort`` "-date"/"date" orders by date, "-amount"/"amount" by amount (unknown
  amounts count lowest).
- Listings not in force today (clock.today()) never match, whatever the index
  says; the final page is checked against the database as well.
- A stale index never reveals anything: a record that a change-log entry not
  yet applied to the index names, and that is no longer public, is left out of
  every channel — results, totals, facet counts, suggestions, partial matches
  (and so highlights, feeds and downloads built from them) — until the entry
  is applied. Pending entries are few, so this costs one small query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload, lazyload

from domain import clock
from domain.visibility import case_is_public_clause, is_record_public, listing_is_public_clause
from domain.vocabulary import VIOLATION_TYPES
from extensions import db
from models import Campaign, Case, Listing, SearchChange
from search_index.analysis import char_pinyin, pinyin_terms
from search_index.changelog import pending_clause, read_entries
from search_index.documents import CASE, LISTING
from search_index.searcher import FieldMatch, Snapshot, acquire, unavailable_message
from search_index.syntax import (
    CODE,
    DOCNO,
    MAX_QUERY_LENGTH,
    NAME,
    PEOPLE,
    Clause,
    ParsedQuery,
    QueryError,
    Term,
    parse,
    parse_words,
)

__all__ = ["MAX_QUERY_LENGTH", "QueryError", "SORTS", "Filters", "Outcome", "search"]

KIND_PARAMS = {"cases": CASE, "listings": LISTING}
KIND_LABELS = {CASE: "违法案件", LISTING: "失信名单"}
# sort parameter → label; no parameter: by where the words match.
SORTS = {
    "": "匹配程度",
    "-date": "日期（新→旧）",
    "date": "日期（旧→新）",
    "-amount": "金额（高→低）",
    "amount": "金额（低→高）",
}
# Rank tiers, best first.
EXACT, NAME_STARTS, NAME_HAS, PERSON_EXACT, PERSON_HAS, NUMBER_HAS, FACTS = range(7)
TIER_LABELS = ("完全匹配", "名称开头", "名称", "人员", "人员", "文号或代码", "事实")
NO_TIER = 100


@dataclass
class Filters:
    kind: str | None = None  # "case" | "listing"
    district: str | None = None
    year: int | None = None
    vtype: str | None = None
    campaign: int | None = None  # a special campaign's (专项行动) id

    def any(self) -> bool:
        return any(v is not None for v in (self.kind, self.district, self.year, self.vtype, self.campaign))


@dataclass
class Hit:
    kind: str
    record_id: int
    score: float  # 1.0 best; the mean over the words of 1 - tier / 10
    tier: int  # the rank bucket: 0 best (the sum over the words)
    record: Case | Listing | None = None


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Outcome:
    q: str
    query: ParsedQuery
    filters: Filters
    page: int
    per_page: int
    sort: str | None = None
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    message: str | None = None  # instead of results
    notice: str | None = None  # above the results (a credit code with a wrong check character)
    partial: bool = False  # no record has the whole query: these share part of it
    suggestions: list[str] = field(default_factory=list)
    index_ready: bool = True  # False: no usable index, ``message`` says why (answered with a 503)

    @property
    def mode(self) -> str:
        return self.query.mode

    @property
    def highlight_terms(self) -> list[str]:
        """The texts to mark in a result (what was looked for, not what was excluded)."""
        if self.query.mode in ("words", "document_no"):
            return [term.text for term in self.query.terms]
        return []


# --- matching -------------------------------------------------------------------------


def _levels(fieldname: str, found: FieldMatch) -> list[tuple[int, np.ndarray]]:
    """The tiers of the documents where a text occurs in a field, worst first
    (arrays of docnums)."""
    if fieldname == NAME:
        return [(NAME_HAS, found.docs()), (NAME_STARTS, found.starts()), (EXACT, found.whole())]
    if fieldname == PEOPLE:
        return [(PERSON_HAS, found.docs()), (PERSON_EXACT, found.whole())]
    if fieldname in (DOCNO, CODE):
        return [(NUMBER_HAS, found.docs()), (EXACT, found.whole())]
    return [(FACTS, found.docs())]


def _term(snap: Snapshot, term: Term, within: np.ndarray | None, tiers: np.ndarray | None = None) -> np.ndarray:
    """A mask of the documents having ``term``; with ``tiers``, lower each
    document's tier to the best place the term occurs in it. Work is in
    proportion to the occurrences, not to the size of the index."""
    out = np.zeros(snap.size, dtype=bool)
    for fieldname in term.fields:
        text = term.text_in(fieldname)
        if len(text) >= 2:
            found = snap.match(fieldname, text)
        elif within is not None and text:
            found = snap.match_within(fieldname, text, within)
        else:
            continue
        if not found.parts:
            continue
        if tiers is None:
            out[found.docs()] = True
            continue
        for level, docs in _levels(fieldname, found):
            out[docs] = True
            tiers[docs] = np.minimum(tiers[docs], level)
    return out


def _clause(snap: Snapshot, clause: Clause, within: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    tiers = np.full(snap.size, NO_TIER, dtype=np.int16)
    matched = np.zeros(snap.size, dtype=bool)
    for term in clause.terms:
        matched |= _term(snap, term, within, tiers)
    return matched, tiers


def _matches(snap: Snapshot, query: ParsedQuery, visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The visible documents matching every clause and no excluded term, and
    each document's tier (the sum over the clauses)."""
    matched = visible.copy()
    total = np.zeros(snap.size, dtype=np.int16)
    # Words found through the index first; single characters are then checked
    # only in what those found.
    for clause in sorted(query.clauses, key=lambda c: not c.indexed):
        found, tiers = _clause(snap, clause, None if clause.indexed else matched)
        matched &= found
        total += tiers  # meaningful where matched (NO_TIER elsewhere)
    for term in query.excluded:
        if matched.any():
            matched &= ~_term(snap, term, matched)
    return matched, total


# --- filters and facets ---------------------------------------------------------------

# The facet dimensions, in the order of a facet combination (matchfile: kind,
# district, year, types, campaign): (filter attribute, skip name, several values per record).
# A new facet is one more entry here, in the combination and in Filters.
FACETS = (
    ("kind", "kind", False),
    ("district", "district", False),
    ("year", "year", False),
    ("vtype", "type", True),
    ("campaign", "campaign", False),
)


def _filter_values(filters: Filters) -> tuple:
    kind = None if filters.kind is None else (1 if filters.kind == LISTING else 0)
    return (kind, filters.district, filters.year, filters.vtype, filters.campaign)


def _allowed(snap: Snapshot, filters: Filters, skip: str | None = None) -> np.ndarray:
    """A mask over the facet combinations allowed by the filters, optionally
    ignoring one dimension (for that dimension's facet counts). Remembered per
    snapshot: the combinations of a generation do not change."""
    wanted = _filter_values(filters)
    key = (wanted, skip)
    cache = snap.memo.setdefault("allowed", {})
    allowed = cache.get(key)
    if allowed is None:
        if len(cache) > 2000:
            cache.clear()
        allowed = np.ones(len(snap.combos), dtype=bool)
        for position, (_, name, multi) in enumerate(FACETS):
            value = wanted[position]
            if value is None or skip == name:
                continue
            allowed &= np.fromiter(
                ((value in combo[position]) if multi else (combo[position] == value) for combo in snap.combos),
                dtype=bool,
                count=len(snap.combos),
            )
        cache[key] = allowed
    return allowed


def _tallies(snap: Snapshot) -> list[tuple[list, np.ndarray, np.ndarray]]:
    """Per facet: its values, and (combination, value) pairs as two index arrays."""
    cached = snap.memo.get("tallies")
    if cached is None:
        cached = []
        for position, (_, _, multi) in enumerate(FACETS):
            values: dict = {}
            combo_index, value_index = [], []
            for number, combo in enumerate(snap.combos):
                for value in combo[position] if multi else (combo[position],):
                    combo_index.append(number)
                    value_index.append(values.setdefault(value, len(values)))
            cached.append((list(values), np.array(combo_index, np.int64), np.array(value_index, np.int64)))
        snap.memo["tallies"] = cached
    return cached


def _facets(
    snap: Snapshot, counts: np.ndarray, filters: Filters, districts: Sequence[str]
) -> dict[str, list[FacetValue]]:
    tallies: dict[str, Counter] = {}
    for (_, name, _), (values, combo_index, value_index) in zip(FACETS, _tallies(snap), strict=True):
        weights = (counts * _allowed(snap, filters, skip=name))[combo_index]
        sums = np.bincount(value_index, weights=weights, minlength=len(values)) if len(values) else []
        tallies[name] = Counter({value: int(total) for value, total in zip(values, sums, strict=True) if total})
    kinds = Counter({(LISTING if k else CASE): n for k, n in tallies["kind"].items()})
    by_district, by_year, by_type, by_campaign = (tallies[n] for n in ("district", "year", "type", "campaign"))
    district_order = list(districts) + sorted(d for d in by_district if d not in districts)
    type_order = list(VIOLATION_TYPES) + sorted(t for t in by_type if t not in VIOLATION_TYPES)
    return {
        "kind": [FacetValue(p, KIND_LABELS[k], kinds[k], filters.kind == k) for p, k in KIND_PARAMS.items()],
        "district": [
            FacetValue(d, d, by_district[d], filters.district == d)
            for d in district_order
            if by_district[d] or filters.district == d
        ],
        "year": [
            FacetValue(str(y), f"{y}年", by_year[y], filters.year == y)
            for y in sorted(by_year, reverse=True)
            if y and (by_year[y] or filters.year == y)
        ],
        "type": [
            FacetValue(t, t, by_type[t], filters.vtype == t) for t in type_order if by_type[t] or filters.vtype == t
        ],
        # Labelled with the campaigns' names by ``_name_campaigns`` (a name may change, the index keeps ids).
        "campaign": [
            FacetValue(str(c), "", by_campaign[c], filters.campaign == c)
            for c in sorted(by_campaign, reverse=True)
            if c and (by_campaign[c] or filters.campaign == c)
        ],
    }


def _name_campaigns(facets: dict[str, list[FacetValue]], filters: Filters) -> dict[str, list[FacetValue]]:
    """The campaign facet with the campaigns' names, newest campaign first; the
    selected one is kept even with no match. A copy: ``facets`` may be shared."""
    values = {value.value: value for value in facets.get("campaign", [])}
    if filters.campaign is not None:
        values.setdefault(str(filters.campaign), FacetValue(str(filters.campaign), "", 0, True))
    if not values:
        return facets
    named = db.session.execute(_CAMPAIGN_NAMES, {"ids": [int(v) for v in values]}).all()
    campaign = [FacetValue(str(cid), name, values[str(cid)].count, values[str(cid)].selected) for cid, name in named]
    return {**facets, "campaign": campaign}


# --- ordering -------------------------------------------------------------------------

FEW_MATCHES = 5000  # up to this many matches a page is sorted out of them alone


def _page(
    snap: Snapshot, matched: np.ndarray, total: np.ndarray | None, page: int, per_page: int, sort: str | None
) -> list[tuple[int, int]]:
    """One page of (docnum, tier): by tier then newest first, or in ``sort`` order."""
    start, need = (page - 1) * per_page, page * per_page
    if total is None or sort:
        return [(d, 0) for d in snap.top(matched, need, sort)[start:]]
    docs = np.flatnonzero(matched)
    if len(docs) <= FEW_MATCHES:
        # Few matches (most queries): sort just them, in the order of the tiers
        # below (ties in docnum order, as ``top`` keeps them) — no pass over
        # the whole index per tier.
        order = np.lexsort((-snap.ids[docs], -snap.days[docs].astype(np.int64), total[docs]))
        picked = docs[order[start:need]]
        return list(zip(picked.tolist(), total[picked].tolist(), strict=True))
    counts = np.bincount(total[matched], minlength=1) if matched.any() else np.zeros(1, dtype=np.int64)
    chosen: list[tuple[int, int]] = []
    for tier in np.flatnonzero(counts).tolist():
        if need <= 0:
            break
        size = int(counts[tier])
        if start >= size:
            start -= size
            need -= size
            continue
        top = snap.top(matched & (total == tier), min(need, size))
        chosen.extend((d, tier) for d in top[start:])
        need -= len(top)
        start = 0
    return chosen[:per_page]


# --- suggestions ----------------------------------------------------------------------


def _pinyin_suggestions(snap: Snapshot, part: str, visible: np.ndarray, limit: int = 3) -> list[str]:
    """Names that sound like the query (恒大 → 恒达): the name fragments whose
    syllables equal the query's."""
    syllables = [char_pinyin(c) for c in part]
    if len(part) < 2 or len(part) > 8 or not all(syllables):
        return []
    candidates = None
    for pair in set(pinyin_terms(part)):
        docs = snap.pinyin_docs(pair)
        candidates = docs if candidates is None or len(docs) < len(candidates) else candidates
    if candidates is None:
        return []
    found: Counter = Counter()
    size = len(part)
    for d in candidates[visible[candidates]][:500].tolist():
        core = snap.core_name(d)
        readings = [char_pinyin(c) for c in core]  # each character once, not once per window
        for i in range(len(core) - size + 1):
            if readings[i : i + size] == syllables and core[i : i + size] != part:
                found[core[i : i + size]] += 1
    return [text for text, _ in found.most_common(limit)]


def _partial_matches(snap: Snapshot, part: str, visible: np.ndarray) -> list[int]:
    """Records whose name shares the most character pairs with a query nothing
    matches in full: shown under a label saying so."""
    pairs = list(dict.fromkeys(part[i : i + 2] for i in range(len(part) - 1) if " " not in part[i : i + 2]))
    if len(pairs) < 2:
        return []
    common = max(1000, snap.live_count // 10)
    lists = [docs for docs in (snap.pair_docs("name", pair) for pair in pairs) if 0 < len(docs) <= common]
    if not lists:
        return []
    tally = np.bincount(np.concatenate(lists), minlength=snap.size)
    tally[~visible] = 0
    best = int(tally.max())
    if best == 0:
        return []
    keep = np.flatnonzero(tally >= (max(1, best - 1) if best > 1 else 1))
    # Most pairs in common first, then newest.
    order = np.lexsort((-snap.ids[keep], -snap.days[keep].astype(np.int64), -tally[keep]))
    return keep[order].tolist()


# --- the search -----------------------------------------------------------------------


def search(
    q: str | None,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int = 20,
    districts: Sequence[str] = (),
    sort: str | None = None,
) -> Outcome:
    """Records public today matching ``q`` and the filters; ``QueryError`` for a
    malformed query."""
    filters = filters or Filters()
    if (sort or "") not in SORTS:
        raise QueryError(f"排序方式“{str(sort)[:20]}”无效")
    query = parse(q)
    outcome = Outcome(q=query.raw, query=query, filters=filters, page=page, per_page=per_page, sort=sort or None)
    if query.mode == "too_short":
        outcome.message = "请至少输入两个字：单位名称、人名或事实中的任意两个连续的字即可，例如“恒达”。"
        return outcome
    if query.mode == "empty" and not filters.any():
        return outcome
    with acquire() as snap:
        if snap is None:
            outcome.index_ready = False
            outcome.message = unavailable_message()
            return outcome
        _run(snap, outcome, districts)
    if query.expected_check and outcome.total == 0:
        code = query.code or ""
        outcome.notice = (
            f"统一社会信用代码“{code}”校验位不符，应为 {query.expected_check}"
            f"（按 GB 32100 计算，第18位应为“{query.expected_check}”而不是“{code[17:]}”），请核对是否录入有误。"
        )
        outcome.suggestions = [code[:17] + query.expected_check]
    return outcome


def _run(snap: Snapshot, outcome: Outcome, districts: Sequence[str]) -> None:
    today = clock.today()
    query, filters, page, per_page = outcome.query, outcome.filters, outcome.page, outcome.per_page
    visible = snap.visible_mask(today)
    hidden = _hidden_pending(snap, today)
    if hidden is not None:
        visible &= ~hidden
    total: np.ndarray | None = None
    if query.mode == "empty" and hidden is not None:
        matched = visible
        counts = _counts(snap, visible)
        outcome.facets = _facets(snap, counts, filters, districts)
    elif query.mode == "empty":
        matched = visible
        counts = _visible_counts(snap, today)
        key = (today, _filter_values(filters), tuple(districts))
        browse = snap.memo.setdefault("browse_facets", {})  # the same for everyone until the index or day changes
        if key not in browse:
            if len(browse) > 2000:
                browse.clear()
            browse[key] = _facets(snap, counts, filters, districts)
        outcome.facets = browse[key]
    else:
        matched, total = _matches(snap, query, visible)
        if query.fallback and not matched.any():
            # A decision number that matches none: its words, found anywhere.
            try:
                words = parse_words(query.fallback)
            except QueryError:
                words = None
            if words is not None and words.mode == "words":
                outcome.query = query = words
                matched, total = _matches(snap, query, visible)
        counts = _counts(snap, matched)
        outcome.facets = _facets(snap, counts, filters, districts)
    allowed = _allowed(snap, filters)
    outcome.total = int(counts[allowed].sum())
    if not allowed.all():
        matched = matched & snap.combo_mask(allowed)
    chosen = _page(snap, matched, total, page, per_page, outcome.sort)
    clauses = max(1, len(query.clauses))

    if outcome.total == 0 and query.simple:
        allowed_now = visible & snap.combo_mask(allowed)
        part = max((term.text for term in query.terms), key=len)
        outcome.suggestions = _pinyin_suggestions(snap, part, allowed_now)
        partial = _partial_matches(snap, part, allowed_now)
        if partial:
            outcome.partial = True
            outcome.total = len(partial)
            start = (page - 1) * per_page
            chosen = [(d, FACTS * clauses) for d in partial[start : start + per_page]]

    outcome.hits = [
        Hit(
            LISTING if snap.kinds[d] else CASE,
            int(snap.ids[d]),
            round(1.0 - tier / clauses / 10, 3) if query.mode != "empty" else 1.0,
            tier,
        )
        for d, tier in chosen
    ]
    outcome.facets = _name_campaigns(outcome.facets, filters)
    _attach_records(outcome, today)


# The statements every search runs, built once: SQLAlchemy then finds their
# compiled form without rebuilding them (and their cache key) per request.
_PENDING_AFTER = select(func.count(), func.max(SearchChange.id)).where(SearchChange.id > bindparam("seq"))
_CAMPAIGN_NAMES = (
    select(Campaign.id, Campaign.name)
    .where(Campaign.id.in_(bindparam("ids", expanding=True)))
    .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
)
# By primary key, then the one definition of "public" (domain.visibility):
# with the status in the WHERE clause SQLite would scan a status index. A
# listing's persons come in the same query (a join is cheaper than a second
# "selectin" query for a page of records).
_PAGE_RECORDS = {
    CASE: select(Case).where(Case.id.in_(bindparam("ids", expanding=True))).options(lazyload(Case.batch)),
    LISTING: select(Listing)
    .where(Listing.id.in_(bindparam("ids", expanding=True)))
    .options(lazyload(Listing.batch), joinedload(Listing.persons)),
}

PENDING_LIMIT = 200_000  # log entries looked at per check; a follower applies them within seconds


def _hidden_pending(snap: Snapshot, today: dt.date) -> np.ndarray | None:
    """A mask of the documents of records that change-log entries not yet
    applied to this snapshot name and that are not public now (withdrawn,
    removed, revoked, expired); None if there are none. Remembered per
    snapshot until the pending entries or the day change."""
    state = snap.applied
    if state.holes:
        statement, values = select(func.count(), func.max(SearchChange.id)).where(pending_clause(state)), {}
    else:  # the usual case: one prepared statement
        statement, values = _PENDING_AFTER, {"seq": state.seq}
    count, newest = db.session.execute(statement, values).one()
    if not count:
        return None
    key = (state.to_json(), count, newest, today)
    cached = snap.memo.get("hidden_pending")
    if cached is not None and cached[0] == key:
        return cached[1]
    named = {(row.record_kind, row.record_id) for row in read_entries(state, PENDING_LIMIT)}
    docs = snap.docnums(named)  # only those the index has: a new record is simply not there yet
    hidden = None
    if len(docs):
        present = {(LISTING if snap.kinds[d] else CASE, int(snap.ids[d])) for d in docs.tolist()}
        public = _public_now(present, today)
        hide = [d for d in docs.tolist() if (LISTING if snap.kinds[d] else CASE, int(snap.ids[d])) not in public]
        if hide:
            hidden = snap.mask(hide)
    snap.memo["hidden_pending"] = (key, hidden)
    return hidden


def _public_now(keys: set[tuple[str, int]], today: dt.date) -> set[tuple[str, int]]:
    """Which of these records are public today (domain.visibility's definition)."""
    public: set[tuple[str, int]] = set()
    for kind, model, clause in (
        (CASE, Case, case_is_public_clause()),
        (LISTING, Listing, listing_is_public_clause(today)),
    ):
        ids = sorted(i for k, i in keys if k == kind)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            public.update((kind, i) for i in db.session.scalars(select(model.id).where(model.id.in_(chunk), clause)))
    return public


def _counts(snap: Snapshot, matched: np.ndarray) -> np.ndarray:
    """Matches per facet combination number."""
    return snap.combo_counts(matched)


def _visible_counts(snap: Snapshot, today: dt.date) -> np.ndarray:
    cache = snap.memo.setdefault("visible_counts", {})
    if today not in cache:
        cache.clear()
        cache[today] = _counts(snap, snap.visible_mask(today))
    return cache[today]


def _attach_records(outcome: Outcome, today: dt.date) -> None:
    """Load the page's records from the database, keeping only those that are
    public now: a stale index can never show a record that is not."""
    by_kind: dict[str, list[int]] = {CASE: [], LISTING: []}
    for hit in outcome.hits:
        by_kind[hit.kind].append(hit.record_id)
    found: dict[tuple[str, int], Case | Listing] = {}
    for kind in (CASE, LISTING):
        if by_kind[kind]:
            for record in db.session.scalars(_PAGE_RECORDS[kind], {"ids": by_kind[kind]}).unique():
                if is_record_public(record, today):
                    found[(kind, record.id)] = record
    kept = []
    for hit in outcome.hits:
        hit.record = found.get((hit.kind, hit.record_id))
        if hit.record is not None:
            kept.append(hit)
    outcome.total -= len(outcome.hits) - len(kept)
    outcome.hits = kept
