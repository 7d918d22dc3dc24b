"""The built-in sample data: the default set's shape, determinism, scaling, and that
it goes through the import service like any staff upload."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from domain import sample_data
from domain.importing import CASE_COLUMNS, LISTING_COLUMNS, ImportSettings, validate_table
from domain.sample_data import load_sample_data, planned_counts
from domain.spreadsheets import Table
from domain.validation import find_private_data
from domain.visibility import case_is_public_clause, listing_is_public_clause
from extensions import db
from models import Batch, Case, Enterprise, Hotline, Listing
from tests.conftest import FIXED_TODAY


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def records(model) -> list:
    return db.session.scalars(select(model).order_by(model.id)).all()


def test_default_set_shape(app):
    summary = load_sample_data()
    assert "示例数据" in summary
    assert count(Case, case_is_public_clause()) >= 150
    assert count(Listing, listing_is_public_clause(FIXED_TODAY)) >= 40
    published = db.session.scalars(select(Batch).where(Batch.status == "published")).all()
    assert len(published) >= 6
    assert all(batch.is_sample for batch in published)
    assert count(Batch, Batch.status != "published") == 0
    assert {batch.year for batch in published} == set(range(2020, FIXED_TODAY.year + 1))


def test_2020_is_shaped_like_the_bureaus_report(app):
    load_sample_data()
    for kind, total in (("cases", 37), ("listings", 17)):
        batches = db.session.scalars(select(Batch).where(Batch.kind == kind, Batch.year == 2020)).all()
        assert sorted(batch.number for batch in batches) == [1, 2, 3]
        model = Case if kind == "cases" else Listing
        assert count(model, model.batch_id.in_([batch.id for batch in batches])) == total
    listings_2020 = db.session.scalars(select(Listing).where(Listing.year == 2020)).all()
    assert len(listings_2020) == 17
    assert {(listing.regime, listing.term_years) for listing in listings_2020} == {("2017", 1)}
    # One-year 2017-regime listings have long expired: none of them is public today.
    assert count(Listing, Listing.year == 2020, listing_is_public_clause(FIXED_TODAY)) == 0


def test_batches_are_published_after_their_latest_decision(app):
    load_sample_data()
    for batch in records(Batch):
        model = Case if batch.kind == "cases" else Listing
        day = model.decided_on if batch.kind == "cases" else model.listed_on
        latest = db.session.scalar(select(func.max(day)).where(model.batch_id == batch.id))
        assert latest < batch.published_on <= latest + dt.timedelta(days=12)
        assert batch.published_on <= FIXED_TODAY
        assert latest.year == batch.year
        assert re.fullmatch(rf"{batch.year}年第[一二三四五六七八九十]+批.+", batch.title)


def test_records_are_fictional_and_private_data_free(app):
    load_sample_data()
    for record in records(Case) + records(Listing):
        assert "示例" in record.enterprise_name
        assert "示例" in record.address
        assert re.fullmatch(r"[\u4e00-\u9fff]某[\u4e00-\u9fff]?", record.legal_representative)
        if record.credit_code:
            assert record.credit_code[0] == "9" and record.credit_code[2:6] == "6201"
            assert uscc.is_valid(record.credit_code)
        for text in (
            getattr(record, "facts", None),
            getattr(record, "handling", None),
            getattr(record, "reason", None),
        ):
            if text:
                assert find_private_data(text) is None
    for listing in records(Listing):
        assert listing.credit_code  # listings always name a registered employer
        assert all(re.fullmatch(r"[\u4e00-\u9fff]某[\u4e00-\u9fff]?", name) for name in listing.responsible_persons)
    facts = " ".join(case.facts for case in records(Case))
    assert re.search(r"[\u4e00-\u9fff]某等\d+名(农民工|劳动者)", facts)


def test_realistic_distributions(app):
    load_sample_data()
    cases = records(Case)
    assert all(1 <= case.workers_involved <= 300 for case in cases)
    wage_cases = [case for case in cases if "劳动报酬" in case.violation_types]
    assert all(case.workers_involved >= 2 and case.amount_involved for case in wage_cases)
    industries = [case.industry for case in cases]
    assert max(set(industries), key=industries.count) == "建筑业"
    refused = [case for case in cases if "拒不支付劳动报酬" in case.violation_types]
    assert all(case.transferred_to_police for case in refused)
    assert 0.2 <= sum(case.transferred_to_police for case in cases) / len(cases) <= 0.4
    assert {case.district for case in cases} <= set(app.config["DISTRICTS"])
    assert len({case.district for case in cases}) >= 6
    # Repeat offenders: some enterprises have several records.
    assert count(Enterprise) < len(cases) + count(Listing)
    documents = [case.document_no for case in cases]
    assert len(set(documents)) == len(documents)
    assert all(re.fullmatch(r".+劳监(指|罚|移)〔\d{4}〕\d+号", document) for document in documents)


def test_hotlines_seeded_once(app):
    load_sample_data()
    hotlines = db.session.scalars(select(Hotline).order_by(Hotline.position)).all()
    assert len(hotlines) == 16
    assert hotlines[0].phone == "12333" and hotlines[0].unit == app.config["AUTHORITY_NAME"]
    brigades = [hotline for hotline in hotlines if hotline.unit.endswith("劳动保障监察大队（示例）")]
    assert len(brigades) == len(app.config["DISTRICTS"])
    assert all(re.fullmatch(r"0931-\d{7}", hotline.phone) for hotline in brigades)
    load_sample_data(cases=5, listings=0)
    assert count(Hotline) == 16


def snapshot() -> list[tuple]:
    cases = [(c.enterprise_name, c.credit_code, c.facts, c.amount_involved, c.decided_on) for c in records(Case)]
    listings = [(item.enterprise_name, item.reason, item.listed_on) for item in records(Listing)]
    batches = [(b.kind, b.year, b.number, b.published_on) for b in records(Batch)]
    return cases + listings + batches


def start_over() -> None:
    db.session.remove()  # release the session's locks, or PostgreSQL's DROP waits for ever
    db.drop_all()
    db.create_all()


def test_deterministic_by_seed(app):
    load_sample_data(cases=60, listings=20, seed=7)
    first = snapshot()
    start_over()
    load_sample_data(cases=60, listings=20, seed=7)
    assert snapshot() == first
    start_over()
    load_sample_data(cases=60, listings=20, seed=8)
    assert snapshot() != first


def test_scaling_splits_into_batches(app, monkeypatch):
    monkeypatch.setattr(sample_data, "MAX_BATCH_RECORDS", 40)
    monkeypatch.setattr(sample_data, "GENERATE_CHUNK", 15)
    seen = []
    summary = load_sample_data(cases=130, listings=45, progress=seen.append)
    assert count(Case) == 130 and count(Listing) == 45
    assert sum(seen) == 175
    batches = records(Batch)
    assert len([b for b in batches if b.kind == "cases"]) == 4
    assert len([b for b in batches if b.kind == "listings"]) == 2
    assert all(b.status == "published" and b.is_sample for b in batches)
    assert len({(b.kind, b.year, b.number) for b in batches}) == len(batches)
    assert "130 件案件" in summary and "45 条失信名单" in summary
    # Scaled listings are recent, so most are in force.
    assert count(Listing, listing_is_public_clause(FIXED_TODAY)) >= 30


def test_loading_twice_numbers_batches_on(app):
    load_sample_data(cases=10, listings=0)
    load_sample_data(cases=10, listings=0)
    numbers = sorted(b.number for b in records(Batch))
    assert numbers == [1, 2]


def test_planned_counts():
    assert planned_counts(None, None) is None
    assert planned_counts(1000, None) == (1000, 50)
    assert planned_counts(None, 30) == (0, 30)
    assert planned_counts(5, 0) == (5, 0)


@pytest.mark.parametrize("kind", ["cases", "listings"])
def test_generated_rows_pass_the_import_as_they_are(app, kind):
    """The rows are the template's strings: what a staff member would upload."""
    place = sample_data._Place.from_config(app.config)
    generator = sample_data._Generator(place, seed=1, pool_size=500)
    rng = sample_data.random.Random(1)
    columns = CASE_COLUMNS if kind == "cases" else LISTING_COLUMNS
    make = generator.case_row if kind == "cases" else generator.listing_row
    rows = [make(rng, dt.date(2021 + i % 5, 1 + i % 12, 1 + i % 28)) for i in range(2000)]
    assert all(set(row) == set(columns) and all(isinstance(v, str) for v in row.values()) for row in rows)
    table = Table(header=list(columns), rows=[(n + 2, [row[c] for c in columns]) for n, row in enumerate(rows)])
    report = validate_table(kind, table, ImportSettings.from_config(app.config))
    assert report.errors == []
    assert len(report.records) == 2000


def test_sample_banner(app):
    from web.site import sample_data_shown

    assert not sample_data_shown()
    load_sample_data(cases=3, listings=1)
    assert sample_data_shown()


@pytest.mark.parametrize("reindex_above", [10_000, 5], ids=["log", "rebuild"])
def test_search_index_agrees_after_loading(app, monkeypatch, reindex_above):
    """Small loads apply the change log; large ones rebuild the index. Either way the
    index agrees with the database and nothing is pending."""
    from search_index import check

    monkeypatch.setattr(sample_data, "REINDEX_ABOVE", reindex_above)
    load_sample_data(cases=30, listings=6)
    result = check()
    assert result.ok, result.summary()
    assert result.expected == count(Case, case_is_public_clause()) + count(
        Listing, listing_is_public_clause(FIXED_TODAY)
    )
