"""One URL, full page or fragment: htmx gets the results region, everyone else
(including a history restore) the whole page, and caches are told so."""

from __future__ import annotations

import pytest

from tests.test_public import names_in, seed

HX = {"HX-Request": "true"}


@pytest.fixture
def data(app):
    return seed()


@pytest.mark.parametrize("url", ["/cases?year=2025", "/listings", "/batches?kind=cases"])
def test_htmx_gets_the_fragment_and_the_full_page_has_it(client, data, url):
    full = client.get(url)
    fragment = client.get(url, headers=HX)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.text and 'id="results"' in full.text
    assert "<html" not in fragment.text and "<head" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="results"')
    assert "HX-Request" in full.headers["Vary"]
    assert "HX-Request" in fragment.headers["Vary"]


def test_fragment_has_the_same_results_as_the_page(client, data):
    url = "/cases?district=安宁区"
    assert names_in(client.get(url, headers=HX).text) == names_in(client.get(url).text) == ["兰州示例安宁物流有限公司"]


def test_batch_page_fragment_for_its_pagination(client, data):
    url = f"/batches/{data['first'].id}?per_page=1&page=2"
    fragment = client.get(url, headers=HX)
    assert "<html" not in fragment.text
    assert names_in(fragment.text) == ["兰州示例安宁物流有限公司"]
    assert "<html" in client.get(url).text


def test_history_restore_gets_the_full_page(client, data):
    response = client.get("/cases?year=2025", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_filter_form_is_a_get_form_that_htmx_enhances(client, data):
    page = client.get("/cases").text
    assert '<form id="filter-form" class="filters" method="get" action="/cases"' in page
    assert 'hx-get="/cases" hx-target="#results" hx-swap="outerHTML" hx-push-url="true"' in page
    # a choice, not every arrow key, asks (static/js/app.js sends "filters-change"); Back sets
    # the controls from the address (data-sync-url)
    assert "data-live-filters data-sync-url" in page and 'hx-trigger="filters-change, submit"' in page
    # on a phone the form is behind one button, a <details> that works without JavaScript
    assert '<details class="filter-toggle" data-open-wide>' in page and "<summary><span>筛选条件</span>" in page
    assert "已选 2 项" in client.get("/cases?year=2025&district=城关区").text
    # on a phone the order is one line, the other orders behind it
    assert '<details class="sort-menu">\n  <summary>排序：<strong>决定日期（新→旧）</strong></summary>' in page
    # sort headings and pagination are real links with htmx on top
    assert 'href="/cases?sort=-amount" hx-get="/cases?sort=-amount"' in page


def test_filter_form_is_refreshed_out_of_band_only_after_links(client, data):
    # a sort link or a filter chip was used: the form must show the new state
    after_link = client.get("/cases?sort=-amount", headers={**HX, "HX-Trigger": "sort"}).text
    assert 'hx-swap-oob="true"' in after_link
    assert '<input type="hidden" name="sort" value="-amount">' in after_link
    # the form itself was changed: leave it alone so the control keeps its focus
    after_form = client.get("/cases?sort=-amount", headers={**HX, "HX-Trigger": "filter-form"}).text
    assert 'hx-swap-oob="true"' not in after_form
    assert "filter-form" not in after_form
    # only the result count is sent out of band, into the page's live region
    assert after_form.count("hx-swap-oob") == 1 and '<div id="live-count"' in after_form


def test_the_result_count_is_announced_from_a_live_region_that_stays(client, data):
    page = client.get("/cases").text
    assert page.count('id="live-count"') == 1
    assert (
        '<div id="live-count" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>'
        in page
    )
    fragment = client.get("/cases?district=城关区", headers=HX).text
    assert 'aria-atomic="true" hx-swap-oob="innerHTML">共 1 件案件，显示第 1–1 件</div>' in fragment
    search = client.get("/search?q=兰州", headers=HX).text
    assert 'hx-swap-oob="innerHTML">“兰州”共找到' in search
    # the sorted column says so on its heading
    assert '<th scope="col" aria-sort="descending"><a class="sort-link sorted"' in page


def test_htmx_with_empty_fields_pushes_the_clean_url(client, data):
    response = client.get("/cases?year=2025&district=&type=", headers={**HX, "HX-Trigger": "filter-form"})
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == "/cases?year=2025"
    assert names_in(response.text) == ["兰州示例西固化工有限公司", "兰州恒达建筑工程有限公司"]


def test_bad_parameter_in_an_htmx_request_is_still_a_400(client, data):
    response = client.get("/cases?year=abc", headers=HX)
    assert response.status_code == 400
    assert "年份" in response.text
