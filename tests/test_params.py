"""Query parameters are parsed one way (domain.params) and a bad one is answered
400 with its Chinese message, as a page or as JSON, wherever it comes from."""

from __future__ import annotations

import pytest

from domain.params import ParameterError, bool_param, choice_param, int_param


def test_empty_values_mean_not_given():
    args = {"year": " ", "kind": "", "police": ""}
    assert int_param(args, "year", "年份", 1990, 2100) is None
    assert choice_param(args, "kind", "类别", ("cases",)) is None
    assert bool_param(args, "police", "是否移送公安机关") is None
    assert int_param({}, "year", "年份", 1990, 2100) is None


def test_values_are_typed():
    assert int_param({"year": " 2025 "}, "year", "年份", 1990, 2100) == 2025
    assert choice_param({"kind": "cases"}, "kind", "类别", ("cases",)) == "cases"
    assert bool_param({"police": "是"}, "police", "是否移送公安机关") is True
    assert bool_param({"police": "FALSE"}, "police", "是否移送公安机关") is False


@pytest.mark.parametrize(
    "parse, message",
    [
        (lambda: int_param({"year": "abc"}, "year", "年份", 1990, 2100), "参数“年份”应为整数，收到的是“abc”"),
        (lambda: int_param({"year": "1800"}, "year", "年份", 1990, 2100), "参数“年份”超出范围（1990–2100）"),
        (lambda: choice_param({"kind": "x"}, "kind", "类别", ("cases",)), "参数“类别”的取值“x”无效"),
        (lambda: bool_param({"police": "maybe"}, "police", "是否移送"), "参数“是否移送”应为 1 或 0"),
    ],
)
def test_bad_values_raise_one_error_with_a_chinese_message(parse, message):
    with pytest.raises(ParameterError) as caught:
        parse()
    assert str(caught.value) == message


def test_search_and_lists_answer_a_bad_parameter_alike(client):
    # the search page (request.args helpers) and the list pages (filter parsing)
    # give the same 400 with the same message
    search = client.get("/search?q=恒达&year=abc")
    cases = client.get("/cases?year=abc")
    message = "参数“年份”应为整数，收到的是“abc”"
    for page in (search, cases):
        assert page.status_code == 400 and "请求有误" in page.text and message in page.text
    answer = client.get("/api/v1/search?q=恒达&year=99999")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == {"status": 400, "message": "参数“年份”超出范围（1949–2200）"}
