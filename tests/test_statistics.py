"""The bureau's figures (domain.statistics, /statistics, /api/v1/statistics and the
home page) against a hand-counted set: a withdrawn case, a withdrawn batch, an
expired listing, a listing removed early, a revoked one, a withdrawn one, an
enterprise listed twice (in two years) and another listed twice in force, an
enterprise with two cases, and a year with no data (2021)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from domain import audit, campaigns, statistics
from domain.importing import ImportSettings, check_file, store_batch
from domain.params import ParameterError
from domain.publishing import (
    correct_record,
    publish_batch,
    record_fields,
    remove_listing,
    revoke_listing,
    withdraw_batch,
    withdraw_record,
)
from extensions import db
from models import Batch, Case, CaseViolationType, Listing, SearchChange, User
from tests.admin_support import make_user
from tests.builders import case_row, credit_code, listing_row, load, to_csv
from tests.conftest import FIXED_TODAY
from tests.test_exports import saved_as

MONEY = {"amount": "涉及金额（元）", "fine": "罚款金额（元）", "owed": "拖欠金额（元）"}


def _case(serial: int, doc: str, **fields):
    return case_row(
        统一社会信用代码=credit_code(serial), 违法主体名称=f"兰州示例{serial}号有限公司", 文书编号=doc, **fields
    )


def _listing(serial: int, doc: str, listed_on: str, **fields):
    return listing_row(
        统一社会信用代码=credit_code(serial),
        单位名称=f"兰州示例{serial}号有限公司",
        决定文书号=doc,
        列入日期=listed_on,
        **fields,
    )


def seed():
    staff = make_user("stats-staff", "admin")
    load(
        "cases",
        [
            _case(
                1,
                "兰城劳监〔2020〕1号",
                涉及人数="12",
                是否移送公安机关="是",
                行业="建筑业",
                **{MONEY["amount"]: "200000"},
            ),
            _case(
                3,
                "兰七劳监〔2020〕2号",
                区县="七里河区",
                行业="制造业",
                违法类型="拖欠劳动报酬、未依法缴纳社会保险费",
                涉及人数="5",
                是否移送公安机关="否",
                **{MONEY["amount"]: "50000", MONEY["fine"]: "20000"},
            ),
            _case(4, "兰城劳监〔2020〕3号", 涉及人数="100", 是否移送公安机关="是", **{MONEY["amount"]: "999999"}),
        ],
        title="2020年第一批",
    )
    load(
        "cases",
        # the same enterprise as the first case of the first batch
        [
            _case(
                1,
                "兰城劳监〔2020〕9号",
                涉及人数="3",
                是否移送公安机关="否",
                **{MONEY["amount"]: "10000", MONEY["fine"]: "5000"},
            )
        ],
        title="2020年第二批",
    )
    load(
        "cases",
        [
            _case(
                5,
                "兰安劳监〔2022〕1号",
                区县="安宁区",
                涉及人数="7",
                决定日期="2022-05-01",
                **{MONEY["amount"]: "70000"},
            )
        ],
        title="2022年第一批",
    )
    gone_batch = load(
        "cases",
        [_case(6, "兰安劳监〔2022〕2号", 区县="安宁区", 涉及人数="40", 决定日期="2022-06-01")],
        title="2022年第二批",
    )
    load(
        "listings",
        [
            _listing(2, "兰人社失信〔2020〕1号", "2020-06-30"),  # expired 2023-06-30
            _listing(7, "兰人社失信〔2020〕2号", "2020-07-01", 区县="西固区", **{"期限（年）": "1"}),
        ],
        title="2020年第一批",
    )
    load(
        "listings",
        [
            _listing(2, "兰人社失信〔2025〕1号", "2025-06-30"),  # listed again: in force
            _listing(8, "兰人社失信〔2025〕2号", "2025-03-01"),
            _listing(8, "兰人社失信〔2025〕3号", "2025-05-01"),  # a second listing in force
            _listing(9, "兰人社失信〔2025〕4号", "2025-04-01"),  # removed early
            _listing(10, "兰人社失信〔2025〕5号", "2025-04-02"),  # withdrawn
            _listing(11, "兰人社失信〔2025〕6号", "2025-04-03"),  # revoked
        ],
        title="2025年第一批",
    )

    def one(model, doc):
        return db.session.scalar(select(model).where(model.document_no == doc))

    withdraw_record(one(Case, "兰城劳监〔2020〕3号"), "公布有误", staff)
    withdraw_batch(gone_batch, "公布有误", staff)
    remove_listing(
        one(Listing, "兰人社失信〔2025〕4号"), dt.date(2026, 1, 5), "信用修复", "兰人社移出〔2026〕1号", staff
    )
    withdraw_record(one(Listing, "兰人社失信〔2025〕5号"), "公布有误", staff)
    revoke_listing(one(Listing, "兰人社失信〔2025〕6号"), dt.date(2026, 2, 1), "决定被依法撤销", staff)
    db.session.commit()


@pytest.fixture
def data(app):
    seed()


def figures(**args):
    return statistics.compute(statistics.parse_period({k: str(v) for k, v in args.items()})).figures


ALL_YEARS = {
    "case_batches": 3,
    "cases": 4,
    "case_enterprises": 3,
    "cases_transferred_to_police": 2,
    "case_workers": 27,
    "case_amount": Decimal("330000.00"),
    "case_fines": Decimal("25000.00"),
    "listing_batches": 2,
    "listings": 6,
    "listing_enterprises": 4,
    "listings_in_force": 3,
    "enterprises_in_force": 2,
}
YEAR_2020 = {
    "case_batches": 2,
    "cases": 3,
    "case_enterprises": 2,
    "cases_transferred_to_police": 1,
    "case_workers": 20,
    "case_amount": Decimal("260000.00"),
    "case_fines": Decimal("25000.00"),
    "listing_batches": 1,
    "listings": 2,
    "listing_enterprises": 2,
    "listings_in_force": 0,
    "enterprises_in_force": 0,
}
NOTHING = dict.fromkeys(statistics.FIGURE_KEYS, 0)


def test_figures_of_all_years_a_year_and_a_year_without_data(data):
    assert figures() == ALL_YEARS
    assert figures(year=2020) == YEAR_2020
    assert figures(year=2021) == NOTHING
    assert figures(year=2025) == {
        **NOTHING,
        "listing_batches": 1,
        "listings": 4,  # removed early still counts as listed in 2025; withdrawn and revoked do not
        "listing_enterprises": 3,
        "listings_in_force": 3,
        "enterprises_in_force": 2,  # two listings of one enterprise: one enterprise
    }


def test_ranges_of_years(data):
    assert figures(from_year=2021, to_year=2022) == {
        **NOTHING,
        "case_batches": 1,
        "cases": 1,
        "case_enterprises": 1,
        "cases_transferred_to_police": 1,
        "case_workers": 7,
        "case_amount": Decimal("70000.00"),
    }
    assert figures(from_year=2020) == ALL_YEARS
    assert figures(to_year=2020) == YEAR_2020
    assert figures(from_year=2030) == NOTHING


def test_an_expired_listing_leaves_the_figures_in_force_but_not_its_year(data, set_today):
    set_today(dt.date(2028, 7, 1))  # the 2025 listings of 30 June and before have expired
    later = figures()
    assert later["listings"] == 6 and later["listing_enterprises"] == 4
    assert later["listings_in_force"] == 0 and later["enterprises_in_force"] == 0


def test_breakdowns(data):
    stats = statistics.compute(statistics.parse_period({"year": "2020"}))
    districts = {row["name"]: row for row in stats.breakdowns["district"]}
    assert districts["城关区"] == {
        "name": "城关区",
        "cases": 2,
        "case_workers": 15,
        "case_amount": Decimal("210000.00"),
        "listings": 0,
    }
    assert districts["七里河区"]["cases"] == 1
    assert (districts["安宁区"]["cases"], districts["安宁区"]["listings"]) == (0, 1)  # the listing's default district
    assert districts["西固区"]["listings"] == 1
    assert [row["name"] for row in stats.breakdowns["district"]][0] == "城关区"  # largest first
    types = {row["name"]: row["cases"] for row in stats.breakdowns["violation_type"]}
    assert types == {"拖欠劳动报酬": 3, "未依法缴纳社会保险费": 1}  # a case of two types counts under both
    industries = {row["name"]: row["cases"] for row in stats.breakdowns["industry"]}
    assert industries == {"建筑业": 2, "制造业": 1}
    assert stats.breakdowns["year"] == [
        {
            "name": 2020,
            "case_batches": 2,
            "cases": 3,
            "case_workers": 20,
            "case_amount": Decimal("260000.00"),
            "listing_batches": 1,
            "listings": 2,
            "listing_enterprises": 2,
        }
    ]
    trend = statistics.trend()
    assert [(row["name"], row["cases"], row["listings"]) for row in trend] == [(2020, 3, 2), (2022, 1, 0), (2025, 0, 4)]
    assert statistics.compute(statistics.parse_period({"year": "2021"})).breakdowns == {
        "year": [],
        "district": [],
        "violation_type": [],
        "industry": [],
        "campaign": [],
    }


def test_summary_sentences_in_the_bureaus_form(data, set_today):
    def sentence(**args):
        return statistics.summary_sentence(
            statistics.compute(statistics.parse_period({k: str(v) for k, v in args.items()}))
        )

    assert sentence(year=2020) == "2020年公布重大劳动保障违法案件2批3起，列入失信联合惩戒对象名单1批2户"
    assert sentence(year=2022) == "2022年公布重大劳动保障违法案件1批1起，未公布失信联合惩戒对象名单"
    assert sentence(year=2025) == "2025年列入失信联合惩戒对象名单1批3户，未公布重大劳动保障违法案件"
    assert sentence(year=2021) == "2021年未公布重大劳动保障违法案件和失信联合惩戒对象名单"
    assert sentence(year=2026) == "2026年（截至11月28日）未公布重大劳动保障违法案件和失信联合惩戒对象名单"
    stats = statistics.compute(statistics.parse_period({}))
    assert statistics.yearly_summaries(stats) == [
        (2025, "2025年列入失信联合惩戒对象名单1批3户，未公布重大劳动保障违法案件"),
        (2022, "2022年公布重大劳动保障违法案件1批1起，未公布失信联合惩戒对象名单"),
        (2020, "2020年公布重大劳动保障违法案件2批3起，列入失信联合惩戒对象名单1批2户"),
    ]


def test_the_api_answers_the_documented_shape(client, data):
    answer = client.get("/api/v1/statistics?year=2020").get_json()
    assert set(answer) == {"period", "figures", "breakdowns"}
    assert list(answer["figures"]) == list(statistics.FIGURE_KEYS)
    assert answer["figures"] == {
        key: float(value) if isinstance(value, Decimal) else value for key, value in YEAR_2020.items()
    }
    assert answer["period"] == {
        "from_year": 2020,
        "to_year": 2020,
        "label": "2020年",
        "as_of": FIXED_TODAY.isoformat(),
        "summary": "2020年公布重大劳动保障违法案件2批3起，列入失信联合惩戒对象名单1批2户",
    }
    assert set(answer["breakdowns"]) == {"year", "district", "violation_type", "industry", "campaign"}
    ranged = client.get("/api/v1/statistics?from_year=2021&to_year=2022").get_json()
    assert ranged["period"]["label"] == "2021—2022年" and ranged["figures"]["cases"] == 1
    assert client.get("/api/v1/statistics").get_json()["figures"]["listings_in_force"] == 3
    # the page's JSON twin is the same answer
    assert client.get("/statistics.json?year=2020").get_json() == answer


@pytest.mark.parametrize(
    "query, message",
    [
        ("year=二〇二〇", "参数“年度”应为整数"),
        ("year=20200", "参数“年度”超出范围"),
        ("year=2020&from_year=2019", "不能与"),
        ("from_year=2023&to_year=2020", "起始年度不能晚于截止年度"),
    ],
)
def test_bad_periods_are_400_with_a_message(client, query, message):
    for url in (f"/api/v1/statistics?{query}", f"/statistics?{query}", f"/statistics.csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True), url


def test_the_page_shows_figures_charts_tables_and_twins(client, data):
    response = client.get("/statistics?year=2020")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = response.text
    assert "2020年公布重大劳动保障违法案件2批3起，列入失信联合惩戒对象名单1批2户。" in page
    assert "<strong>3起</strong><span>公布重大劳动保障违法案件</span>" in page
    assert "<strong>26万元</strong><span>案件涉及金额</span>" in page
    assert "目前在列的失信单位（截至2026年11月28日）" in page
    # each chart is an accessible SVG with its table and its own twins
    assert page.count('<svg class="chart') == 4  # trend, district, violation type, industry
    assert 'role="img"' in page and "<title id=" in page and "<desc id=" in page
    assert 'href="/statistics.csv?year=2020&amp;table=district"' in page
    assert 'href="/statistics.json?year=2020"' in page
    assert '<th scope="row">城关区</th>' in page
    assert 'rel="alternate"; type="text/csv"' in response.headers["Link"]
    # nothing the coming Content-Security-Policy would refuse
    assert "style=" not in page and "<script>" not in page and " onclick" not in page
    assert client.get("/statistics?year=2021").status_code == 200
    assert "所选范围内没有公布记录" in client.get("/statistics?year=2021").text


def test_the_fragment_for_htmx_is_the_same_page(client, data):
    response = client.get("/statistics", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]


def test_csv_twin(client, data):
    with client.get("/statistics.csv?year=2020") as response:
        assert saved_as(response) == "兰州-数据统计-2020年-20261128.csv"
        assert 'filename="statistics-2020-20261128.csv"' in response.headers["Content-Disposition"]
        lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(statistics.CSV_HEADER)
    assert "2020年,合计,公布重大劳动保障违法案件（起）,3,,,," in lines
    assert "2020年,合计,列入失信名单单位（户）,2,,,," in lines
    assert "2020年,区县,城关区,,2,15,210000.0,0" in lines
    with client.get("/statistics.csv?year=2020&table=violation_type") as response:
        only = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert only[1:] == [
        "2020年,违法类型,拖欠劳动报酬,,3,20,260000.0,",
        "2020年,违法类型,未依法缴纳社会保险费,,1,5,50000.0,",
    ]
    assert client.get("/statistics.csv?table=nope").status_code == 400


def test_home_figures_keep_cases_and_listings_apart(client, data):
    home = statistics.home_figures()
    assert (home.cases, home.case_workers, home.case_amount) == (4, 27, Decimal("330000.00"))
    assert (home.listings_in_force, home.enterprises_in_force) == (3, 2)
    page = client.get("/").text
    assert "<strong>4</strong><span>历年公布重大违法案件（起）</span>" in page
    assert "<strong>27</strong><span>上述案件涉及劳动者（人）</span>" in page
    assert "<strong>33万元</strong><span>上述案件涉及金额</span>" in page
    assert "<strong>3</strong><span>目前在列的失信名单（条），涉及单位 2 户</span>" in page
    assert "截至 2026年11月28日" in page


def _all_years(today):
    return statistics.compute(statistics.Period(None, None, today), breakdowns=()).figures


def _home_tuple(home):
    return (home.cases, home.case_workers, home.case_amount, home.listings_in_force, home.enterprises_in_force)


@pytest.mark.parametrize("today", [FIXED_TODAY, dt.date(2020, 1, 1), dt.date(2031, 6, 1)])
def test_home_figures_are_the_figures_of_all_years(data, set_today, today):
    # The home page reads its figures in fewer steps than the statistics page:
    # with a withdrawn case, a withdrawn batch and listings ended every way,
    # and on days before and after listings expire, they are the same.
    set_today(today)
    everything = _all_years(today)
    assert _home_tuple(statistics.home_figures()) == (
        everything["cases"],
        everything["case_workers"],
        everything["case_amount"],
        everything["listings_in_force"],
        everything["enterprises_in_force"],
    )


# --- a property: the figures agree with counting the records one by one ----------------


def _load_unindexed(kind, rows, title):
    """``load`` without the search index (examples reuse one temporary directory)."""
    report = check_file(to_csv(kind, rows), "test.csv", kind, ImportSettings.from_config(current_app.config))
    assert not report.errors
    batch = store_batch(kind, report.records, title=title, authority="示例局")
    publish_batch(batch, published_on=dt.date(2025, 7, 1))
    db.session.commit()
    return batch


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(
        st.tuples(st.sampled_from([2019, 2020, 2021]), st.integers(1, 6), st.integers(0, 50), st.booleans()),
        min_size=0,
        max_size=6,
    ),
    withdrawn=st.sets(st.integers(0, 5), max_size=3),
)
def test_figures_match_a_count_of_the_records(app, plan, withdrawn):
    """Cases of random enterprises in random batches, some withdrawn: each figure
    equals what counting the published cases of the year in Python gives."""
    for model in (CaseViolationType, Case, Batch, SearchChange):  # each example starts empty
        db.session.query(model).delete()
    db.session.commit()
    staff = db.session.scalar(select(User)) or make_user("prop-staff", "admin")
    expected: dict[int, list[tuple[int, int, bool]]] = {}
    for index, (year, serial, workers, police) in enumerate(plan):
        batch = _load_unindexed(
            "cases",
            [
                _case(
                    serial,
                    f"兰劳监〔{year}〕{index + 1}号",
                    涉及人数=str(workers),
                    是否移送公安机关="是" if police else "否",
                    决定日期=f"{year}-03-01",
                )
            ],
            title=f"{year}年第{index + 1}批",
        )
        record = db.session.scalar(select(Case).where(Case.batch_id == batch.id))
        if index in withdrawn:
            withdraw_record(record, "公布有误", staff)
            db.session.commit()
        else:
            expected.setdefault(year, []).append((serial, workers, police))
    for year in (2019, 2020, 2021):
        got = figures(year=year)
        rows = expected.get(year, [])
        assert got["cases"] == len(rows)
        assert got["case_enterprises"] == len({serial for serial, _, _ in rows})
        assert got["case_workers"] == sum(workers for _, workers, _ in rows)
        assert got["cases_transferred_to_police"] == sum(1 for _, _, police in rows if police)
        assert got["case_batches"] == sum(1 for item in plan if item[0] == year)
    home, everything = statistics.home_figures(), _all_years(FIXED_TODAY)
    assert (home.cases, home.case_workers, home.case_amount) == (
        everything["cases"],
        everything["case_workers"],
        everything["case_amount"],
    )


def test_parse_period_rejects_nothing_it_should_accept():
    period = statistics.parse_period({"year": " 2020 "}, today=FIXED_TODAY)
    assert (period.from_year, period.to_year, period.label) == (2020, 2020, "2020年")
    assert statistics.parse_period({"year": "2026"}, today=FIXED_TODAY).label == "2026年1月1日至11月28日"
    assert statistics.parse_period({"from_year": "2020"}, today=FIXED_TODAY).label == "2020年以来"
    assert statistics.parse_period({"to_year": "2020"}, today=FIXED_TODAY).label == "2020年及以前"
    assert statistics.parse_period({}, today=FIXED_TODAY).label == "历年累计"
    with pytest.raises(ParameterError):
        statistics.parse_period({"from_year": "2021", "to_year": "2020"}, today=FIXED_TODAY)


def test_figures_are_cached_until_something_changes(data):
    from sqlalchemy import event

    first = figures(year=2020)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert figures(year=2020) == first
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 3  # the data version only: batches, the change log, campaign events
    # a login or an account change is no reason to count everything again
    staff = db.session.scalar(select(User))
    audit.record("login", staff, user=staff, summary="登录")
    staff.last_login_at = dt.datetime(2026, 1, 5, 9, 0)
    db.session.commit()
    statements.clear()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert figures(year=2020) == first
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) == 3
    # a withdrawal (a staff change, audited) is seen at once
    withdraw_record(db.session.scalar(select(Case).where(Case.document_no == "兰城劳监〔2020〕1号")), "公布有误", staff)
    db.session.commit()
    assert figures(year=2020)["cases"] == 2
    # so is a batch published without any audit event (the command line, sample data)
    load("cases", [_case(12, "兰城劳监〔2020〕20号")], title="2020年第五批")
    assert figures(year=2020)["cases"] == 3 and figures(year=2020)["case_batches"] == 3


def test_a_correction_and_a_renamed_campaign_are_seen_at_once(data):
    staff = db.session.scalar(select(User))
    case = db.session.scalar(select(Case).where(Case.document_no == "兰城劳监〔2020〕1号"))
    before = figures(year=2020)
    correct_record(case, {**record_fields(case), "workers_involved": 20}, "人数更正", staff)
    db.session.commit()
    assert figures(year=2020)["case_workers"] == before["case_workers"] + 8

    drive = campaigns.save(
        None, name="冬季攻坚", starts_on=dt.date(2020, 1, 1), ends_on=None, description=None, user=staff
    )
    db.session.flush()
    campaigns.tag_batch(case.batch, drive, staff)
    db.session.commit()
    period = statistics.parse_period({"year": "2020"})
    assert [row["name"] for row in statistics.compute(period).breakdowns["campaign"]] == ["冬季攻坚"]
    campaigns.save(
        drive, name="根治欠薪冬季攻坚", starts_on=drive.starts_on, ends_on=None, description=None, user=staff
    )
    db.session.commit()
    assert [row["name"] for row in statistics.compute(period).breakdowns["campaign"]] == ["根治欠薪冬季攻坚"]


def test_the_cache_cannot_grow_without_end(data, monkeypatch):
    monkeypatch.setattr(statistics, "CACHE_LIMIT", 5)
    for year in range(2000, 2012):
        figures(year=year)
        assert len(statistics._cache) <= 7  # the version, the limit, and the entry just added
    assert figures(year=2020) == YEAR_2020


def test_the_case_figures_read_one_covering_index(data):
    # At 1,000,000 cases the grouped scan and the distinct-enterprise count read
    # a million table rows (20 s for one year's figures); from the index alone
    # they take about a second.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "FROM case_record" in statement and "case_violation_type" not in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        statistics._cache.clear()
        statistics.compute(statistics.Period(2020, 2020, FIXED_TODAY))
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert len(statements) >= 2  # the grouped scan and the distinct count
    for statement, parameters in statements:
        explained = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))
        plan = [row[3] for row in explained]
        assert any("COVERING INDEX ix_case_statistics" in step for step in plan), (statement, plan)
