"""The public pages: every page answers, filters and sorting, bad parameters,
record pages, enterprise and batch pages, and list queries that use indexes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, select, text

from domain import queries, serializers
from extensions import db
from models import Case, Hotline, Listing
from tests.builders import case_row, credit_code, listing_row, load


def seed() -> dict:
    """Two case batches and one listing batch with varied fields."""
    first = load(
        "cases",
        [
            case_row(),  # 城关区, 2025, 拖欠劳动报酬, police, 12 workers, 200000
            case_row(
                违法主体名称="兰州示例安宁物流有限公司",
                统一社会信用代码=credit_code(3),
                区县="安宁区",
                违法类型="未依法缴纳社会保险费、违反工作时间和休息休假规定",
                涉及人数="67",
                **{"涉及金额（元）": "50000"},
                是否移送公安机关="否",
                决定日期="2024-05-10",
                文书编号="兰安劳监罚〔2024〕5号",
            ),
        ],
        title="2025年第一批",
    )
    second = load(
        "cases",
        [
            case_row(
                违法主体名称="兰州示例西固化工有限公司",
                统一社会信用代码=credit_code(4),
                区县="西固区",
                违法类型="违法使用童工",
                涉及人数="3",
                **{"涉及金额（元）": "900000"},
                是否移送公安机关="否",
                决定日期="2025-08-01",
                文书编号="兰西劳监罚〔2025〕8号",
            ),
        ],
        title="2025年第二批",
    )
    listings = load(
        "listings",
        [
            listing_row(),
            # same enterprise as the first case: its pages link the two
            listing_row(
                单位名称="兰州恒达建筑工程有限公司",
                统一社会信用代码=credit_code(1),
                区县="城关区",
                责任人员="王某",
                决定文书号="兰人社失信〔2025〕2号",
                列入日期="2024-01-15",
                **{"拖欠金额（元）": "800000"},
            ),
        ],
        title="2025年第一批",
    )
    return {"first": first, "second": second, "listings": listings}


def case_id(name: str) -> int:
    return db.session.scalar(select(Case.id).where(Case.enterprise_name == name))


def names_in(html: str) -> list[str]:
    """Record names in page order (the links in the record tables)."""
    return re.findall(r'<a href="/(?:cases|listings)/\d+">([^<]+)</a>', html)


@pytest.fixture
def data(app):
    return seed()


def test_every_page_answers(client, data):
    case = case_id("兰州恒达建筑工程有限公司")
    listing = db.session.scalar(select(Listing.id).limit(1))
    urls = [
        "/",
        "/cases",
        f"/cases/{case}",
        "/listings",
        f"/listings/{listing}",
        f"/enterprises/{credit_code(1)}",
        "/batches",
        f"/batches/{data['first'].id}",
        f"/batches/{data['listings'].id}",
        "/hotlines",
        "/about",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.text, url
        # Public pages carry no session: nothing to track a reader by, and cacheable.
        assert "Set-Cookie" not in response.headers, url


def test_home_shows_headline_figures_and_latest_batches(client, data):
    page = client.get("/").text
    assert 'action="/check"' in page and 'name="q"' in page
    # 3 public cases (workers 12+67+3, amounts 1.15M), 2 listings in force: each
    # figure with its scope, cases and listings never added together
    assert "<strong>3</strong><span>历年公布重大违法案件（起）" in page
    assert "<strong>82</strong><span>上述案件涉及劳动者" in page
    assert "<strong>115万元</strong><span>上述案件涉及金额" in page
    assert "<strong>2</strong><span>目前在列的失信名单（条）" in page
    assert "194" not in page and "225万元" not in page
    assert f'href="/batches/{data["second"].id}"' in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["兰州示例西固化工有限公司", "兰州恒达建筑工程有限公司", "兰州示例安宁物流有限公司"]),
        ("?year=2025", ["兰州示例西固化工有限公司", "兰州恒达建筑工程有限公司"]),
        ("?year=2024", ["兰州示例安宁物流有限公司"]),
        ("?district=安宁区", ["兰州示例安宁物流有限公司"]),
        ("?type=违反工作时间和休息休假规定", ["兰州示例安宁物流有限公司"]),
        ("?type=违法使用童工&year=2025", ["兰州示例西固化工有限公司"]),
        ("?type=其他", []),
        ("?police=1", ["兰州恒达建筑工程有限公司"]),
        ("?police=0&district=西固区", ["兰州示例西固化工有限公司"]),
        ("?sort=date", ["兰州示例安宁物流有限公司", "兰州恒达建筑工程有限公司", "兰州示例西固化工有限公司"]),
        ("?sort=-amount", ["兰州示例西固化工有限公司", "兰州恒达建筑工程有限公司", "兰州示例安宁物流有限公司"]),
        ("?sort=amount", ["兰州示例安宁物流有限公司", "兰州恒达建筑工程有限公司", "兰州示例西固化工有限公司"]),
        ("?sort=-workers", ["兰州示例安宁物流有限公司", "兰州恒达建筑工程有限公司", "兰州示例西固化工有限公司"]),
        ("?sort=workers&per_page=1&page=2", ["兰州恒达建筑工程有限公司"]),
    ],
)
def test_case_filters_and_sorting(client, data, query, expected):
    response = client.get("/cases" + query)
    assert response.status_code == 200
    assert names_in(response.text) == expected


def test_high_to_low_puts_unknown_amounts_last(client, data):
    load(
        "cases",
        [case_row(违法主体名称="兰州示例无金额有限公司", 文书编号="兰劳监〔2025〕77号", **{"涉及金额（元）": ""})],
        title="2025年第三批",
    )
    assert names_in(client.get("/cases?sort=-amount").text)[-1] == "兰州示例无金额有限公司"
    assert names_in(client.get("/listings?sort=-amount").text)[0] == "兰州恒达建筑工程有限公司"


def test_case_filter_by_batch_and_result_count(client, data):
    page = client.get(f"/cases?batch={data['second'].id}").text
    assert names_in(page) == ["兰州示例西固化工有限公司"]
    assert "共 <strong>1</strong> 件案件" in page
    # the active filter is shown with a link that removes it
    assert '<a href="/cases"' in page and "2025年第二批 ✕" in page


def test_listing_filters_and_sorting(client, data):
    assert names_in(client.get("/listings").text) == ["兰州鼎盛劳务有限公司", "兰州恒达建筑工程有限公司"]
    assert names_in(client.get("/listings?sort=-amount").text) == ["兰州恒达建筑工程有限公司", "兰州鼎盛劳务有限公司"]
    assert names_in(client.get("/listings?year=2024").text) == ["兰州恒达建筑工程有限公司"]
    assert names_in(client.get("/listings?district=安宁区").text) == ["兰州鼎盛劳务有限公司"]
    assert names_in(client.get(f"/listings?batch={data['first'].id}").text) == []


def test_pagination_links_keep_the_filters(client, data):
    page = client.get("/cases?year=2025&per_page=1").text
    assert "共 <strong>2</strong> 件案件" in page
    assert 'href="/cases?year=2025&amp;per_page=1&amp;page=2"' in page
    assert 'rel="next"' in page
    second = client.get("/cases?year=2025&per_page=1&page=2").text
    assert names_in(second) == ["兰州恒达建筑工程有限公司"]
    assert re.search(r'page=2" aria-current="page" class="current"[^>]*>2</a>', second)


@pytest.mark.parametrize("query", ["?page=abc", "?page=-3", "?per_page=abc", "?per_page=100000", "?page=999"])
def test_bad_page_numbers_are_clamped(client, data, query):
    assert client.get("/cases" + query).status_code == 200


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("/cases?year=abc", "年份"),
        ("/cases?year=99999", "年份"),
        ("/cases?district=朝阳区", "区县"),
        ("/cases?type=偷税", "违法类型"),
        ("/cases?police=maybe", "是否移送公安机关"),
        ("/cases?sort=name", "排序"),
        ("/cases?batch=x", "批次"),
        ("/cases?batch=99999999999999999999", "批次"),
        ("/listings?year=abc", "年份"),
        ("/batches?kind=x", "类别"),
    ],
)
def test_bad_filters_are_a_400_page_in_chinese(client, data, url, fragment):
    response = client.get(url)
    assert response.status_code == 400
    assert "<html" in response.text and "请求有误" in response.text
    assert fragment in response.text


def test_empty_form_fields_redirect_to_the_clean_url(client, data):
    response = client.get("/cases?year=&district=安宁区&type=&police=")
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases?district=%E5%AE%89%E5%AE%81%E5%8C%BA"


def test_list_pages_advertise_their_data_twins(client, data):
    response = client.get("/cases?district=城关区&page=1")
    link = response.headers["Link"]
    assert '</cases.csv?district=%E5%9F%8E%E5%85%B3%E5%8C%BA>; rel="alternate"; type="text/csv"' in link
    assert '</cases.json?district=%E5%9F%8E%E5%85%B3%E5%8C%BA>; rel="alternate"; type="application/json"' in link
    assert 'href="/cases.csv?district=%E5%9F%8E%E5%85%B3%E5%8C%BA" download' in response.text
    batch = client.get(f"/batches/{data['first'].id}")
    assert f'</batches/{data["first"].id}.csv>; rel="alternate"' in batch.headers["Link"]
    assert f'href="/batches/{data["first"].id}.xlsx"' in batch.text


def test_case_page_shows_the_published_fields_and_related_records(client, data):
    case = db.session.get(Case, case_id("兰州恒达建筑工程有限公司"))
    page = client.get(f"/cases/{case.id}").text
    for value in (
        "兰州恒达建筑工程有限公司",
        credit_code(1),
        "王某",
        "兰州市城关区示例路1号",
        "建筑业",
        "拖欠劳动报酬",
        "拖欠张某等12名农民工工资共计20万元。",
        "责令限期支付",
        "20万元",
        "2025年3月1日",
        "兰城劳监指〔2025〕1号",
        "已移送公安机关",
        "2025年第一批",
    ):
        assert value in page, value
    assert f'href="/batches/{data["first"].id}"' in page
    # the same enterprise is on the blacklist: linked from the case page
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(1)))
    assert f'href="/listings/{listing.id}"' in page
    assert f'href="/enterprises/{credit_code(1)}"' in page
    assert "更正" not in page


def test_corrected_case_shows_the_correction_note(client, data):
    case = db.session.get(Case, case_id("兰州恒达建筑工程有限公司"))
    case.revision = 2
    case.revised_at = dt.datetime(2026, 3, 5, 9, 30)
    case.correction_note = "涉及金额由30万元更正为20万元"
    db.session.commit()
    page = client.get(f"/cases/{case.id}").text
    assert "<strong>更正</strong>" in page
    assert "2026年3月5日" in page
    assert "涉及金额由30万元更正为20万元" in page
    assert "已更正" in client.get("/cases").text


def test_draft_and_unknown_records_are_404(client, app):
    draft = load("cases", [case_row()], title="2025年第九批", publish=False)
    draft_case = db.session.scalar(select(Case.id).where(Case.batch_id == draft.id))
    assert client.get(f"/cases/{draft_case}").status_code == 404
    assert client.get(f"/batches/{draft.id}").status_code == 404
    assert client.get("/cases/123456").status_code == 404
    assert client.get("/listings/123456").status_code == 404
    assert client.get("/cases/99999999999999999999").status_code == 404
    assert "兰州恒达" not in client.get("/cases").text


def test_listing_page_explains_the_term(client, data):
    listing = db.session.scalar(select(Listing).where(Listing.enterprise_name == "兰州鼎盛劳务有限公司"))
    page = client.get(f"/listings/{listing.id}").text
    for value in (
        "任某、刘某",
        "2025年6月30日",
        "3年",
        "2028年6月30日",
        "人社部令第45号",
        "兰人社失信〔2025〕1号",
        "30万元",
    ):
        assert value in page, value


def test_enterprise_page(client, data):
    page = client.get(f"/enterprises/{credit_code(1)}").text
    assert "兰州恒达建筑工程有限公司" in page
    assert "在列 1 条" in page and "（1 件）" in page
    # lower case or spaced input is normalised to the canonical URL
    response = client.get(f"/enterprises/{credit_code(1).lower()}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/enterprises/{credit_code(1)}")
    assert client.get(f"/enterprises/{credit_code(99)}").status_code == 404
    assert client.get("/enterprises/nonsense-code-that-is-far-too-long").status_code == 404


def test_batches_list_and_filters(client, data):
    page = client.get("/batches").text
    assert page.count('href="/batches/') >= 3
    cases_only = client.get("/batches?kind=cases").text
    assert f'href="/batches/{data["listings"].id}"' not in cases_only
    assert f'href="/batches/{data["first"].id}"' in cases_only
    assert client.get("/batches?year=2024").status_code == 200
    batch = client.get(f"/batches/{data['first'].id}").text
    assert names_in(batch) == ["兰州恒达建筑工程有限公司", "兰州示例安宁物流有限公司"]
    assert "本批次目前公开 <strong>2</strong> 条" in batch


def test_hotlines_come_from_the_table(client, app):
    assert "尚未登记" in client.get("/hotlines").text
    db.session.add(
        Hotline(position=1, district="城关区", unit="城关区劳动保障监察大队", phone="0931-8888888", hours="工作日")
    )
    db.session.commit()
    page = client.get("/hotlines").text
    assert "城关区劳动保障监察大队" in page
    assert 'href="tel:09318888888"' in page


def test_about_page_has_the_legal_basis_and_the_data_dictionary(client, app):
    page = client.get("/about").text
    for phrase in ("人力资源社会保障部令第29号", "人力资源社会保障部令第45号", "列入期限为3年", "10个工作日", "身份证"):
        assert phrase in page, phrase
    for field in (*serializers.CASE_FIELDS, *serializers.LISTING_FIELDS):
        assert f"<code>{field.key}</code>" in page
        assert field.label in page


def test_list_pages_do_not_query_per_row(client, app):
    load("cases", [case_row(文书编号=f"兰劳监〔2025〕{n}号", 违法主体名称=f"示例单位{n}有限公司") for n in range(30)])
    load(
        "listings",
        [listing_row(决定文书号=f"兰失信〔2025〕{n}号", 单位名称=f"示例单位{n}有限公司") for n in range(30)],
    )
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/cases?per_page=30").status_code == 200
        case_statements = len(statements)
        statements.clear()
        assert client.get("/listings?per_page=30").status_code == 200
        listing_statements = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # a fixed number however many rows (the last one: the campaign choices of the filter panel)
    assert case_statements <= 9
    assert listing_statements <= 9


@pytest.mark.parametrize(
    "filters",
    [
        queries.CaseFilters(),
        queries.CaseFilters(district="城关区", year=2025),
        queries.CaseFilters(year=2025),
        queries.CaseFilters(sort="-amount"),
        queries.CaseFilters(type="违法使用童工"),
    ],
)
def test_case_list_queries_use_indexes(app, filters):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    statement = queries.case_statement(filters)
    for sql in (statement, select(db.func.count()).select_from(statement.order_by(None).subquery())):
        compiled = sql.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = [row[3] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
        assert not [step for step in plan if step.startswith("SCAN case_record") and "INDEX" not in step], plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
