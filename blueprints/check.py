"""失信名单查询 (/check): "is this employer on the blacklist?" answered in one
step. A credit code or an exact name gets a dated verdict card (``domain.verdict``);
a mistyped code is told which character is wrong; part of a name gets the
enterprises whose names contain it, from the search seam."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, redirect, request, url_for

from domain import clock, verdict
from search_index import Filters, QueryError
from search_index import search as run_search
from web.common import render

bp = Blueprint("check", __name__)

CANDIDATES = 10  # enterprises shown for part of a name
CANDIDATE_HITS = 60  # search hits read to find them (several records per enterprise)


@dataclass
class Candidate:
    """An enterprise whose name contains the query, with how to ask about it."""

    name: str
    code: str | None
    district: str
    listed_now: bool
    query: str  # what to look up for its verdict: its code, else its exact name


def _candidates(q: str) -> tuple[list[Candidate], int, str | None]:
    """Enterprises whose public records match part of a name, in search order;
    with the number of matching records and the search's own message."""
    try:
        outcome = run_search(q, Filters(), 1, CANDIDATE_HITS, districts=current_app.config["DISTRICTS"])
    except QueryError as problem:
        return [], 0, str(problem)
    if outcome.partial:  # these share only part of the query: not what was asked
        return [], 0, None
    found: dict[str, Candidate] = {}
    for hit in outcome.hits:
        record = hit.record
        if record is None:
            continue
        key = record.credit_code or record.reg_no or record.enterprise_name
        candidate = found.get(key)
        if candidate is None:
            if len(found) >= CANDIDATES:
                continue
            candidate = found[key] = Candidate(
                name=record.enterprise_name,
                code=record.credit_code or record.reg_no,
                district=record.district,
                listed_now=False,
                query=record.credit_code or record.reg_no or record.enterprise_name,
            )
        # Search only ever returns listings that are public today.
        candidate.listed_now = candidate.listed_now or hit.kind == "listing"
    return list(found.values()), outcome.total, outcome.message


def share_url(query: str) -> str:
    """The stable link of a verdict: the same question asked again, today."""
    return url_for("check.check", q=query, _external=True)


@bp.get("/check")
def check():
    q = request.args.get("q", "")
    query, verdicts = verdict.lookup(q)
    if query.kind in ("code", "reg_no") and q != query.value:
        # One link per code, however it was typed (spaces, lower case, full width).
        return redirect(url_for("check.check", q=query.value), code=302)
    candidates, total, message = [], 0, None
    if query.kind == "name" and not verdicts:
        candidates, total, message = _candidates(query.value)
    title = f"查询：{query.value[:30]}" if query.value else "失信名单查询"
    return render(
        "check/check.html",
        "check/check.html",
        title=title,
        q=q,
        query=query,
        verdicts=verdicts,
        candidates=candidates,
        total=total,
        message=message,
        share_url=share_url(query.value) if query.value else None,
        queried_at=clock.now(),
    )
