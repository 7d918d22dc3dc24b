"""No public query parameter, whatever its value, gives a 500: every page, list,
download, API answer and feed answers 2xx/3xx, or 4xx with a message."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import case_row, credit_code, listing_row, load

# Every parameter any public page reads, and a few it does not.
NAMES = [
    "q", "kind", "district", "year", "type", "batch", "police", "sort", "page", "per_page", "from_year",
    "to_year", "months", "reference", "contact", "next", "format", "id", "as_of", "junk", "_",
]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", " ", "城关区", "2025", "-date", "amount", "cases", "listings", "1", "0", "是", "1-11"]),
    st.sampled_from(['"', "(", "OR", "AND NOT", "*", "?", "~", "^", ":", "code:", "-", "\\", "%", "\ufeff", "𠀀"]),
)


def public_rules(app) -> list[tuple[str, list[str]]]:
    """(rule, its arguments) for every public GET route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/admin") or "GET" not in (rule.methods or ()):
            continue
        found.append((rule.rule, sorted(rule.arguments)))
    return sorted(found)


def fill(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda match: values[match.group(1)], rule)


@pytest.fixture
def site(app):
    load("cases", [case_row()])
    load("listings", [listing_row()], title="2025年第二批")
    return app


def test_the_fuzz_covers_the_public_routes(site):
    rules = [rule for rule, _ in public_rules(site)]
    for expected in ("/cases", "/search", "/api/v1/search", "/feeds/changes.atom", "/sitemap.xml", "/check"):
        assert expected in rules


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_query_parameter_gives_a_500(client, site, data):
    rules = public_rules(site)
    rule, arguments = data.draw(st.sampled_from(rules), label="route")
    path_values = {
        name: data.draw(
            st.sampled_from(["1", "2", "999999", credit_code(1), credit_code(2), "cases", "listings", "x"]),
            label=name,
        )
        for name in arguments
    }
    params = data.draw(
        st.lists(st.tuples(st.sampled_from(NAMES) | st.text(min_size=1, max_size=8), VALUES), max_size=5),
        label="params",
    )
    path = fill(rule, path_values)
    headers = data.draw(st.sampled_from([{}, {"HX-Request": "true"}]), label="headers")
    with client.get(path, query_string=params, headers=headers) as response:
        assert response.status_code < 500, (path, params, response.status_code)
