"""The import service: one parametrised case per rule, and all-or-nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.importing import ImportSettings, check_file, year_and_number_from_title
from extensions import db
from models import Batch, Case, Enterprise, Listing
from tests.builders import case_row, credit_code, listing_row, load, to_csv
from tests.conftest import example_file


def check(app, kind, rows):
    return check_file(to_csv(kind, rows), "t.csv", kind, ImportSettings.from_config(app.config))


@pytest.mark.parametrize(
    "overrides, column, fragment",
    [
        ({"违法主体名称": ""}, "违法主体名称", "必填"),
        ({"主要违法事实": "  "}, "主要违法事实", "必填"),
        ({"决定日期": "2020.13.01"}, "决定日期", "不存在"),
        ({"决定日期": "去年"}, "决定日期", "无法识别"),
        ({"决定日期": "2099-01-01"}, "决定日期", "晚于今天"),
        ({"涉及金额（元）": "-5"}, "涉及金额（元）", "负数"),
        ({"涉及金额（元）": "四十万"}, "涉及金额（元）", "不是数字"),
        ({"罚款金额（元）": "1.005"}, "罚款金额（元）", "两位小数"),
        ({"涉及人数": "-1"}, "涉及人数", "负数"),
        ({"涉及人数": "12.5"}, "涉及人数", "整数"),
        ({"区县": "朝阳区"}, "区县", "不在本市区县列表"),
        ({"违法类型": "偷税"}, "违法类型", "不是规定的违法类型"),
        ({"统一社会信用代码": credit_code(1)[:-1] + "0"}, "统一社会信用代码", "校验位"),
        ({"统一社会信用代码": "91620100MA0000001"}, "统一社会信用代码", "18位"),
        ({"统一社会信用代码": "X1620100MA00000011"}, "统一社会信用代码", "首位"),
        ({"统一社会信用代码": "91620100MA000000I1"}, "统一社会信用代码", "不允许的字符"),
        ({"是否移送公安机关": "也许"}, "是否移送公安机关", "是"),
        ({"主要违法事实": "拖欠李四（身份证号11010519491231002X）工资"}, "主要违法事实", "居民身份证号码"),
        ({"处理处罚情况": "联系人电话 139 1234 5678"}, "处理处罚情况", "手机号码"),
        ({"法定代表人": "王某 13912345678"}, "法定代表人", "手机号码"),
    ],
)
def test_case_rule(app, overrides, column, fragment):
    report = check(app, "cases", [case_row(**overrides)])
    assert not report.ok
    assert report.records == []
    assert any(e.row == 2 and e.column == column and fragment in e.message for e in report.errors), report.errors


@pytest.mark.parametrize(
    "overrides, column, fragment",
    [
        ({"统一社会信用代码": ""}, "统一社会信用代码", "必填"),
        ({"统一社会信用代码": "620100000012345"}, "统一社会信用代码", "18位"),
        ({"决定文书号": ""}, "决定文书号", "必填"),
        ({"列入日期": ""}, "列入日期", "必填"),
        ({"期限（年）": "20"}, "期限（年）", "1到10年"),
        ({"责任人员": "任某、110105194912310020X"}, "责任人员", "不像一个姓名"),
        ({"拖欠金额（元）": "¥-1"}, "拖欠金额（元）", "负数"),
    ],
)
def test_listing_rule(app, overrides, column, fragment):
    report = check(app, "listings", [listing_row(**overrides)])
    assert any(e.row == 2 and e.column == column and fragment in e.message for e in report.errors), report.errors


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("欠薪", "拖欠劳动报酬"),
        ("克扣、无故拖欠劳动报酬", "拖欠劳动报酬"),
        ("未缴社保;超时加班", "未依法缴纳社会保险费、违反工作时间和休息休假规定"),
        ("使用童工", "违法使用童工"),
        ("其它", "其他"),
    ],
)
def test_violation_type_synonyms_are_stored_canonically(app, raw, expected):
    report = check(app, "cases", [case_row(违法类型=raw)])
    assert report.ok, report.errors
    assert report.records[0]["violation_types"] == expected


@pytest.mark.parametrize("day", ["2025-03-01", "2025/3/1", "2025年3月1日", "45717"])
def test_date_formats(app, day):
    report = check(app, "cases", [case_row(决定日期=day)])
    assert report.ok, report.errors
    assert report.records[0]["decided_on"].isoformat() == "2025-03-01"


def test_case_may_carry_registration_number_or_no_code(app):
    report = check(
        app, "cases", [case_row(统一社会信用代码="620100000012345"), case_row(统一社会信用代码="", 文书编号="x2")]
    )
    assert report.ok, report.errors
    assert report.records[0]["reg_no"] == "620100000012345" and report.records[0]["credit_code"] is None
    assert report.records[1]["credit_code"] is None


def test_credit_code_is_normalised(app):
    report = check(app, "cases", [case_row(统一社会信用代码=" " + credit_code(1).lower() + " ")])
    assert report.records[0]["credit_code"] == credit_code(1)


@pytest.mark.parametrize(
    "header_change, fragment",
    [
        (lambda h: h + ["备注"], "不是模板中的列名"),
        (lambda h: h[:-1], "缺少列：文书编号"),
        (lambda h: h[:1] + h, "列名重复"),
    ],
)
def test_headers_must_match_template(app, header_change, fragment):
    from domain.importing import CASE_COLUMNS

    header = header_change(list(CASE_COLUMNS))
    data = (",".join(header) + "\n").encode() + to_csv("cases", [case_row()]).split(b"\n", 1)[1]
    report = check_file(data, "t.csv", "cases", ImportSettings.from_config(app.config))
    assert any(e.row == 1 and fragment in str(e) for e in report.errors), report.errors


def test_one_bad_row_stores_nothing_and_names_the_row(app, runner, tmp_path):
    rows = [case_row(文书编号=f"n{i}") for i in range(5)]
    rows[3]["统一社会信用代码"] = credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1")
    path = tmp_path / "bad.csv"
    path.write_bytes(to_csv("cases", rows))
    result = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", "2025年第一批", "--publish"])
    assert result.exit_code != 0
    assert "第5行【统一社会信用代码】" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    assert db.session.scalar(select(func.count()).select_from(Batch)) == 0


def test_every_error_is_reported(app):
    rows = [
        case_row(区县="x", 文书编号="a"),
        case_row(文书编号="b"),
        case_row(决定日期="?", 涉及人数="?", 文书编号="c"),
    ]
    report = check(app, "cases", rows)
    assert {(e.row, e.column) for e in report.errors} == {(2, "区县"), (4, "决定日期"), (4, "涉及人数")}


def test_duplicate_document_numbers_in_one_file(app):
    report = check(app, "cases", [case_row(文书编号="兰〔2025〕1号"), case_row(文书编号="兰[2025]1号")])
    assert any(e.row == 3 and "重复" in e.message for e in report.errors)


@pytest.mark.parametrize(
    "name, kind, count",
    [
        ("cases-example.csv", "cases", 3),
        ("cases-example-gb18030.csv", "cases", 3),
        ("cases-example.xlsx", "cases", 3),
        ("listings-example.csv", "listings", 2),
        ("listings-example.xlsx", "listings", 2),
    ],
)
def test_example_files_import_through_the_cli(app, runner, name, kind, count):
    result = runner.invoke(
        args=["import", str(example_file(name)), "--kind", kind, "--title", "2020年第四批", "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no progress bar's bare label in a log or a pipe
    model = Case if kind == "cases" else Listing
    assert db.session.scalar(select(func.count()).select_from(model).where(model.status == "published")) == count
    batch = db.session.scalars(select(Batch)).one()
    assert (batch.year, batch.number, batch.status) == (2020, 4, "published")


def test_example_cases_fields(app, runner):
    runner.invoke(args=["import", str(example_file("cases-example.csv")), "--kind", "cases", "--title", "2020年第一批"])
    cases = db.session.scalars(select(Case).order_by(Case.source_row)).all()
    first, second, third = cases
    assert first.violation_types == "拖欠劳动报酬" and first.transferred_to_police
    assert str(first.amount_involved) == "416000.00" and first.fine_amount is None
    assert second.violation_type_list == ["未依法缴纳社会保险费", "违反工作时间和休息休假规定"]
    assert third.credit_code is None and third.decided_on.isoformat() == "2020-11-02"
    assert first.status == "draft"


def test_listing_term_and_regime(app):
    report = check(
        app,
        "listings",
        [
            listing_row(**{"列入日期": "2020-05-01", "期限（年）": "", "决定文书号": "a"}),
            listing_row(**{"列入日期": "2025-06-30", "期限（年）": "", "决定文书号": "b"}),
        ],
    )
    old, new = report.records
    assert (old["regime"], old["term_years"], old["expires_on"].isoformat()) == ("2017", 1, "2021-05-01")
    assert (new["regime"], new["term_years"], new["expires_on"].isoformat()) == ("2022", 3, "2028-06-30")
    assert new["persons"] == ["任某", "刘某"]


def test_enterprises_are_shared_between_records(app):
    load("cases", [case_row(文书编号="a"), case_row(文书编号="b")])
    load("listings", [listing_row(统一社会信用代码=credit_code(1))], title="2025年第二批")
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) == 1


@pytest.mark.parametrize(
    "title, expected",
    [
        ("2020年第四批", (2020, 4)),
        ("2021年第十二批重大违法案件", (2021, 12)),
        ("2019年第3批", (2019, 3)),
        ("年度汇总", (None, None)),
    ],
)
def test_year_and_number_from_title(title, expected):
    assert year_and_number_from_title(title) == expected


@pytest.mark.parametrize(
    "data, name, fragment",
    [
        (b"", "a.csv", "空"),
        (b"\x00\x01\x02binary", "a.pdf", "不支持的文件类型"),
        (b"PK\x03\x04broken", "a.xlsx", "无法读取"),
        (b"old", "a.xls", ".xls"),
        ("违法主体名称\n".encode(), "a.csv", "缺少列"),
    ],
)
def test_unreadable_files(app, data, name, fragment):
    report = check_file(data, name, "cases", ImportSettings.from_config(app.config))
    assert report.errors and fragment in str(report.errors[0])
