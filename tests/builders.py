"""Test data through the real import service, so tests exercise what staff do."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import current_app
from stdnum.cn import uscc

from domain.importing import CASE_COLUMNS, LISTING_COLUMNS, ImportSettings, check_file, store_batch
from domain.publishing import publish_batch, update_search_index
from extensions import db


def credit_code(serial: int) -> str:
    """A valid fictional 统一社会信用代码 for a serial number."""
    body = f"91620100MA{serial:07d}"
    return body + uscc.calc_check_digit(body)


def case_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "违法主体名称": "兰州恒达建筑工程有限公司",
        "统一社会信用代码": credit_code(1),
        "法定代表人": "王某",
        "地址": "兰州市城关区示例路1号",
        "区县": "城关区",
        "行业": "建筑业",
        "违法类型": "拖欠劳动报酬",
        "主要违法事实": "拖欠张某等12名农民工工资共计20万元。",
        "处理处罚情况": "责令限期支付，逾期未支付，已移送公安机关。",
        "涉及人数": "12",
        "涉及金额（元）": "200000",
        "罚款金额（元）": "",
        "是否移送公安机关": "是",
        "决定日期": "2025-03-01",
        "文书编号": "兰城劳监指〔2025〕1号",
    }
    row.update(overrides)
    return row


def listing_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "单位名称": "兰州鼎盛劳务有限公司",
        "统一社会信用代码": credit_code(2),
        "法定代表人": "任某",
        "责任人员": "任某、刘某",
        "地址": "兰州市安宁区示例路2号",
        "区县": "安宁区",
        "列入事由": "拖欠56名农民工工资共计30万元，经责令限期支付逾期仍不支付",
        "列入依据": "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》第五条第一项",
        "涉及人数": "56",
        "拖欠金额（元）": "300000",
        "作出决定部门": "兰州市人力资源和社会保障局",
        "决定文书号": "兰人社失信〔2025〕1号",
        "列入日期": "2025-06-30",
        "期限（年）": "3",
    }
    row.update(overrides)
    return row


def to_csv(kind: str, rows: list[dict[str, Any]]) -> bytes:
    columns = CASE_COLUMNS if kind == "cases" else LISTING_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue().encode("utf-8")


def load(kind: str, rows: list[dict[str, Any]], *, title: str = "2025年第一批", publish: bool = True):
    """Import rows as one batch (published by default) and return the batch."""
    report = check_file(to_csv(kind, rows), "test.csv", kind, ImportSettings.from_config(current_app.config))
    assert not report.errors, [str(error) for error in report.errors]
    batch = store_batch(kind, report.records, title=title, authority=current_app.config["AUTHORITY_NAME"])
    if publish:
        publish_batch(batch, published_on=dt.date(2025, 7, 1))
    db.session.commit()
    update_search_index()
    return batch
