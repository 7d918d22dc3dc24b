"""Security headers on every answer, templates the strict CSP allows, absolute
URLs from the configured base URL (never the Host header), and links that carry
only the parameters the page understands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from extensions import db
from models import Case
from tests.admin_support import fast_hashing, login, make_user  # noqa: F401
from tests.builders import case_row, listing_row, load

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://gongshi.example.gov.cn"
EVIL = "evil.example"


@pytest.fixture
def data(app):
    return {"cases": load("cases", [case_row()]), "listings": load("listings", [listing_row()], title="2025年第二批")}


@pytest.fixture
def configured(app):
    """Another application on the same database, with some settings changed."""
    made = []

    def make(**settings):
        site = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "DATABASE_URL": app.config["DATABASE_URL"],
                "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
                "SAMPLE_DATA": False,
                **settings,
            },
            instance_path=app.instance_path,
        )
        made.append(site)
        return site

    yield make
    for site in made:
        with site.app_context():
            db.engine.dispose()


# --- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/cases", "/search?q=建筑", "/api/v1/cases", "/admin/login", "/nowhere", "/static/css/site.css"]
)
def test_every_answer_carries_the_security_headers(client, data, url):
    with client.get(url) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # not outside production


def test_production_adds_hsts(configured, data):
    site = configured(ENV_NAME="production", PUBLIC_BASE_URL=BASE)
    with site.test_client().get("/cases") as response:
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


TEMPLATE_RULES = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_have_nothing_the_policy_forbids():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for rule, pattern in TEMPLATE_RULES.items():
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {rule}")
    assert found == []


def test_htmx_never_needs_eval_or_inline_styles():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    admin = (ROOT / "templates" / "admin" / "layout.html").read_text(encoding="utf-8")
    for layout in (base, admin):
        assert '"includeIndicatorStyles":false' in layout and '"allowEval":false' in layout


# --- absolute URLs ----------------------------------------------------------------------


def test_absolute_urls_come_from_the_base_url_not_the_host_header(configured, data):
    site = configured(PUBLIC_BASE_URL=BASE)
    client = site.test_client()
    headers = {"Host": EVIL, "X-Forwarded-Host": EVIL}
    with client.get("/api/v1/cases", headers=headers) as response:
        urls = [record["url"] for record in response.get_json()["results"]]
    assert urls and all(url.startswith(BASE + "/cases/") for url in urls)
    for path in (
        "/cases.csv",
        "/sitemap.xml",
        "/feeds/batches.atom",
        "/robots.txt",
        f"/cases/{urls[0].rsplit('/', 1)[1]}",
    ):
        with client.get(path, headers=headers) as response:
            text = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert EVIL not in text, path
        assert BASE in text, path


def test_the_base_url_wins_over_forwarded_headers_behind_a_proxy(configured, data):
    site = configured(PUBLIC_BASE_URL=BASE, PROXY_COUNT=1)
    headers = {"Host": EVIL, "X-Forwarded-Proto": "http", "X-Forwarded-Host": EVIL, "X-Forwarded-For": "203.0.113.9"}
    with site.test_client().get("/api/v1/cases", headers=headers) as response:
        assert response.get_json()["results"][0]["url"].startswith(BASE + "/cases/")


def test_a_base_url_with_a_path_prefix(configured, data):
    site = configured(PUBLIC_BASE_URL="https://www.example.gov.cn/gongshi/")
    with site.test_client().get("/gongshi/api/v1/cases", headers={"Host": EVIL}) as response:
        url = response.get_json()["results"][0]["url"]
    assert url.startswith("https://www.example.gov.cn/gongshi/cases/")


def test_without_a_base_url_the_host_header_is_used_in_development(client, data):
    with client.get("/api/v1/cases", headers={"Host": "localhost:5000"}) as response:
        assert response.get_json()["results"][0]["url"].startswith("http://localhost:5000/")


def test_trusted_hosts_refuse_another_host(configured, data):
    site = configured(TRUSTED_HOSTS=["gongshi.example.gov.cn"])
    client = site.test_client()
    with client.get("/api/v1/cases", headers={"Host": EVIL}) as response:
        assert response.status_code == 400
    with client.get("/api/v1/cases", headers={"Host": "gongshi.example.gov.cn"}) as response:
        assert response.status_code == 200


@pytest.mark.parametrize("bad", ["gongshi.example.gov.cn", "ftp://x.example", "https://x.example/?a=1", "https://"])
def test_a_malformed_base_url_is_refused_at_start(configured, bad):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        configured(PUBLIC_BASE_URL=bad)


def test_production_needs_a_base_url_or_trusted_hosts(configured):
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        configured(ENV_NAME="production")
    assert configured(ENV_NAME="production", TRUSTED_HOSTS=["gongshi.example.gov.cn"])


# --- parameters the page understands ----------------------------------------------------

JUNK = "x" * 4000


@pytest.mark.parametrize(
    "path",
    ["/cases?district=城关区", "/listings?year=2025", "/batches?kind=cases", "/search?q=建筑", "/check?q=建筑"],
)
def test_junk_parameters_are_not_echoed_into_links(client, data, path):
    with client.get(path) as clean:
        clean_size = len(clean.get_data())
    with client.get(f"{path}&junk={JUNK}&utm_source=spam") as response:
        text = response.get_data(as_text=True)
        link_header = response.headers.get("Link", "")
    assert response.status_code == 200
    assert "junk=" not in text and "utm_source" not in text and "junk=" not in link_header
    assert len(text.encode()) < clean_size + 1000  # a 4 KB request no longer makes a page hundreds of KB larger


def test_understood_parameters_are_still_carried(client, data):
    load("cases", [case_row(文书编号=f"兰劳监〔2025〕{n}号") for n in range(30, 55)], title="2025年第三批")
    with client.get("/cases?district=城关区&sort=-amount&per_page=10&junk=1") as response:
        text = response.get_data(as_text=True).replace("&amp;", "&")
    assert "district=%E5%9F%8E%E5%85%B3%E5%8C%BA" in text
    next_links = re.findall(r'href="(/cases\?[^"]*page=2[^"]*)"', text)
    assert next_links and all("per_page=10" in link and "sort=-amount" in link for link in next_links)
    assert "junk" not in text
    assert db.session.query(Case).count() == 26


def test_staff_lists_drop_junk_too(client, data, fast_hashing):  # noqa: F811
    make_user("boss", "admin")
    login(client, "boss")
    with client.get(f"/admin/audit?action=login&junk={JUNK}") as response:
        text = response.get_data(as_text=True)
    assert response.status_code == 200 and "junk=" not in text


def test_links_of_a_page_are_what_url_for_builds_whatever_the_path_prefix(configured, data):
    # url_with builds a page's route path once and encodes each link's query
    # itself: the links must be exactly url_for's, with a path prefix too.
    site = configured()
    with site.app_context():  # one application context for both: its g outlives each request
        _links_match_url_for(site)


def _links_match_url_for(site):
    from flask import request, url_for

    from web.common import url_with

    for base in (None, BASE + "/gongshi"):
        with site.test_request_context("/search.csv?q=恒 达&district=城关区&page=2&id=7&junk=1", base_url=base):
            for name in ("q", "district", "page", "id"):
                request.args.get(name)
            assert url_with() == url_for("search.search_csv", q="恒 达", district="城关区", id="7")
            assert url_with(page=3, q="a/b?c&d") == url_for(
                "search.search_csv", district="城关区", id="7", page=3, q="a/b?c&d"
            )
            assert url_with("search.search_json", district=["城关区", "七里河区"]) == url_for(
                "search.search_json", fmt="csv", q="恒 达", id="7", district=["城关区", "七里河区"]
            )
        with site.test_request_context("/search?q=恒 达&district=城关区&page=2", base_url=base):
            for name in ("q", "district", "page"):
                request.args.get(name)
            assert url_with(district=None) == url_for("search.search", q="恒 达")
            assert url_with(page=3) == url_for("search.search", q="恒 达", district="城关区", page=3)
            assert url_with("search.search_atom", page=None) == url_for(
                "search.search_atom", q="恒 达", district="城关区"
            )
            assert url_with(q="", district="") == url_for("search.search")
            assert url_with().startswith("/gongshi/search?" if base else "/search?")
