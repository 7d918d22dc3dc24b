"""The public data as the web sees it, shared by the public pages and the API (a
blueprint never imports another): list filters read from the request, the public
page of each record, a public batch or its 404/410, and the statistics answer."""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, current_app, request, url_for

from domain import campaigns, queries, statistics
from domain.params import ParameterError, int_param
from domain.serializers import PublicUrls, UrlOf
from models import Batch, Campaign


def case_filters() -> queries.CaseFilters:
    return queries.parse_case_filters(request.args, current_app.config["DISTRICTS"])


def listing_filters() -> queries.ListingFilters:
    return queries.parse_listing_filters(request.args, current_app.config["DISTRICTS"])


def batch_filters() -> queries.BatchFilters:
    return queries.parse_batch_filters(request.args)


def _url_of(endpoint: str) -> UrlOf:
    """A record's absolute URL, with ``url_for`` called once rather than once per
    row of a download (record URLs differ only by their id)."""
    marker = 918273645
    head, tail = url_for(endpoint, id=marker, _external=True).split(str(marker))
    return lambda record: f"{head}{record.id}{tail}"


def public_urls() -> PublicUrls:
    return PublicUrls(case=_url_of("public.case"), listing=_url_of("public.listing"), batch=_url_of("public.batch"))


def public_batch_or_abort(batch_id: int) -> Batch:
    batch = queries.public_batch(batch_id)
    if batch is None:
        if queries.batch_withdrawn(batch_id):
            abort(410, description="该批次已撤回，依法停止公开。")
        abort(404)
    return batch


# --- statistics ---------------------------------------------------------------------------


def campaign_arg(args: Mapping[str, str]) -> Campaign | None:
    """The ``campaign`` parameter: a campaign's id, or nothing."""
    campaign_id = int_param(args, "campaign", "专项行动", 1, 2**31 - 1)
    if campaign_id is None:
        return None
    found = campaigns.get(campaign_id)
    if found is None:
        raise ParameterError(f"没有编号为 {campaign_id} 的专项行动")
    return found


def statistics_answer(args: Mapping[str, str]) -> dict:
    """The API answer for the query parameters (also /api/v1/statistics)."""
    found = campaign_arg(args)
    answer = statistics.as_dict(
        statistics.compute(statistics.parse_period(args), campaign_id=found.id if found else None)
    )
    if found is not None:
        answer["period"]["campaign"] = {
            "id": found.id,
            "name": found.name,
            "starts_on": found.starts_on.isoformat(),
            "ends_on": found.ends_on.isoformat() if found.ends_on else None,
            "url": url_for("statistics.campaign", id=found.id, _external=True),
        }
    return answer
