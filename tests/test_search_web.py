"""The search page and /api/v1/search: full page or fragment, facets out of
band, the JSON shape of the brief, hostile input never a 500."""

from __future__ import annotations

import os

import pytest

from tests.builders import case_row, credit_code, listing_row, load


@pytest.fixture
def data(app):
    load(
        "cases",
        [
            case_row(),
            case_row(
                违法主体名称="兰州宏远餐饮管理有限公司",
                统一社会信用代码=credit_code(3),
                区县="七里河区",
                文书编号="兰七劳监指〔2025〕2号",
                违法类型="未依法缴纳社会保险费",
            ),
        ],
    )
    load("listings", [listing_row(单位名称="兰州恒达劳务有限公司")], title="2025年第二批")


def test_the_full_page_works_without_javascript(client, data):
    response = client.get("/search?q=恒达")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in page and 'method="get"' in page and 'name="q"' in page
    assert "<mark>恒达</mark>" in page
    assert "共找到 <strong>2</strong> 条" in page
    assert 'href="/cases/' in page and 'href="/listings/' in page
    assert "怎样搜索" in page
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_gets_the_results_and_the_facets_out_of_band(client, data):
    response = client.get("/search?q=恒达", headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert 'id="search-results"' in fragment
    assert 'id="search-facets" class="facets" aria-label="筛选搜索结果" hx-swap-oob="true"' in fragment
    assert 'id="search-hidden" hx-swap-oob="true"' in fragment
    # A history restore must get the full page.
    restore = client.get("/search?q=恒达", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_active_search_is_debounced_and_pushes_the_url(client, data):
    page = client.get("/search").get_data(as_text=True)
    # typing asks when the input method has committed the text, and replaces the address;
    # the form (搜索) pushes, and its push is not inherited by the box
    assert 'hx-trigger="search-input changed delay:300ms, search"' in page and "data-active-search" in page
    assert 'hx-replace-url="true"' in page
    assert 'hx-push-url="true" hx-disinherit="hx-push-url"' in page


def test_search_chips_say_which_filters_still_apply(client, data):
    page = client.get("/search?q=恒达&district=城关区&kind=cases").text
    assert "只在以下条件中搜索“恒达”" in page
    assert 'href="/search?q=%E6%81%92%E8%BE%BE&amp;kind=cases" hx-get=' in page  # 城关区 ✕
    assert "城关区 ✕" in page and "违法案件 ✕" in page and "清除全部条件" in page
    # a new query sent from the box keeps them: the form carries them as hidden fields
    assert '<input type="hidden" name="district" value="城关区">' in page
    fragment = client.get("/search?q=恒达", headers={"HX-Request": "true"}).text
    assert "只在以下条件中搜索" not in fragment


def test_kind_tabs_and_facet_links_are_real_links(client, data):
    page = client.get("/search?q=恒达").get_data(as_text=True)
    assert 'href="/search?q=%E6%81%92%E8%BE%BE&amp;kind=listings"' in page
    assert 'href="/search?q=%E6%81%92%E8%BE%BE&amp;district=%E5%9F%8E%E5%85%B3%E5%8C%BA"' in page
    listings = client.get("/search?q=恒达&kind=listings").get_data(as_text=True)
    assert "<mark>恒达</mark>劳务有限公司" in listings and "建筑工程有限公司" not in listings


def test_empty_state_and_one_character_message(client, data):
    assert "请输入要查找的" in client.get("/search").get_data(as_text=True)
    assert "请至少输入两个字" in client.get("/search?q=恒").get_data(as_text=True)
    none = client.get("/search?q=不存在的名称").get_data(as_text=True)
    assert "没有找到与“不存在的名称”相关的公开记录" in none


def test_did_you_mean_links_to_the_suggestion(client, data):
    page = client.get("/search?q=恒大").get_data(as_text=True)
    assert "您是不是要找" in page and 'href="/search?q=%E6%81%92%E8%BE%BE"' in page


def test_json_answer_has_the_shape_of_the_brief(client, data):
    answer = client.get("/api/v1/search?q=恒达&per_page=5").get_json()
    assert set(answer) == {"q", "total", "page", "per_page", "sort", "results"}
    assert answer["q"] == "恒达" and answer["total"] == 2 and answer["page"] == 1 and answer["per_page"] == 5
    kinds = {item["kind"]: item for item in answer["results"]}
    case, listing = kinds["case"], kinds["listing"]
    for item in (case, listing):
        for key in (
            "kind",
            "id",
            "url",
            "enterprise_name",
            "credit_code",
            "legal_representative",
            "district",
            "document_no",
            "score",
            "highlights",
        ):
            assert key in item
        assert item["url"].startswith("http://localhost/")
        assert "<mark>恒达</mark>" in item["highlights"]["enterprise_name"]
    assert case["violation_types"] == ["拖欠劳动报酬"]
    assert "violation_types" not in listing


def test_json_filters_and_pagination(client, data):
    answer = client.get("/api/v1/search?q=有限公司&kind=cases&district=七里河区").get_json()
    assert [r["enterprise_name"] for r in answer["results"]] == ["兰州宏远餐饮管理有限公司"]
    code = client.get(f"/api/v1/search?q={credit_code(3).lower()}").get_json()
    assert code["total"] == 1
    assert client.get("/api/v1/search?q=有限公司&per_page=1&page=2").get_json()["page"] == 2


HOSTILE = [
    '"恒达',
    "恒达'",
    "(恒达",
    "恒达]",
    "〔恒达",
    "name:恒达",
    "恒达 AND OR NOT",
    "恒达*",
    "恒达~2",
    "*",
    "?",
    "^恒达",
    "\\",
    "恒达 -建筑",
    "+恒达",
    "{恒达}",
    "<script>alert(1)</script>",
    "😀",
    "恒达😀",
    "%",
    "%00",
    "\x00恒达",
    "&amp;",
    "' OR 1=1 --",
    "恒" * 100,
    "　",
    "🏳️‍🌈🏳️‍🌈",
    "ｎａｍｅ：恒达",
    "[2025]",
    "〔〕号",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_break_the_page(client, data, query):
    for url in ("/search", "/api/v1/search"):
        response = client.get(url, query_string={"q": query})
        assert response.status_code in (200, 400), (url, query, response.status_code)
        if url == "/search":  # the JSON echoes q as data, which is fine
            assert "<script>alert" not in response.get_data(as_text=True)


def test_an_overlong_query_is_a_400_with_a_message(client, data):
    page = client.get("/search", query_string={"q": "恒" * 1000})
    assert page.status_code == 400 and "搜索词太长" in page.get_data(as_text=True)
    answer = client.get("/api/v1/search", query_string={"q": "x" * 1000})
    assert answer.status_code == 400 and "搜索词太长" in answer.get_json()["error"]["message"]


@pytest.mark.parametrize("args", ["kind=everything", "year=abc", "year=99999", "type=不存在"])
def test_bad_filters_are_400(client, data, args):
    assert client.get(f"/search?q=恒达&{args}").status_code == 400
    assert client.get(f"/api/v1/search?q=恒达&{args}").status_code == 400


def test_page_and_per_page_are_clamped(client, data):
    answer = client.get("/api/v1/search?q=恒达&per_page=100000&page=-3").get_json()
    assert answer["page"] == 1 and answer["per_page"] == 100


def test_the_serving_process_is_named_only_when_asked(app, client, data):
    assert "X-Served-By" not in client.get("/api/v1/search?q=恒达").headers
    app.config["SERVED_BY_HEADER"] = True
    assert client.get("/api/v1/search?q=恒达").headers["X-Served-By"] == str(os.getpid())
    assert client.get("/search?q=恒达").headers["X-Served-By"] == str(os.getpid())
