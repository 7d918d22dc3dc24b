"""Being found and shared: titles with the city and the kind of page, meta
description and Open Graph, the favicon, robots.txt, a sitemap of exactly the
public record pages (an index when it is large), error pages that help, the
API page for people, and /about in the tone of an official site."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from extensions import db
from models import Batch, Case, Listing
from tests.builders import case_row, credit_code, listing_row, load

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
GONE = "兰州示例到期劳务有限公司"


@pytest.fixture
def data(app):
    load("cases", [case_row(), case_row(违法主体名称="兰州示例安宁物流有限公司", 统一社会信用代码=credit_code(3),
                                        文书编号="兰安劳监罚〔2024〕5号")])  # fmt: skip
    load(
        "listings",
        [
            listing_row(),
            listing_row(
                单位名称=GONE,
                统一社会信用代码=credit_code(77),
                决定文书号="兰人社失信〔2023〕7号",
                列入日期="2023-01-10",
            ),
        ],
    )
    load("cases", [case_row(文书编号="兰城劳监指〔2025〕99号")], title="2025年第九批", publish=False)


def head(page: str, name: str, attribute: str = "property") -> str | None:
    found = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)"', page)
    return found.group(1) if found else None


def test_titles_name_the_city_and_the_kind(data, client):
    case = db.session.scalar(select(Case).where(Case.credit_code == credit_code(1)))
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(2)))
    expected = {
        "/": "首页 - 兰州市劳动保障监察信息公示",
        "/listings": "失信联合惩戒对象名单 - 兰州市劳动保障监察信息公示",
        f"/cases/{case.id}": f"{case.enterprise_name} - 重大劳动保障违法案件 - 兰州市劳动保障监察信息公示",
        f"/listings/{listing.id}": f"{listing.enterprise_name} - 失信联合惩戒对象名单 - 兰州市劳动保障监察信息公示",
        f"/enterprises/{credit_code(1)}": f"{case.enterprise_name} - 违法主体 - 兰州市劳动保障监察信息公示",
        "/nothing-here": "页面不存在 - 兰州市劳动保障监察信息公示",
    }
    for url, title in expected.items():
        assert f"<title>{title}</title>" in client.get(url).text, url


def test_every_page_has_a_description_and_open_graph(data, client):
    case = db.session.scalar(select(Case).where(Case.credit_code == credit_code(1)))
    for url in ("/", "/cases", "/listings", "/batches", "/about", "/api", "/objections", f"/cases/{case.id}", "/check"):
        page = client.get(url).text
        description = head(page, "description", "name")
        assert description and len(description) <= 160, url
        assert head(page, "og:title") and head(page, "og:description") == description, url
        assert head(page, "og:url") == f"http://localhost{url}", url
        assert head(page, "og:type") in ("website", "article"), url
        assert 'rel="icon" href="/static/favicon.svg"' in page
    page = client.get(f"/cases/{case.id}").text
    assert head(page, "og:type") == "article" and case.enterprise_name in head(page, "og:description")


def file_start(client, url: str, length: int) -> bytes:
    # File responses keep their file open until closed; an unclosed one is a ResourceWarning.
    with client.get(url) as response:
        assert response.status_code == 200
        return response.data[:length]


def test_favicon_ico_holds_no_open_file(client):
    # Browsers ask for /favicon.ico unprompted and drop it half-way; an open file
    # in the response could then be left unclosed.
    response = client.get("/favicon.ico")
    assert not response.direct_passthrough and response.get_data()[:4] == b"\x00\x00\x01\x00"
    assert response.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert "max-age=86400" in response.headers["Cache-Control"]


def test_favicon(client):
    assert file_start(client, "/favicon.ico", 4) == b"\x00\x00\x01\x00"
    assert file_start(client, "/static/favicon.svg", 4) == b"<svg"
    assert file_start(client, "/static/favicon-32.png", 8) == b"\x89PNG\r\n\x1a\n"
    assert file_start(client, "/static/apple-touch-icon.png", 8) == b"\x89PNG\r\n\x1a\n"


def test_robots(client):
    text = client.get("/robots.txt").text
    assert "Disallow: /admin/" in text and "Sitemap: http://localhost/sitemap.xml" in text


def sitemap_urls(client, url: str = "/sitemap.xml") -> list[str]:
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.data)
    if root.tag == f"{SM}sitemapindex":
        return [
            u for loc in root.iter(f"{SM}loc") for u in sitemap_urls(client, loc.text.removeprefix("http://localhost"))
        ]
    assert root.tag == f"{SM}urlset"
    return [loc.text for loc in root.iter(f"{SM}loc")]


def public_record_urls() -> set[str]:
    from domain.visibility import is_record_public

    urls = {f"http://localhost/batches/{b.id}" for b in db.session.scalars(select(Batch)) if b.status == "published"}
    codes = set()
    for model, path in ((Case, "cases"), (Listing, "listings")):
        for record in db.session.scalars(select(model)):
            if is_record_public(record):
                urls.add(f"http://localhost/{path}/{record.id}")
                codes.add(record.credit_code)
    return urls | {f"http://localhost/enterprises/{code}" for code in codes if code}


def test_sitemap_lists_exactly_the_public_record_pages(data, client):
    urls = sitemap_urls(client)
    assert len(urls) == len(set(urls))
    records = {u for u in urls if re.search(r"/(cases|listings|batches|enterprises)/[^/]+$", u)}
    assert records == public_record_urls()
    assert "http://localhost/" in urls and "http://localhost/check" in urls
    gone = db.session.scalar(select(Listing).where(Listing.enterprise_name == GONE))
    assert f"http://localhost/listings/{gone.id}" not in urls
    assert f"http://localhost/enterprises/{credit_code(77)}" not in urls
    assert not any("/admin" in u for u in urls)


def test_a_large_sitemap_becomes_an_index(data, client, app):
    app.config["SITEMAP_MAX_URLS"] = 2
    root = ET.fromstring(client.get("/sitemap.xml").data)
    assert root.tag == f"{SM}sitemapindex" and len(list(root.iter(f"{SM}loc"))) > 4
    urls = sitemap_urls(client)
    assert {u for u in urls if re.search(r"/(cases|listings|batches|enterprises)/[^/]+$", u)} == public_record_urls()
    assert client.get("/sitemaps/cases-99.xml").status_code == 404
    assert client.get("/sitemaps/users-0.xml").status_code == 404


def test_sitemap_follows_the_takedown(data, client, set_today):
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(2)))
    assert f"http://localhost/listings/{listing.id}" in sitemap_urls(client)
    set_today(listing.expires_on)
    assert f"http://localhost/listings/{listing.id}" not in sitemap_urls(client)


def test_404_and_410_lead_with_words_and_a_search_box(data, client):
    page = client.get("/no-such-page").text
    assert '<p class="error-code">' not in page
    assert page.index("<h1>页面不存在</h1>") < page.index('action="/check"') < page.index("错误代码 404")
    gone = db.session.scalar(select(Listing).where(Listing.enterprise_name == GONE))
    response = client.get(f"/listings/{gone.id}")
    assert response.status_code == 410 and GONE not in response.text
    assert response.text.index("<h1>信息已停止公开</h1>") < response.text.index('action="/check"')


def test_api_page_for_people(client):
    page = client.get("/api").text
    assert "curl -G" in page and '--data-urlencode "q=建筑"' in page
    assert "listed_now" in page and "as_of" in page and "/search.atom" in page
    home = client.get("/").text
    assert 'href="/api">开放数据接口</a>' in home
    assert client.get("/api/v1/").get_json()["documentation"] == "http://localhost/api"


def test_about_is_plain_and_gives_contacts(client, app):
    app.config["OBJECTION_PHONE"] = "0931-0000000"
    page = client.get("/about").text
    assert "做得更快" not in page
    assert 'id="contact"' in page and "0931-0000000" in page and 'href="/objections"' in page
    assert 'href="https://www.creditchina.gov.cn/"' in page
