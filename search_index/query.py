"""The query planner and executor: what a typed query means, which records
match, in which order, with which facet counts, snippets and suggestions.

- A credit code (any case, spaces, full width) or a decision number (any bracket
  style) is an exact look-up.
- Otherwise each space-separated part of two or more characters must occur in
  the record: candidates come from the posting list of the part's rarest bigram,
  and are verified against the folded text, so a fragment crossing word
  boundaries (恒达建) is found exactly, with no false positives.
- Order: exact name, name starting with the query, name containing it, a
  person's exact name, a person's name containing it, the facts; within each,
  newest first.
- Listings not in force today (clock.today()) never match, whatever the index
  says; the final page is checked against the database as well.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from domain import clock
from domain.validation import normalize_credit_code, normalize_document_no
from domain.visibility import is_record_public
from domain.vocabulary import VIOLATION_TYPES
from extensions import db
from models import Case, Listing
from search_index.analysis import char_pinyin, fold, is_cjk, normalize_query, pinyin_terms, terms
from search_index.documents import CASE, LISTING
from search_index.searcher import Snapshot, acquire

MAX_QUERY_LENGTH = 100
KIND_PARAMS = {"cases": CASE, "listings": LISTING}
KIND_LABELS = {CASE: "违法案件", LISTING: "失信名单"}
TIER_SCORES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
PREFIX_TERMS = 200  # terms a trailing letter/digit run may expand to
MEMO_VERIFIED_ABOVE = 20_000  # candidates; fewer are verified on every query
MEMO_VERIFIED = 8  # verified match lists kept per snapshot (8 bytes a match)

_CODE = re.compile(r"[0-9A-Z]{18}|\d{15}")
_YEAR_IN_BRACKETS = re.compile(r"[〔\[(（【［]\s*(19|20)\d\d\s*[〕\])）】］]")
_DOC_NO_TAIL = re.compile(r"(19|20)\d\d\D{0,3}\d+\s*号\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ValueError):
    """A query that cannot be searched; the message is shown to the user (400)."""


@dataclass
class Filters:
    kind: str | None = None  # "case" | "listing"
    district: str | None = None
    year: int | None = None
    vtype: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.kind, self.district, self.year, self.vtype))


@dataclass
class Plan:
    raw: str
    mode: str  # "empty" | "browse" | "code" | "document_no" | "text" | "too_short"
    parts: list[str] = field(default_factory=list)
    code: str | None = None
    document_no: str | None = None


@dataclass
class Hit:
    kind: str
    record_id: int
    score: float
    tier: int
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
    plan: Plan
    filters: Filters
    page: int
    per_page: int
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    message: str | None = None
    partial: bool = False  # no record has the whole query: these share part of it
    suggestions: list[str] = field(default_factory=list)
    index_ready: bool = True

    @property
    def highlight_terms(self) -> list[str]:
        if self.plan.mode == "text":
            return self.plan.parts
        return []


# --- planning -------------------------------------------------------------------------


def plan_query(q: str | None) -> Plan:
    raw = _CONTROL.sub(" ", q or "").strip()
    if len(raw) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"搜索词太长：最多 {MAX_QUERY_LENGTH} 个字符，请只输入单位名称、人名、代码或文书编号的一部分。"
        )
    if not raw:
        return Plan(raw, "empty")
    code = normalize_credit_code(raw)
    if _CODE.fullmatch(code):
        return Plan(raw, "code", code=code)
    folded = fold(raw)
    if any(is_cjk(c) for c in folded) and (_YEAR_IN_BRACKETS.search(folded) or _DOC_NO_TAIL.search(folded)):
        return Plan(raw, "document_no", parts=_parts(raw), document_no=normalize_document_no(raw))
    parts = _parts(raw)
    if not parts:
        return Plan(raw, "too_short")
    return Plan(raw, "text", parts=parts)


def _parts(raw: str) -> list[str]:
    """Space-separated parts of two or more characters, longest first (the
    rarest usually), without repeats or parts contained in another."""
    parts = [p for p in normalize_query(raw).split() if len(p) >= 2]
    parts = sorted(set(parts), key=len, reverse=True)
    kept: list[str] = []
    for part in parts:
        if not any(part in other for other in kept):
            kept.append(part)
    return kept[:8]


# --- matching -------------------------------------------------------------------------


def _candidates(snap: Snapshot, fieldname: str, part: str) -> Sequence[int] | None:
    """Docnums that may contain ``part`` in a field: the posting list of its
    rarest term. None if the part has no usable term (then every document is a
    candidate)."""
    tokens = terms(part)
    folded = fold(part)
    best: Sequence[int] | None = None
    best_size = None
    for token in tokens:
        if token[0] < "\x80":
            if folded.startswith(token):
                # Letters or digits the part starts with may be the end of a longer
                # run in the text (2025 in 12025): no term to look up.
                continue
            if folded.endswith(token):  # may continue beyond what was typed: all terms it starts
                expanded = snap.expand_prefix(fieldname, token, limit=PREFIX_TERMS + 1)
                if len(expanded) > PREFIX_TERMS:
                    continue  # too common a start to be worth looking up
                size = sum(snap.doc_frequency(fieldname, t) for t in expanded)
                if best_size is None or size < best_size:
                    ids: list[int] = []
                    for term in expanded:
                        ids.extend(snap.postings(fieldname, term))
                    best, best_size = ids, size
                continue
        elif len(token) == 1:  # a lone CJK character: indexed only when it stands alone
            continue
        size = snap.doc_frequency(fieldname, token)
        if size == 0:
            return []
        if best_size is None or size < best_size:
            best, best_size = None, size
            best_token = token
    if best is None and best_size is not None:
        best = snap.postings(fieldname, best_token)
    return best


def _field_matches(snap: Snapshot, fieldname: str, part: str) -> np.ndarray:
    """A mask of the live documents having ``part`` in a field."""
    if len(part) == 2 and is_cjk(part[0]) and is_cjk(part[1]):
        # The part is one whole term (a CJK pair): its posting list is the answer.
        return snap.mask(snap.postings(fieldname, part)) & snap.live_mask
    candidates = _candidates(snap, fieldname, part)
    if candidates is not None and len(candidates) < MEMO_VERIFIED_ABOVE:
        return snap.mask(snap.verify(getattr(snap, fieldname), candidates, part))
    # A part nearly every document has (有限公司): verify once per generation.
    key = (fieldname, part)
    with snap.memo_lock:
        memo: OrderedDict = snap.memo.setdefault("verified", OrderedDict())
        found = memo.get(key)
        if found is not None:
            memo.move_to_end(key)
            return found.copy()
    found = snap.mask(snap.verify(getattr(snap, fieldname), candidates, part))
    with snap.memo_lock:
        memo[key] = found
        while len(memo) > MEMO_VERIFIED:
            memo.popitem(last=False)
    return found.copy()


def _text_matches(snap: Snapshot, parts: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """A mask of the documents containing every part, and the masks of the
    tiers better than a facts-only match, best first (a document's tier is the
    first mask holding it)."""
    if len(parts) == 1:
        part = parts[0]
        in_name = _field_matches(snap, "name", part)
        in_people = _field_matches(snap, "people", part)
        in_text = _field_matches(snap, "text", part)
        exact = in_name & snap.mask(snap.postings("name_exact", re.sub(r"\s+", "", part)))
        # Names starting with the query: look where there are fewer to look.
        begins = np.frombuffer(snap.name_starts(part[:2]), dtype=np.int64)
        named = np.flatnonzero(in_name)
        pool = named if len(named) < len(begins) else begins[in_name[begins]]
        name, short = snap.name, snap.short
        starts = snap.mask([d for d in pool.tolist() if name.startswith(d, part) or short.startswith(d, part)])
        people = snap.people
        people_exact = snap.mask([d for d in np.flatnonzero(in_people).tolist() if part in people.get(d).split()])
        return in_name | in_people | in_text, [exact, starts, in_name, people_exact, in_people]
    matched = name_all = None
    for part in parts:
        in_name = _field_matches(snap, "name", part)
        hits = in_name | _field_matches(snap, "people", part) | _field_matches(snap, "text", part)
        matched = hits if matched is None else matched & hits
        name_all = in_name if name_all is None else name_all & in_name
    return matched, [name_all & False, name_all & False, name_all]


def _exact(snap: Snapshot, fieldname: str, value: str | None) -> np.ndarray:
    if not value:
        return snap.mask(())
    return snap.mask(snap.postings(fieldname, value)) & snap.live_mask


# --- filters and facets ---------------------------------------------------------------


def _combo_filter(snap: Snapshot, filters: Filters, skip: str | None = None) -> frozenset[int]:
    """Combination numbers (kind, district, year, types) allowed by the filters,
    optionally ignoring one dimension (for that dimension's facet counts).
    Remembered per snapshot: the combinations of a generation do not change."""
    key = (filters.kind, filters.district, filters.year, filters.vtype, skip)
    cache = snap.memo.setdefault("combo_filter", {})
    allowed = cache.get(key)
    if allowed is None:
        if len(cache) > 2000:
            cache.clear()
        allowed = cache[key] = frozenset(_allowed_combos(snap, filters, skip))
    return allowed


def _allowed_combos(snap: Snapshot, filters: Filters, skip: str | None) -> set[int]:
    kind_code = None if filters.kind is None else (1 if filters.kind == LISTING else 0)
    allowed = set()
    for number, (kind, district, year, types) in enumerate(snap.combos):
        if skip != "kind" and kind_code is not None and kind != kind_code:
            continue
        if skip != "district" and filters.district is not None and district != filters.district:
            continue
        if skip != "year" and filters.year is not None and year != filters.year:
            continue
        if skip != "type" and filters.vtype is not None and filters.vtype not in types:
            continue
        allowed.add(number)
    return allowed


def _facets(
    snap: Snapshot, counts: dict[int, int], filters: Filters, districts: Sequence[str]
) -> dict[str, list[FacetValue]]:
    def tally(skip: str, key) -> Counter:
        allowed = _combo_filter(snap, filters, skip=skip)
        out: Counter = Counter()
        for number, count in counts.items():
            if number in allowed:
                for value in key(snap.combos[number]):
                    out[value] += count
        return out

    kinds = tally("kind", lambda c: [LISTING if c[0] else CASE])
    by_district = tally("district", lambda c: [c[1]])
    by_year = tally("year", lambda c: [c[2]])
    by_type = tally("type", lambda c: c[3])
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
    }


# --- ordering -------------------------------------------------------------------------


def _top(snap: Snapshot, docs: np.ndarray, count: int) -> list[int]:
    """The first ``count`` documents of a mask in newest-first order."""
    index = np.flatnonzero(docs)
    if count <= 0 or not len(index):
        return []
    ranks = snap.rank_np[index]
    if count < len(index):
        chosen = np.argpartition(ranks, count - 1)[:count]
        index, ranks = index[chosen], ranks[chosen]
    return index[np.argsort(ranks, kind="stable")][:count].tolist()


def _page(
    snap: Snapshot, results: np.ndarray, tiers: list[np.ndarray], page: int, per_page: int
) -> list[tuple[int, int]]:
    """One page of ``results``: by tier, newest first within a tier."""
    start, need = (page - 1) * per_page, page * per_page
    chosen: list[tuple[int, int]] = []
    remaining = results.copy()
    last = len(TIER_SCORES) - 1
    for tier in range(len(TIER_SCORES)):
        if need <= 0:
            break
        if tier < last:
            if tier >= len(tiers):
                continue
            bucket = remaining & tiers[tier]
            remaining &= ~tiers[tier]
        else:
            bucket = remaining
        size = int(np.count_nonzero(bucket))
        if not size:
            continue
        if start >= size:
            start -= size
            need -= size
            continue
        top = _top(snap, bucket, min(need, size))
        chosen.extend((d, tier) for d in top[start:])
        need -= len(top)
        start = 0
    return chosen[:per_page]


# --- suggestions ----------------------------------------------------------------------


def _pinyin_suggestions(snap: Snapshot, part: str, visible, limit: int = 3) -> list[str]:
    """Names that sound like the query (恒大 → 恒达): the name fragments whose
    syllables equal the query's."""
    syllables = [char_pinyin(c) for c in part]
    if len(part) < 2 or len(part) > 8 or not all(syllables):
        return []
    pairs = pinyin_terms(part)
    rarest = min(pairs, key=lambda t: snap.doc_frequency("name_py", t))
    found: Counter = Counter()
    for d in islice((d for d in snap.postings("name_py", rarest) if visible(d)), 500):
        core = snap.core.get(d)
        for i in range(len(core) - len(part) + 1):
            window = core[i : i + len(part)]
            if window != part and all(char_pinyin(c) == s for c, s in zip(window, syllables, strict=True)):
                found[window] += 1
    return [text for text, _ in found.most_common(limit)]


def _partial_matches(snap: Snapshot, part: str, visible) -> list[int]:
    """Records whose name shares the most bigrams with a query nothing matches
    in full: shown under a label saying so."""
    bigrams = [t for t in dict.fromkeys(terms(part)) if len(t) == 2 or t[0] < "\x80"]
    if len(bigrams) < 2:
        return []
    usable = [t for t in bigrams if snap.doc_frequency("name", t) <= max(1000, snap.live_count // 10)]
    tally: Counter = Counter()
    for term in usable:
        tally.update(d for d in snap.postings("name", term) if visible(d))
    if not tally:
        return []
    best = max(tally.values())
    threshold = max(1, best - 1) if best > 1 else 1
    keep = [d for d, n in tally.items() if n >= threshold]
    keep.sort(key=lambda d: (-tally[d], snap.rank[d]))
    return keep


# --- the search -----------------------------------------------------------------------


def search(
    q: str | None, filters: Filters | None = None, page: int = 1, per_page: int = 20, districts: Sequence[str] = ()
) -> Outcome:
    filters = filters or Filters()
    plan = plan_query(q)
    outcome = Outcome(q=plan.raw, plan=plan, filters=filters, page=page, per_page=per_page)
    if plan.mode == "too_short":
        outcome.message = "请至少输入两个字：单位名称、人名或事实中的任意两个连续的字即可，例如“恒达”。"
        return outcome
    if plan.mode == "empty" and not filters.any():
        return outcome
    with acquire() as snap:
        if snap is None:
            outcome.index_ready = False
            outcome.message = "搜索索引正在建立，请稍后再试。"
            return outcome
        _run(snap, plan, outcome, filters, page, per_page, districts)
    return outcome


def _run(
    snap: Snapshot, plan: Plan, outcome: Outcome, filters: Filters, page: int, per_page: int, districts: Sequence[str]
) -> None:
    today = clock.today()

    tiers: list[np.ndarray] = []
    matched: np.ndarray | None = None  # None: everything (browsing by filters)
    if plan.mode == "code":
        matched = _exact(snap, "credit_code", plan.code)
        tiers = [matched]
    elif plan.mode == "document_no":
        matched = _exact(snap, "document_no", plan.document_no)
        tiers = [matched]
        if not matched.any() and plan.parts:
            matched, tiers = _text_matches(snap, plan.parts)
    elif plan.mode == "text":
        matched, tiers = _text_matches(snap, plan.parts)

    combo = snap.combo
    visible = snap.visible_mask(today)
    if matched is None:
        matched = visible
        counts = _visible_counts(snap, today)
        key = (today, filters.kind, filters.district, filters.year, filters.vtype, tuple(districts))
        browse = snap.memo.setdefault("browse_facets", {})  # the same for everyone until the index or day changes
        if key not in browse:
            if len(browse) > 2000:
                browse.clear()
            browse[key] = _facets(snap, counts, filters, districts)
        outcome.facets = browse[key]
    else:
        matched &= visible
        counts = _counts(snap, matched)
        outcome.facets = _facets(snap, counts, filters, districts)
    allowed = _combo_filter(snap, filters)
    outcome.total = sum(c for n, c in counts.items() if n in allowed)
    if len(allowed) < len(snap.combos):
        matched = matched & _combo_mask(snap, allowed)[snap.combo_np]
    chosen = _page(snap, matched, tiers, page, per_page)

    if outcome.total == 0 and plan.mode in ("text", "document_no") and plan.parts:

        def visible(d: int) -> bool:
            return d not in snap.deleted and d not in hidden and combo[d] in allowed

        hidden = snap.hidden_listings(today)

        part = plan.parts[0]
        outcome.suggestions = _pinyin_suggestions(snap, part, visible)
        partial = _partial_matches(snap, part, visible)
        if partial:
            outcome.partial = True
            outcome.total = len(partial)
            start = (page - 1) * per_page
            chosen = [(d, len(TIER_SCORES) - 1) for d in partial[start : start + per_page]]

    outcome.hits = [Hit(LISTING if snap.kinds[d] else CASE, snap.ids[d], TIER_SCORES[tier], tier) for d, tier in chosen]
    _attach_records(outcome, today)


def _counts(snap: Snapshot, matched: np.ndarray) -> dict[int, int]:
    """Matches per facet combination number."""
    counts = np.bincount(snap.combo_np[matched], minlength=len(snap.combos))
    numbers = np.flatnonzero(counts)
    return dict(zip(numbers.tolist(), counts[numbers].tolist(), strict=True))


def _visible_counts(snap: Snapshot, today: dt.date) -> dict[int, int]:
    cache = snap.memo.setdefault("visible_counts", {})
    if today not in cache:
        cache.clear()
        cache[today] = _counts(snap, snap.visible_mask(today))
    return cache[today]


def _combo_mask(snap: Snapshot, allowed: frozenset[int]) -> np.ndarray:
    mask = np.zeros(len(snap.combos), dtype=bool)
    if allowed:
        mask[list(allowed)] = True
    return mask


def _attach_records(outcome: Outcome, today: dt.date) -> None:
    """Load the page's records from the database, keeping only those that are
    public now: a stale index can never show a record that is not."""
    by_kind: dict[str, list[int]] = {CASE: [], LISTING: []}
    for hit in outcome.hits:
        by_kind[hit.kind].append(hit.record_id)
    found: dict[tuple[str, int], Case | Listing] = {}
    # By primary key, then the one definition of "public" (domain.visibility):
    # with the status in the WHERE clause SQLite would scan a status index.
    for kind, model in ((CASE, Case), (LISTING, Listing)):
        if by_kind[kind]:
            statement = select(model).where(model.id.in_(by_kind[kind])).options(lazyload(model.batch))
            for record in db.session.scalars(statement):
                if is_record_public(record, today):
                    found[(kind, record.id)] = record
    kept = []
    for hit in outcome.hits:
        hit.record = found.get((hit.kind, hit.record_id))
        if hit.record is not None:
            kept.append(hit)
    outcome.total -= len(outcome.hits) - len(kept)
    outcome.hits = kept


# --- highlighting ---------------------------------------------------------------------


def _spans(text: str, parts: Sequence[str]) -> list[tuple[int, int]]:
    folded = fold(text)
    spans = []
    for part in parts:
        if not part:
            continue
        start = folded.find(part)
        while start >= 0:
            spans.append((start, start + len(part)))
            start = folded.find(part, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def highlight(text: str | None, parts: Sequence[str]) -> Markup:
    """``text`` HTML-escaped, with every occurrence of a part in <mark>."""
    text = text or ""
    out = []
    last = 0
    for begin, end in _spans(text, parts):
        out.append(escape(text[last:begin]))
        out.append(Markup("<mark>") + escape(text[begin:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(text: str | None, parts: Sequence[str], width: int = 90) -> Markup:
    """A window of ``text`` around its first match (or its start), highlighted."""
    text = " ".join((text or "").split())
    spans = _spans(text, parts)
    if len(text) <= width:
        return highlight(text, parts)
    start = 0
    if spans:
        start = max(0, min(spans[0][0] - width // 3, len(text) - width))
    piece = text[start : start + width]
    body = highlight(piece, parts)
    return (Markup("…") if start else Markup("")) + body + (Markup("…") if start + width < len(text) else Markup(""))
