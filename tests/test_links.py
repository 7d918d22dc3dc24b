"""Links built from remembered paths (``path_for``, the templates' ``url_for``,
``url_with``) are exactly what routing builds, whatever the request, the path
prefix or the parameters read; ``hx_link`` escapes what it is given."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template_string, request, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from web.common import path_for, url_with
from web.templating import hx_link, search_link

PREFIXED = "https://gongshi.example.gov.cn/gongshi"


def test_path_for_is_url_for_with_and_without_a_path_prefix(app):
    calls = [
        ("public.about", {}),
        ("static", {"filename": "css/site.css"}),
        ("public.case", {"id": 7}),
        ("public.listing", {"id": 7}),
        ("search.search", {"q": "恒 达&x"}),  # a value the route does not take goes to the query
    ]
    for _ in range(2):  # the second round answers from what the first remembered
        for base in (None, PREFIXED):
            with app.test_request_context("/about", base_url=base):
                for endpoint, values in calls:
                    assert path_for(endpoint, **values) == url_for(endpoint, **values)
                assert path_for("public.about", _external=True) == url_for("public.about", _external=True)
                assert path_for("public.about").startswith("/gongshi/" if base else "/about")


def test_templates_url_for_answers_from_path_for_and_keeps_the_prefix(app):
    source = (
        "{{ url_for('public.about') }} {{ url_for('public.case', id=3) }} {{ url_for('public.about', _external=True) }}"
    )
    with app.test_request_context("/", base_url=PREFIXED):
        assert render_template_string(source) == (
            "/gongshi/about /gongshi/cases/3 https://gongshi.example.gov.cn/gongshi/about"
        )
    with app.test_request_context("/"):
        assert render_template_string(source) == "/about /cases/3 http://localhost/about"


def test_a_parameter_read_after_the_first_link_is_carried_in_the_next(app):
    with app.test_request_context("/search?q=恒达&district=城关区&junk=1"):
        request.args.get("q")
        assert url_with(page=2) == "/search?q=%E6%81%92%E8%BE%BE&page=2"
        request.args.get("district")  # read later: the links from now on carry it
        assert url_with(page=2) == url_for("search.search", q="恒达", district="城关区", page=2)


def test_hx_link_escapes_everything_it_writes():
    link = hx_link('/x?a=1&b="2"', "<b>甲</b>", rel="next", current=True, cls="chip", title='取消"这一条件"')
    assert link == (
        '<a href="/x?a=1&amp;b=&#34;2&#34;" hx-get="/x?a=1&amp;b=&#34;2&#34;" hx-target="#results" hx-swap="outerHTML"'
        ' hx-push-url="true" rel="next" aria-current="true" class="chip" title="取消&#34;这一条件&#34;">'
        "&lt;b&gt;甲&lt;/b&gt;</a>"
    )
    assert search_link("/search?q=1", "全部") == (
        '<a href="/search?q=1" hx-get="/search?q=1" hx-target="#search-results" hx-swap="outerHTML"'
        ' hx-push-url="true" hx-indicator="#search-results">全部</a>'
    )


NAMES = st.sampled_from(["q", "district", "year", "page", "per_page", "sort", "kind", "junk"])
VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.lists(st.tuples(NAMES, VALUES), max_size=6),
    read=st.sets(NAMES),
    changes=st.dictionaries(NAMES, st.one_of(st.none(), VALUES, st.integers(0, 99), st.lists(VALUES, max_size=2))),
    endpoint=st.sampled_from([None, "search.search_json", "search.search_csv", "public.cases"]),
    prefixed=st.booleans(),
)
def test_url_with_is_what_url_for_builds_from_the_understood_parameters(app, args, read, changes, endpoint, prefixed):
    with app.test_request_context("/search?" + urlencode(args), base_url=PREFIXED if prefixed else None):
        for name in read:
            request.args.get(name)
        built = url_with(endpoint, **changes)
        # What url_with promises, written with url_for: the parameters read,
        # grouped by name, the page dropped unless changed, then the changes.
        understood = set(read) if "page" in changes else set(read) - {"page"}
        query: dict[str, list] = {}
        for name, value in request.args.items(multi=True):
            if name in understood:
                query.setdefault(name, []).append(value)
        for name, value in changes.items():
            query.pop(name, None)
            if value is not None and value != "":
                query[name] = list(value) if isinstance(value, list) else [value]
        query = {name: values for name, values in query.items() if values}
        assert built == url_for(endpoint or "search.search", **query)
