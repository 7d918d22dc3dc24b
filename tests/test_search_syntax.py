"""The queries journalists type: phrases, alternatives, exclusions, field
prefixes, partial and mistyped credit codes, amounts, ranking by field, sort
choices — each answered exactly (a property test compares every answer with a
brute-force scan of the public records), and malformed queries told apart."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.visibility import is_record_public
from extensions import db
from models import Case, Listing
from search_index import QueryError, search
from search_index.analysis import docno_key, fold
from search_index.syntax import CODE, DOCNO, NAME, PEOPLE, TEXT, Term, parse
from tests.builders import case_row, credit_code, listing_row, load
from tests.conftest import FIXED_TODAY


def names(outcome) -> list[str]:
    return [hit.record.enterprise_name for hit in outcome.hits]


# --- the parser -----------------------------------------------------------------------


def clauses(q: str) -> list[list[tuple[str, str | None, bool]]]:
    return [[(t.text, t.field, t.phrase) for t in c.terms] for c in parse(q).clauses]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("恒达 建筑", [[("恒达", None, False)], [("建筑", None, False)]]),
        ('"拖欠  工资"', [[("拖欠 工资", None, True)]]),
        ("“拖欠工资”", [[("拖欠工资", None, True)]]),
        ("恒达 OR 宏远", [[("恒达", None, False), ("宏远", None, False)]]),
        ("恒达 或 宏远 工资", [[("恒达", None, False), ("宏远", None, False)], [("工资", None, False)]]),
        ("恒达|宏远", [[("恒达", None, False), ("宏远", None, False)]]),
        ("名称:恒达", [[("恒达", NAME, False)]]),
        ("名称：恒达", [[("恒达", NAME, False)]]),  # a full-width colon
        ('人员:"王某 明"', [[("王某 明", PEOPLE, True)]]),
        ("文号:〔2025〕4号", [[("〔2025〕4号", DOCNO, False)]]),
        ("代码:MA0000012", [[("ma0000012", CODE, False)]]),
        ("5.89万元", [[("5.89万元", None, False)]]),  # the dot belongs to the amount
        ("恒达，建筑", [[("恒达", None, False)], [("建筑", None, False)]]),
        ("ＡＢＣ", [[("abc", None, False)]]),
        ("恒达-建筑", [[("恒达-建筑", None, False)]]),  # a hyphen inside a word is literal
        ("恒达 恒达", [[("恒达", None, False)]]),
        ("or 恒达", [[("or", None, False)], [("恒达", None, False)]]),  # only OR in capitals is the operator
    ],
)
def test_words_phrases_alternatives_and_fields(query, expected):
    assert clauses(query) == expected


def test_exclusions_are_kept_apart():
    parsed = parse("建筑 -物流 -名称:劳务 －餐饮")
    assert clauses("建筑 -物流 -名称:劳务 －餐饮") == [[("建筑", None, False)]]
    assert parsed.excluded == [Term("物流"), Term("劳务", NAME), Term("餐饮")]


@pytest.mark.parametrize(
    "query, message",
    [
        ('"拖欠', "引号不成对"),
        ('""', "引号中间没有"),
        ("OR 恒达", "OR"),
        ("恒达 OR", "OR"),
        ("恒达 OR OR 宏远", "OR"),
        ("恒达 | | 宏远", "OR"),
        ("-物流", "只写了要排除的词"),
        ("- 物流", "“-”后面要紧跟"),
        ("恒达 OR -物流", "不能用“OR”连接"),
        ("名称:", "后面要紧跟搜索词"),
        ("名称: 恒达", "后面要紧跟搜索词"),
        ("地址:兰州", "不认识的字段“地址”"),
        ("恒达\x01", "控制字符"),
        ("恒" * 101, "搜索词太长"),
        (" ".join(f"词{i}" for i in range(11)), "搜索词太多"),
    ],
)
def test_malformed_queries_say_what_is_wrong(query, message):
    with pytest.raises(QueryError) as problem:
        parse(query)
    assert message in str(problem.value)


def test_modes():
    assert parse("").mode == parse("，，").mode == "empty"
    assert parse("恒").mode == parse("恒 OR 达").mode == "too_short"
    assert parse("恒 达建").mode == "words"  # one character, checked in what 达建 finds
    assert parse(credit_code(3)).mode == "code"
    assert parse("兰城劳监指 [ 2025 ] 4 号").mode == "document_no"
    assert parse('"兰城劳监指〔2025〕4号"').mode == "words"  # quoted: a phrase


def test_a_credit_code_with_a_wrong_check_character_is_caught():
    good = credit_code(12)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert parse(good).expected_check is None
    assert parse(wrong).expected_check == good[17]
    assert parse(wrong.lower()).expected_check == good[17]
    # Not shaped like a credit code (I and O are not in its alphabet): no claim about its check.
    assert parse("ZZ62010IOOOOOOOOOO").expected_check is None


def test_six_or_more_letters_and_digits_are_also_looked_for_in_codes():
    assert CODE in Term("ma0000012").fields
    assert CODE in Term("620100").fields
    assert CODE not in Term("62010").fields  # five: too short to mean a code
    assert CODE not in Term("abcdefg").fields  # no digit
    assert Term("兰城劳监指[2025]4号").text_in(DOCNO) == docno_key("兰城劳监指〔2025〕4号")


# --- answers on a small corpus --------------------------------------------------------


@pytest.fixture
def corpus(app):
    rows = [
        case_row(
            违法主体名称="兰州宏远建筑工程有限公司",
            统一社会信用代码=credit_code(21),
            法定代表人="赵某",
            主要违法事实="拖欠张某等12名农民工工资共计5.89万元。",
            文书编号="兰城劳监指〔2025〕4号",
            决定日期="2025-01-10",
            **{"涉及金额（元）": "58900"},
        ),
        case_row(
            违法主体名称="兰州安泰物流有限公司",
            统一社会信用代码=credit_code(22),
            法定代表人="宏远",
            主要违法事实="拖欠李某等5名劳动者工资共计3.89万元。",
            文书编号="兰城劳监指〔2020〕254号",
            决定日期="2025-02-10",
            **{"涉及金额（元）": "38900"},
        ),
        case_row(
            违法主体名称="兰州顺通劳务有限公司",
            统一社会信用代码=credit_code(23),
            法定代表人="钱某",
            主要违法事实="未依法缴纳社会保险费。",
            处理处罚情况="责令改正，并处罚款5万元。",
            文书编号="宏远劳监罚〔2025〕7号",
            决定日期="2025-03-10",
            **{"涉及金额（元）": ""},
            违法类型="未依法缴纳社会保险费",
        ),
        case_row(
            违法主体名称="兰州新华餐饮有限公司",
            统一社会信用代码=credit_code(24),
            法定代表人="孙某",
            主要违法事实="拖欠工资，宏远项目部未支付5名劳动者工资共计89万元。",
            文书编号="兰城劳监指〔2025〕9号",
            决定日期="2025-04-10",
            **{"涉及金额（元）": "890000"},
        ),
    ]
    load("cases", rows)
    load(
        "listings",
        [
            listing_row(
                单位名称="兰州鼎盛劳务有限公司",
                统一社会信用代码=credit_code(25),
                法定代表人="任某",
                责任人员="任某、王某明",
                列入事由="拖欠56名农民工工资共计30万元，经责令限期支付逾期仍不支付",
                决定文书号="兰人社失信〔2025〕1号",
                **{"拖欠金额（元）": "300000"},
            )
        ],
        title="2025年第二批",
    )


def test_a_phrase_is_matched_as_written(corpus):
    assert names(search('"5名劳动者"')) == ["兰州新华餐饮有限公司", "兰州安泰物流有限公司"]
    assert search('"5名 劳动者"').total == 0  # the space is part of the phrase
    assert names(search('"期支付逾期"')) == ["兰州鼎盛劳务有限公司"]


def test_an_amount_is_matched_as_written_not_by_the_parts_around_the_dot(corpus):
    assert names(search("5.89万元")) == ["兰州宏远建筑工程有限公司"]
    assert names(search("89万元", sort="-date")) == [
        "兰州新华餐饮有限公司",
        "兰州安泰物流有限公司",
        "兰州宏远建筑工程有限公司",
    ]


def test_alternatives_and_exclusions(corpus):
    assert set(names(search("物流 OR 餐饮"))) == {"兰州安泰物流有限公司", "兰州新华餐饮有限公司"}
    assert set(names(search("物流 或 餐饮"))) == set(names(search("物流 | 餐饮")))
    assert set(names(search("有限公司 -劳务"))) == {
        "兰州宏远建筑工程有限公司",
        "兰州安泰物流有限公司",
        "兰州新华餐饮有限公司",
    }
    # An excluded word is left out wherever it occurs: 宏远 is a name, a person, a number, facts.
    assert names(search("有限公司 -宏远")) == ["兰州鼎盛劳务有限公司"]
    assert search("有限公司 -宏远 -劳务").total == 0


def test_field_prefixes_look_only_there(corpus):
    assert names(search("名称:宏远")) == ["兰州宏远建筑工程有限公司"]
    assert names(search("人员:宏远")) == ["兰州安泰物流有限公司"]
    assert names(search("人员:王某明")) == ["兰州鼎盛劳务有限公司"]
    assert names(search("文号:宏远")) == ["兰州顺通劳务有限公司"]
    assert names(search("文号:[2025]4号")) == ["兰州宏远建筑工程有限公司"]
    assert search("文号:〔2025〕4号").total == 1  # never 〔2020〕254号
    assert names(search(f"代码:{credit_code(23)[-6:]}")) == ["兰州顺通劳务有限公司"]
    assert search(f"代码:{credit_code(23)[8:12]}").total == 5  # MA00: in every code
    assert search("名称:物流 -名称:安泰").total == 0


def test_one_character_is_checked_within_what_the_other_words_find(corpus):
    assert names(search("有限公司 泰")) == ["兰州安泰物流有限公司"]
    assert names(search("有限公司 -泰 -餐 -务")) == ["兰州宏远建筑工程有限公司"]


def test_part_of_a_credit_code_finds_the_enterprise(corpus):
    code = credit_code(22)
    for part in (code[:6], code[5:14], code[-8:].lower()):
        assert "兰州安泰物流有限公司" in names(search(part)), part
    assert names(search(code[-8:]))[0] == "兰州安泰物流有限公司"


def test_a_mistyped_check_character_is_pointed_out(corpus, client):
    good = credit_code(21)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    outcome = search(wrong)
    assert outcome.total == 0
    assert f"校验位不符，应为 {good[17]}" in outcome.notice
    assert outcome.suggestions == [good]
    page = client.get("/search", query_string={"q": wrong}).get_data(as_text=True)
    assert f"校验位不符，应为 {good[17]}" in page and "没有找到" not in page
    assert f'href="/search?q={good}"' in page
    answer = client.get("/api/v1/search", query_string={"q": wrong}).get_json()
    assert answer["total"] == 0 and f"应为 {good[17]}" in answer["notice"] and answer["suggestions"] == [good]
    assert names(search(good)) == ["兰州宏远建筑工程有限公司"]


def test_ranked_by_where_the_words_match_name_people_number_facts(corpus):
    # 宏远 is a name (oldest record), a person, a decision number and facts (newest).
    outcome = search("宏远")
    assert names(outcome) == [
        "兰州宏远建筑工程有限公司",
        "兰州安泰物流有限公司",
        "兰州顺通劳务有限公司",
        "兰州新华餐饮有限公司",
    ]
    assert [hit.tier for hit in outcome.hits] == [1, 3, 5, 6]
    assert [hit.score for hit in outcome.hits] == sorted((hit.score for hit in outcome.hits), reverse=True)


def test_newest_first_and_amount_are_explicit_sort_choices(corpus):
    everything = "有限公司"
    assert names(search(everything, sort="-date"))[:2] == ["兰州鼎盛劳务有限公司", "兰州新华餐饮有限公司"]
    assert names(search(everything, sort="date"))[0] == "兰州宏远建筑工程有限公司"
    by_amount = names(search(everything, sort="-amount"))
    assert by_amount == [
        "兰州新华餐饮有限公司",
        "兰州鼎盛劳务有限公司",
        "兰州宏远建筑工程有限公司",
        "兰州安泰物流有限公司",
        "兰州顺通劳务有限公司",  # no amount: last
    ]
    assert names(search(everything, sort="amount")) == by_amount[::-1]
    # Paging through a sorted answer gives the same order.
    pages = [names(search(everything, page=p, per_page=2, sort="-amount")) for p in (1, 2, 3)]
    assert sum(pages, []) == by_amount


def test_sort_is_a_shareable_parameter(corpus, client):
    page = client.get("/search?q=有限公司&sort=-amount").get_data(as_text=True)
    assert '<strong aria-current="true">金额（高→低）</strong>' in page
    assert 'href="/search?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8&amp;sort=-date"' in page
    assert '<input type="hidden" name="sort" value="-amount">' in page
    answer = client.get("/api/v1/search?q=有限公司&sort=-amount").get_json()
    assert answer["sort"] == "-amount"
    assert answer["results"][0]["enterprise_name"] == "兰州新华餐饮有限公司"
    assert client.get("/api/v1/search?q=有限公司&sort=best").status_code == 400


def test_malformed_queries_are_400_in_the_api_and_a_message_on_the_page(corpus, client):
    answer = client.get("/api/v1/search", query_string={"q": '"拖欠'})
    assert answer.status_code == 400 and "引号不成对" in answer.get_json()["error"]["message"]
    page = client.get("/search", query_string={"q": '"拖欠'})
    assert page.status_code == 400 and "引号不成对" in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)


def test_the_help_and_the_api_document_the_query_language(client, corpus):
    page = client.get("/search").get_data(as_text=True)
    for example in ("OR", "-物流", "名称:恒达", "人员:王某", "文号:", "代码:", "5.89万元", "校验位"):
        assert example in page, example
    described = client.get("/api/v1/").get_json()
    search_entry = next(e for e in described["endpoints"] if e["path"] == "/api/v1/search")
    assert "sort" in search_entry["params"] and "q" in search_entry["params"]


def test_what_suggestions_need_is_loaded_when_the_app_starts(app):
    from search_index.analysis import char_pinyin

    assert char_pinyin.cache_info().currsize > 0


# --- every answer is exact: a brute-force scan of the public records ------------------

ALPHABET = "宏远建筑劳务物流兰州有限公司工资5.万元"


def _fields(record) -> dict[str, str]:
    def line(text: str) -> str:
        return " ".join(fold(text).split())

    if isinstance(record, Listing):
        people = [
            record.legal_representative,
            *[p for p in record.responsible_persons if p != record.legal_representative],
        ]
        text = " ".join(t for t in (record.reason, record.basis) if t)
    else:
        people = [record.legal_representative]
        text = " ".join(t for t in (record.facts, record.handling) if t)
    return {
        NAME: line(record.enterprise_name),
        PEOPLE: line(" ".join(p for p in people if p)),
        DOCNO: docno_key(record.document_no),
        CODE: " ".join(fold(c) for c in (record.credit_code, record.reg_no) if c),
        TEXT: line(text),
    }


def _has(fields: dict[str, str], term: Term) -> bool:
    return any(term.text_in(f) and term.text_in(f) in fields[f] for f in term.fields)


def brute_force(q: str) -> set[tuple[str, int]]:
    query = parse(q)
    found = set()
    for model, kind in ((Case, "case"), (Listing, "listing")):
        for record in db.session.scalars(select(model)):
            if not is_record_public(record, FIXED_TODAY):
                continue
            fields = _fields(record)
            if all(any(_has(fields, t) for t in c.terms) for c in query.clauses) and not any(
                _has(fields, t) for t in query.excluded
            ):
                found.add((kind, record.id))
    return found


@st.composite
def queries(draw) -> str:
    def word() -> str:
        text = draw(st.text(alphabet=ALPHABET, min_size=1, max_size=4))
        prefix = draw(st.sampled_from(["", "", "", "名称:", "人员:", "文号:", "代码:"]))
        quoted = draw(st.booleans())
        return prefix + (f'"{text}"' if quoted else text)

    clauses = []
    for _ in range(draw(st.integers(1, 3))):
        alternatives = [word() for _ in range(draw(st.integers(1, 2)))]
        clauses.append(" OR ".join(alternatives))
    excluded = [f"-{word()}" for _ in range(draw(st.integers(0, 2)))]
    return " ".join(clauses + excluded)


@pytest.fixture
def random_corpus(app):
    import random

    rng = random.Random(5)

    def text(low: int, high: int, alphabet: str = ALPHABET) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))

    def person() -> str:
        return text(2, 3, ALPHABET[:10])

    rows = [
        case_row(
            违法主体名称=f"兰州{text(2, 6)}有限公司",
            统一社会信用代码=credit_code(100 + i),
            法定代表人=person(),
            主要违法事实=text(5, 30),
            处理处罚情况=text(0, 10),
            文书编号=f"兰{text(1, 2)}〔2025〕{i}号",
            决定日期=f"2025-{1 + i % 12:02d}-{1 + i % 27:02d}",
        )
        for i in range(30)
    ]
    load("cases", rows)
    load(
        "listings",
        [
            listing_row(
                单位名称=f"{text(2, 6)}劳务有限公司",
                统一社会信用代码=credit_code(200 + i),
                责任人员=f"任某、{person()}",
                列入事由=text(5, 20),
                决定文书号=f"兰人社失信〔2025〕{i}号",
            )
            for i in range(8)
        ],
        title="2025年第二批",
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries())
def test_every_answer_equals_a_brute_force_scan(random_corpus, q):
    try:
        query = parse(q)
    except QueryError:
        return  # e.g. an empty phrase; malformed queries are tested above
    if query.mode != "words":
        return
    outcome = search(q, per_page=100)
    got = {(hit.kind, hit.record_id) for hit in outcome.hits}
    expected = brute_force(q)
    if outcome.partial:  # offered, labelled as such, only when nothing has the whole query
        assert expected == set(), q
        return
    assert got == expected, q
    assert outcome.total == len(expected), q


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(alphabet=ALPHABET + ' "“”-－:：|OR或名称人员文号代码()[]〔〕\\*?\x00\t', max_size=40))
def test_any_query_is_answered_or_refused_never_a_500(corpus, client, q):
    for url in ("/search", "/api/v1/search"):
        response = client.get(url, query_string={"q": q})
        assert response.status_code in (200, 400), (url, q)
        if response.status_code == 400 and url.startswith("/api"):
            assert response.get_json()["error"]["message"]
