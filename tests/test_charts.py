"""Server-drawn SVG charts (domain.charts): well-formed, accessible, free of what a
strict Content-Security-Policy refuses, and true to their numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def test_bar_chart_is_an_accessible_image_with_its_numbers():
    svg = parse(
        charts.bar_chart(
            "按区县", [charts.Bar("城关区", 84), charts.Bar("违反女职工和未成年工特殊劳动保护规定", 42)], unit="起"
        )
    )
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text == "按区县"
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    assert svg.find(f"{SVG}desc").text == "城关区：84起；违反女职工和未成年工特殊劳动保护规定：42起"
    bars = svg.findall(f"{SVG}rect")
    assert float(bars[0].get("width")) == 2 * float(bars[1].get("width"))  # lengths in proportion
    texts = [text.text for text in svg.findall(f"{SVG}text")]
    assert texts == ["城关区", "84起", "违反女职工和未成年工特殊劳动保护规定", "42起"]


def test_line_chart_marks_every_point_with_its_value():
    svg = parse(
        charts.line_chart(
            "历年", ["2020", "2021"], [charts.Series("案件", [37, 36]), charts.Series("名单", [17, Decimal("12")])]
        )
    )
    assert len(svg.findall(f"{SVG}polyline")) == 2 and len(svg.findall(f"{SVG}circle")) == 4
    values = [t.text for t in svg.findall(f"{SVG}text") if "chart-point-value" in t.get("class")]
    assert values == ["37", "36", "17", "12.00"]
    axis = [t.text for t in svg.findall(f"{SVG}text") if t.get("class") == "chart-axis"]
    assert axis[:5] == ["0", "10", "20", "30", "40"]  # a ceiling of 40 in whole steps
    assert svg.find(f"{SVG}desc").text == "案件：2020 37，2021 36；名单：2020 17，2021 12.00"


def test_empty_charts_say_so():
    assert "没有数据" in charts.bar_chart("空", [])
    assert "没有数据" in charts.line_chart("空", [], [])


_label = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@given(
    bars=st.lists(st.tuples(_label, st.integers(0, 10**9)), max_size=12),
    title=_label,
)
def test_any_bars_make_well_formed_svg_without_style_or_script(bars, title):
    markup = charts.bar_chart(title, [charts.Bar(label, value) for label, value in bars], unit="起")
    svg = parse(markup)  # labels are escaped: always well-formed
    for element in svg.iter():
        assert "style" not in element.attrib
        assert not any(name.startswith("on") for name in element.attrib)
        assert element.tag not in (f"{SVG}script", f"{SVG}style")
    widths = [float(rect.get("width")) for rect in svg.findall(f"{SVG}rect")]
    assert all(0 < width <= charts.WIDTH for width in widths)
    if bars and max(value for _, value in bars) > 0:
        longest = max(range(len(bars)), key=lambda i: bars[i][1])
        assert widths[longest] == max(widths)


@given(values=st.lists(st.integers(0, 10**6), min_size=1, max_size=10))
def test_any_line_stays_inside_the_drawing(values):
    svg = parse(charts.line_chart("t", [str(2000 + i) for i in range(len(values))], [charts.Series("s", values)]))
    for circle in svg.findall(f"{SVG}circle"):
        assert 0 <= float(circle.get("cy")) <= float(svg.get("viewBox").split()[3])
