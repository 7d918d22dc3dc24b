"""The blacklist check: what a query means, the verdict on a code or an exact
name, the card on /check and on the enterprise page, and the API's listed_now /
as_of. A listing that is no longer public never shows through a verdict."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from stdnum.cn import uscc

from domain import verdict
from domain.validation import CREDIT_CODE_ALPHABET, FieldError, check_credit_code, credit_code_problem
from extensions import db
from models import Listing
from tests.builders import case_row, credit_code, listing_row, load
from tests.conftest import FIXED_TODAY

LISTED = "兰州鼎盛劳务有限公司"  # credit_code(2), in force until 2028-06-30
BOTH = "兰州恒达建筑工程有限公司"  # credit_code(1): a case and a listing in force
CASE_ONLY = "兰州示例安宁物流有限公司"  # credit_code(3): a case, never listed
GONE = "兰州示例到期劳务有限公司"  # credit_code(77): listed 2023-01-10 for 3 years, expired


@pytest.fixture
def data(app):
    load(
        "cases",
        [
            case_row(),
            case_row(违法主体名称=CASE_ONLY, 统一社会信用代码=credit_code(3), 文书编号="兰安劳监罚〔2024〕5号"),
        ],
    )
    load(
        "listings",
        [
            listing_row(),
            listing_row(单位名称=BOTH, 统一社会信用代码=credit_code(1), 决定文书号="兰人社失信〔2025〕2号"),
            listing_row(
                单位名称=GONE,
                统一社会信用代码=credit_code(77),
                决定文书号="兰人社失信〔2023〕7号",
                列入日期="2023-01-10",
            ),
        ],
    )


# --- what a query means --------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, kind, value",
    [
        ("", "empty", ""),
        ("   ", "empty", ""),
        (credit_code(1), "code", credit_code(1)),
        (credit_code(1).lower(), "code", credit_code(1)),
        (" ".join(credit_code(1)[i : i + 6] for i in range(0, 18, 6)), "code", credit_code(1)),
        ("９１６２０１００ＭＡ" + credit_code(1)[10:], "code", credit_code(1)),  # full width
        ("620102123456789", "reg_no", "620102123456789"),
        (credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1"), "bad_code", None),
        ("91620100MA00000", "bad_code", None),
        ("兰州恒达", "name", "兰州恒达"),
        ("  兰州恒达  建筑 ", "name", "兰州恒达 建筑"),
        ("ABC建筑", "name", "ABC建筑"),
    ],
)
def test_parse_lookup(typed, kind, value):
    lookup = verdict.parse_lookup(typed)
    assert lookup.kind == kind
    if value is not None:
        assert lookup.value == value
    if kind == "bad_code":
        assert lookup.problem


@pytest.mark.parametrize(
    "code, position, fragment",
    [
        ("91620100MA0000001", None, "应为18位，输入的是17位"),
        ("91620100MA000000I1", 17, "第17位“I”是不允许的字符"),
        ("91620100MA00000O01", 16, "是否应为“0”"),
        ("B1620100MA00000001", 1, "第1位（首位，登记管理部门代码）"),
        ("9162A100MA00000001", 5, "第5位应为数字"),
    ],
)
def test_credit_code_problem_names_the_position(code, position, fragment):
    found_position, message = credit_code_problem(code)
    assert found_position == position and fragment in message


def test_check_digit_problem_gives_the_expected_character():
    code = credit_code(1)
    wrong = "0" if code[-1] != "0" else "1"
    position, message = credit_code_problem(code[:-1] + wrong)
    assert position == 18
    assert f"应为“{code[-1]}”" in message and f"输入的是“{wrong}”" in message
    with pytest.raises(FieldError, match="校验位"):
        check_credit_code(code[:-1] + wrong)


valid_bodies = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8).map(
    lambda tail: "91620100" + "M" + tail
)


@settings(max_examples=200, deadline=None)
@given(body=valid_bodies, position=st.integers(0, 17), data=st.data())
def test_every_single_substitution_is_caught(body, position, data):
    """GB 32100's MOD 31 check catches every one-character typo: no mistyped code
    ever passes as valid (and so never reads as "not listed")."""
    code = body + uscc.calc_check_digit(body)
    assert credit_code_problem(code) is None
    replacement = data.draw(st.sampled_from([c for c in CREDIT_CODE_ALPHABET if c != code[position]]))
    typo = code[:position] + replacement + code[position + 1 :]
    assert credit_code_problem(typo) is not None
    assert verdict.parse_lookup(typo).kind == "bad_code"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18))
def test_problem_agrees_with_the_standard(text):
    if credit_code_problem(text) is None:
        assert uscc.is_valid(text) and text[0] in "123456789ANY"


# --- verdicts --------------------------------------------------------------------------


def test_statuses(data, set_today):
    assert verdict.for_code(credit_code(2)).status == verdict.LISTED
    assert verdict.for_code(credit_code(1)).status == verdict.LISTED
    assert verdict.for_code(credit_code(3)).status == verdict.NEVER_LISTED
    assert verdict.for_code(credit_code(77)).status == verdict.EXPIRED
    assert verdict.for_code(credit_code(99)).status == verdict.UNKNOWN
    assert verdict.for_code("91620100MA0000000X").status == verdict.INVALID
    # the day before the expiry it was listed, on the day it is not
    set_today(dt.date(2026, 1, 9))
    assert verdict.for_code(credit_code(77)).listed_now
    set_today(dt.date(2026, 1, 10))
    assert not verdict.for_code(credit_code(77)).listed_now


def test_listed_verdict_carries_the_term_and_the_cases(data):
    answer = verdict.for_code(credit_code(1))
    assert answer.listed_now and answer.name == BOTH and answer.as_of == FIXED_TODAY
    assert [item.expires_on for item in answer.listings] == [dt.date(2028, 6, 30)]
    assert len(answer.cases) == 1


@pytest.mark.parametrize("fate", ["removed", "revoked", "withdrawn"])
def test_a_listing_no_longer_public_reads_as_not_listed(data, client, fate):
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(2)))
    listing.status = fate
    db.session.commit()
    answer = verdict.for_code(credit_code(2))
    assert answer.status == verdict.EXPIRED and not answer.listed_now and answer.name is None
    page = client.get(f"/check?q={credit_code(2)}").text
    assert "该单位<strong>不在</strong>" in page
    assert LISTED not in page and "兰人社失信" not in page


def test_expired_and_unknown_codes_look_the_same(data, client):
    """Nothing on the card tells an enterprise whose listing has expired from one
    the site never heard of: the takedown holds in the verdict too."""
    expired = client.get(f"/check?q={credit_code(77)}").text.replace(credit_code(77), "CODE")
    unknown = client.get(f"/check?q={credit_code(99)}").text.replace(credit_code(99), "CODE")
    assert expired == unknown
    assert GONE not in expired and "本站没有该单位的公开记录" in expired


def test_exact_name_with_either_bracket_width(app):
    load("listings", [listing_row(单位名称="兰州某某（集团）建筑有限公司", 统一社会信用代码=credit_code(5))])
    for typed in ("兰州某某（集团）建筑有限公司", "兰州某某(集团)建筑有限公司", " 兰州某某(集团)建筑有限公司 "):
        query, answers = verdict.lookup(typed)
        assert query.kind == "name"
        assert [a.code for a in answers] == [credit_code(5)] and answers[0].listed_now


def test_a_name_known_only_from_an_expired_listing_gives_no_verdict(data):
    assert verdict.lookup(GONE)[1] == []


def test_suggestions_are_public_codes_one_typo_away(data):
    code = credit_code(1)
    swapped = code[:10] + code[11] + code[10] + code[12:] if code[10] != code[11] else None
    typo = code[:12] + ("1" if code[12] != "1" else "2") + code[13:]
    for mistyped in filter(None, (typo, swapped)):
        if credit_code_problem(mistyped) is None:
            continue
        _, [answer] = verdict.lookup(mistyped)
        assert answer.status == verdict.INVALID
        assert (code, BOTH) in answer.suggestions
    # an expired enterprise is never suggested
    gone = credit_code(77)
    _, [answer] = verdict.lookup(gone[:12] + ("1" if gone[12] != "1" else "2") + gone[13:])
    assert all(code != gone for code, _ in answer.suggestions)


# --- pages ------------------------------------------------------------------------------


def test_check_page_listed(data, client):
    page = client.get(f"/check?q={credit_code(2)}").text
    assert "截至2026年11月28日，该单位<strong>在</strong>兰州市人社局公布的失信联合惩戒对象名单中" in page
    assert LISTED in page and "2028年6月30日" in page and "期限 <strong>3年</strong>" in page
    assert "未找到≠无失信记录" in page
    assert 'href="https://www.creditchina.gov.cn/"' in page and 'href="https://www.gsxt.gov.cn/"' in page
    assert "查询时间：2026年11月28日" in page
    assert f"http://localhost/check?q={credit_code(2)}" in page  # the link to share


def test_check_page_case_only(data, client):
    page = client.get(f"/check?q={credit_code(3)}").text
    assert "该单位<strong>不在</strong>" in page and CASE_ONLY in page
    assert "该单位有 <strong>1</strong> 件重大劳动保障违法案件正在公布" in page


def test_check_page_invalid_code_marks_the_character(data, client):
    page = client.get("/check?q=91620100MA000000I1").text
    assert "代码有误" in page and "第17位“I”是不允许的字符" in page
    assert "91620100MA000000<mark>I</mark>1" in page
    assert "该单位<strong>不在</strong>" not in page


def test_check_redirects_to_one_link_per_code(data, client):
    response = client.get(f"/check?q={credit_code(2).lower()}")
    assert response.status_code == 302 and response.headers["Location"] == f"/check?q={credit_code(2)}"


def test_check_exact_name_and_part_of_a_name(data, client):
    page = client.get("/check", query_string={"q": BOTH}).text
    assert "该单位<strong>在</strong>" in page and credit_code(1) in page
    page = client.get("/check", query_string={"q": "鼎盛"}).text
    assert "本站没有名称为“鼎盛”的单位的公开记录" in page
    assert f'href="/check?q={credit_code(2)}"' in page and "在失信名单中" in page
    assert "未找到≠无失信记录" in page


def test_check_empty_and_nothing_found(data, client):
    assert "失信名单查询" in client.get("/check").text
    page = client.get("/check", query_string={"q": "没有这家公司"}).text
    assert "也没有名称含有“没有这家公司”的单位" in page and "未找到≠无失信记录" in page


def test_boxes_ask_check(data, client):
    for url in ("/", "/listings", "/cases"):
        page = client.get(url).text
        assert 'action="/check"' in page and 'placeholder="单位全称或18位统一社会信用代码"' in page, url


def test_enterprise_page_leads_with_the_card(data, client):
    page = client.get(f"/enterprises/{credit_code(1)}").text
    assert page.index("verdict-answer") < page.index("单位信息")
    assert "该单位<strong>在</strong>" in page
    assert f"http://localhost/enterprises/{credit_code(1)}" in page


def test_enterprise_page_without_public_records_is_a_404_verdict(data, client):
    response = client.get(f"/enterprises/{credit_code(77)}")
    assert response.status_code == 404
    assert "该单位<strong>不在</strong>" in response.text and GONE not in response.text
    bad = client.get("/enterprises/91620100MA000000I1")
    assert bad.status_code == 404 and "第17位" in bad.text


def test_print_stylesheet_is_linked(data, client):
    page = client.get(f"/check?q={credit_code(2)}").text
    assert 'href="/static/css/print.css" media="print"' in page
    # A file response holds its file open until closed; close it as a browser would.
    with client.get("/static/css/print.css") as stylesheet:
        assert stylesheet.status_code == 200


# --- API ---------------------------------------------------------------------------------


def test_api_listed_now_and_as_of(data, client, set_today):
    body = client.get(f"/api/v1/enterprises/{credit_code(1)}").get_json()
    assert body["listed_now"] is True and body["as_of"] == "2026-11-28"
    body = client.get(f"/api/v1/enterprises/{credit_code(3)}").get_json()
    assert body["listed_now"] is False and body["enterprise"]["name"] == CASE_ONLY
    set_today(dt.date(2028, 6, 30))  # both listings expired; the case stays
    body = client.get(f"/api/v1/enterprises/{credit_code(1)}").get_json()
    assert body["listed_now"] is False and body["as_of"] == "2028-06-30" and body["listings"] == []


def test_api_unknown_and_invalid_codes(data, client):
    response = client.get(f"/api/v1/enterprises/{credit_code(77)}")
    assert response.status_code == 404
    body = response.get_json()
    assert body["listed_now"] is False and body["as_of"] == "2026-11-28" and GONE not in response.text
    response = client.get("/api/v1/enterprises/91620100MA000000I1")
    assert response.status_code == 400
    assert response.get_json()["error"]["position"] == 17
