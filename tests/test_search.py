"""Search behaviour on a temporary index: analysis, fragments, exact look-ups,
ranking, suggestions, highlighting, and visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain.accounts import create_user
from domain.publishing import correct_record, record_fields, update_search_index, withdraw_record
from extensions import db
from models import Case, Listing
from search_index import Filters, QueryError, search
from search_index.analysis import core_name, fold
from search_index.matchfile import pair_keys
from search_index.syntax import parse
from tests.builders import case_row, credit_code, listing_row, load
from web.highlight import highlight, snippet

NAMES = [
    "兰州恒达建筑工程有限公司",
    "兰州恒达建筑工程有限公司榆中分公司",
    "甘肃达建物流有限公司",
    "兰州新恒劳务有限公司",
    "兰州ABC科技有限公司",
    "兰州宏远餐饮管理有限公司",
]


def names(outcome) -> list[str]:
    return [hit.record.enterprise_name for hit in outcome.hits]


@pytest.fixture
def cases(app):
    rows = [
        case_row(
            违法主体名称=name,
            统一社会信用代码=credit_code(10 + i),
            法定代表人=f"{'王李张赵刘陈'[i]}某{'明华强军伟平'[i]}",
            主要违法事实=f"拖欠{20 + i}名农民工工资共计{10 + i}万元。" + ("承建工地位于安宁区。" if i == 5 else ""),
            文书编号=f"兰城劳监指〔2025〕{i + 1}号",
            决定日期=f"2025-03-{i + 1:02d}",
            区县="城关区" if i % 2 == 0 else "七里河区",
            违法类型="拖欠劳动报酬" if i < 4 else "未依法缴纳社会保险费",
        )
        for i, name in enumerate(NAMES)
    ]
    load("cases", rows)
    return {c.enterprise_name: c for c in db.session.scalars(select(Case))}


# --- analysis -------------------------------------------------------------------------


def test_every_pair_of_adjacent_characters_is_a_key_except_across_spaces():
    keys, offsets = pair_keys("恒达建筑")
    assert len(keys) == 3 and offsets.tolist() == [0, 3, 6]  # byte offsets in UTF-8
    keys, offsets = pair_keys("兰州 ab")
    assert len(keys) == 2 and offsets.tolist() == [0, 7]  # 兰州 and ab; none with the space
    assert len(set(pair_keys("abab")[0].tolist())) == 2  # ab, ba


def test_fold_keeps_offsets():
    text = "ＡＢＣ恒达　x"
    assert len(fold(text)) == len(text)
    assert fold(text) == "abc恒达 x"


def test_fold_maps_exactly_full_width_ascii_the_ideographic_space_and_capitals():
    for code in range(0x20, 0x7F):
        assert fold(chr(code)) == chr(code).lower()
    for code in range(0xFF01, 0xFF5F):
        assert fold(chr(code)) == chr(code - 0xFEE0).lower()
    assert fold("\u3000") == " "
    # Other letters and punctuation are left alone, ASCII among them or not.
    for text in ("ÀÉ", "Ω", "〔2025〕", "，。、", "兰州Ｘ公司À"):
        assert fold(text) == "".join(fold(c) if c.isascii() or "\uff01" <= c <= "\uff5e" else c for c in text)
    assert fold("兰人社失信〔２０２５〕Ａ号 AB") == "兰人社失信〔2025〕a号 ab"
    assert fold(None) == "" and fold("") == ""


def test_core_name_drops_the_legal_form():
    assert core_name("兰州恒达建筑工程有限公司") == "兰州恒达建筑工程"
    assert core_name("兰州恒达建筑工程有限公司（榆中分公司）") == "兰州恒达建筑工程"
    assert core_name("公司") == "公司"


def test_planner_recognises_codes_and_numbers():
    code = credit_code(10)
    assert parse(code.lower()).mode == "code"
    assert parse(" ".join([code[:6], code[6:12], code[12:]])).mode == "code"
    assert parse("兰城劳监指[2025]1号").mode == "document_no"
    assert parse("恒达").mode == "words"
    assert parse("恒").mode == "too_short"
    with pytest.raises(QueryError):
        parse("恒" * 101)


# --- fragments and names --------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ("恒达", {NAMES[0], NAMES[1]}),
        ("达建", {NAMES[0], NAMES[1], NAMES[2]}),
        ("恒达建", {NAMES[0], NAMES[1]}),  # crosses 恒达|建筑
        ("达建筑工", {NAMES[0], NAMES[1]}),  # crosses two word boundaries
        ("州新恒", {NAMES[3]}),
        ("餐饮管理", {NAMES[5]}),
        ("abc科技", {NAMES[4]}),
        ("ａｂｃ科技", {NAMES[4]}),  # full-width input
        ("ABC", {NAMES[4]}),
    ],
)
def test_fragments_find_every_name_containing_them(cases, query, expected):
    outcome = search(query, per_page=50)
    assert set(names(outcome)) == expected
    assert outcome.total == len(expected)


def test_digits_inside_a_longer_number_are_found(app):
    load(
        "cases",
        [
            case_row(违法主体名称="兰州12025号建筑劳务有限公司"),
            case_row(
                违法主体名称="兰州宏远餐饮有限公司",
                统一社会信用代码=credit_code(9),
                文书编号="兰城劳监指〔2025〕9号",
                主要违法事实="拖欠13名劳动者工资。",
            ),
        ],
    )
    for query in ("025号", "2025号建筑", "号建筑", "12"):
        assert names(search(query)) == ["兰州12025号建筑劳务有限公司"], query
    assert names(search("3名劳动者")) == ["兰州宏远餐饮有限公司"]
    # In both: the name of one, the decision number 〔2025〕 of the other.
    assert set(names(search("20"))) == {"兰州12025号建筑劳务有限公司", "兰州宏远餐饮有限公司"}
    assert names(search("20"))[0] == "兰州12025号建筑劳务有限公司"  # the name match first


def test_a_fragment_that_is_not_contiguous_does_not_match(cases):
    # 恒 and 建 both occur in 兰州恒达建筑…, but 恒建 does not.
    assert search("恒建").total == 0


def test_full_name_ranks_the_exact_company_first(cases):
    outcome = search("兰州恒达建筑工程有限公司")
    assert names(outcome)[0] == NAMES[0]
    assert outcome.hits[0].score > outcome.hits[1].score
    # The name without its legal form is exact as well.
    assert names(search("兰州恒达建筑工程"))[0] == NAMES[0]


def test_name_matches_rank_above_facts_matches(cases):
    # 安宁 is only in one record's facts; 宏远 is a name.
    assert names(search("安宁")) == [NAMES[5]]
    assert search("安宁").hits[0].tier == 6
    assert search("宏远").hits[0].tier < 6


def test_a_page_of_few_matches_is_ordered_as_the_walk_over_the_tiers_orders_it(cases, monkeypatch):
    # Few matches are sorted by themselves; many are taken tier by tier from
    # the index's date order. Both give the same pages, ties and all.
    from search_index import query

    load(
        "cases",
        [
            case_row(
                违法主体名称=f"兰州恒达劳务{i}有限公司", 决定日期="2025-03-01", 文书编号=f"兰劳监〔2025〕{50 + i}号"
            )
            for i in range(7)
        ],
        title="2025年第二批",
    )
    load(
        "listings",
        [
            listing_row(
                单位名称=f"兰州恒达物流{i}有限公司", 列入日期="2025-03-01", 决定文书号=f"兰人社失信〔2025〕{50 + i}号"
            )
            for i in range(4)
        ],
        title="2025年第三批",
    )
    for q in ("恒达", "兰州 工资", "恒达 OR 达建", "有限公司"):
        sorted_alone = [
            [(h.kind, h.record_id, h.tier) for h in search(q, page=p, per_page=4).hits] for p in (1, 2, 3, 4)
        ]
        monkeypatch.setattr(query, "FEW_MATCHES", 0)
        walked = [[(h.kind, h.record_id, h.tier) for h in search(q, page=p, per_page=4).hits] for p in (1, 2, 3, 4)]
        monkeypatch.undo()
        assert sorted_alone == walked and sorted_alone[0], q


def test_people_are_searchable(cases):
    assert names(search("王某明")) == [NAMES[0]]
    assert search("王某明").hits[0].tier == 3


def test_several_words_must_all_occur(cases):
    assert set(names(search("恒达 分公司"))) == {NAMES[1]}


def test_credit_code_in_lower_case_with_spaces_and_full_width(cases):
    code = credit_code(12)
    for typed in (
        code,
        code.lower(),
        f"{code[:4]} {code[4:10]} {code[10:]}",
        code.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
    ):
        outcome = search(typed)
        assert outcome.mode == "code"
        assert names(outcome) == [NAMES[2]], typed


@pytest.mark.parametrize(
    "typed",
    [
        "兰城劳监指〔2025〕4号",
        "兰城劳监指[2025]4号",
        "兰城劳监指(2025)4号",
        "兰城劳监指【2025】4号",
        "兰城劳监指（2025）4号",
        "兰城劳监指 [ 2025 ] 4 号",
    ],
)
def test_decision_numbers_with_any_brackets(cases, typed):
    assert names(search(typed)) == [NAMES[3]]


def test_one_character_gets_a_message(cases):
    outcome = search("恒")
    assert outcome.total == 0 and "两个字" in outcome.message


def test_facets_count_the_matches_and_filters_apply(cases):
    outcome = search("有限公司")
    districts = {f.value: f.count for f in outcome.facets["district"]}
    assert districts == {"城关区": 3, "七里河区": 3}
    types = {f.value: f.count for f in outcome.facets["type"]}
    assert types == {"拖欠劳动报酬": 4, "未依法缴纳社会保险费": 2}
    filtered = search("有限公司", Filters(district="城关区", vtype="拖欠劳动报酬"))
    assert set(names(filtered)) == {NAMES[0], NAMES[2]}
    assert filtered.total == 2
    # The district facet ignores its own filter, so other districts stay selectable.
    assert {f.value: f.count for f in filtered.facets["district"]} == {"城关区": 2, "七里河区": 2}


def test_browsing_by_filters_alone(cases):
    outcome = search("", Filters(district="七里河区", vtype="拖欠劳动报酬"))
    assert set(names(outcome)) == {NAMES[1], NAMES[3]}
    assert names(outcome)[0] == NAMES[3]  # newest first


def test_pagination_has_an_honest_total(cases):
    first = search("有限公司", per_page=4)
    second = search("有限公司", page=2, per_page=4)
    assert first.total == second.total == 6
    assert len(first.hits) == 4 and len(second.hits) == 2
    assert not set(names(first)) & set(names(second))
    assert search("有限公司", page=9, per_page=4).hits == []


# --- suggestions ----------------------------------------------------------------------


def test_homophone_typo_suggests_the_right_name(cases):
    outcome = search("恒大")
    assert outcome.total == 0
    assert "恒达" in outcome.suggestions


def test_zero_hits_fall_back_to_partial_matches_labelled_as_such(cases):
    outcome = search("恒达餐饮")
    assert outcome.partial
    assert set(names(outcome)) >= {NAMES[0], NAMES[5]}


# --- highlighting ---------------------------------------------------------------------


def test_highlight_escapes_markup_around_and_inside_marks():
    html = str(highlight("<b>恒达</b>&amp;", ["恒达"]))
    assert html == "&lt;b&gt;<mark>恒达</mark>&lt;/b&gt;&amp;amp;"
    assert str(highlight("<恒达>", ["<恒"])) == "<mark>&lt;恒</mark>达&gt;"


def test_highlight_is_width_and_case_blind():
    assert str(highlight("兰州ＡＢＣ科技", ["abc"])) == "兰州<mark>ＡＢＣ</mark>科技"


def test_highlight_merges_overlapping_and_touching_matches_and_leaves_unmatched_text_escaped():
    assert str(highlight("恒达建筑恒达", ["恒达建", "达建筑", "恒达"])) == "<mark>恒达建筑恒达</mark>"
    assert str(highlight("恒达 建筑 恒达", ["恒达", ""])) == "<mark>恒达</mark> 建筑 <mark>恒达</mark>"
    assert str(highlight("a<b>&c", ["x"])) == "a&lt;b&gt;&amp;c"
    assert str(highlight(None, ["恒达"])) == "" and str(highlight("恒达", [])) == "恒达"


def test_snippet_centres_on_the_match():
    text = "甲" * 200 + "恒达" + "乙" * 200
    piece = str(snippet(text, ["恒达"], width=40))
    assert "<mark>恒达</mark>" in piece and piece.startswith("…") and piece.endswith("…")


def test_markup_in_a_record_is_escaped_on_the_page(app, client):
    load("cases", [case_row(违法主体名称="兰州<i>恒达</i>建筑有限公司", 主要违法事实="拖欠工资<script>x</script>。")])
    page = client.get("/search?q=恒达").get_data(as_text=True)
    assert "&lt;i&gt;<mark>恒达</mark>&lt;/i&gt;" in page
    assert "<script>x" not in page


# --- never stale, never wrong ---------------------------------------------------------


@pytest.fixture
def staff(app):
    user = create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
    db.session.commit()
    return user


def test_a_withdrawn_record_disappears_at_once(cases, staff):
    record = cases[NAMES[3]]
    withdraw_record(record, "发布有误", staff)
    db.session.commit()
    update_search_index()
    assert search("新恒").total == 0


def test_a_corrected_record_is_found_by_its_new_name_only(cases, staff):
    record = cases[NAMES[5]]
    correct_record(record, {**record_fields(record), "enterprise_name": "兰州宏图餐饮有限公司"}, "名称有误", staff)
    db.session.commit()
    update_search_index()
    assert names(search("宏图")) == ["兰州宏图餐饮有限公司"]
    assert search("宏远").total == 0


def test_a_stale_index_never_shows_a_record_that_is_not_public(cases):
    # Withdrawn behind the index's back (no change-log entry): the page is still right.
    record = cases[NAMES[3]]
    record.status = "withdrawn"
    db.session.commit()
    outcome = search("新恒")
    assert outcome.hits == [] and outcome.total == 0


def test_an_expired_listing_is_never_returned(app, set_today):
    load(
        "listings",
        [listing_row(单位名称="兰州鼎盛劳务有限公司", 列入日期="2023-06-30", 期限="3")],
        title="2023年第一批",
    )
    set_today(dt.date(2026, 6, 29))
    assert names(search("鼎盛")) == ["兰州鼎盛劳务有限公司"]
    set_today(dt.date(2026, 6, 30))  # 届满日期: the first day no longer in force
    outcome = search("鼎盛")
    assert outcome.total == 0 and outcome.hits == []
    assert search("鼎盛劳务有限公司").suggestions == []
    assert search("", Filters(kind="listing")).total == 0
    assert db.session.scalar(select(Listing.status)) == "published"  # nothing had to run


def test_listings_and_cases_are_told_apart(cases):
    load(
        "listings",
        [listing_row(单位名称="兰州恒达建筑工程有限公司", 统一社会信用代码=credit_code(10))],
        title="2025年第二批",
    )
    both = search("恒达建筑")
    assert {hit.kind for hit in both.hits} == {"case", "listing"}
    assert {f.value: f.count for f in both.facets["kind"]} == {"cases": 2, "listings": 1}
    only = search("恒达建筑", Filters(kind="listing"))
    assert [hit.kind for hit in only.hits] == ["listing"]
