"""The published fields of each record kind — one table drives the JSON keys, the
CSV/XLSX headers and the data dictionary on the about page — and the record→dict
serializers shared by the API and the downloads. Only records the caller got from
``domain.queries`` (public ones) are ever passed in here.

Nothing here knows about requests: the web layer passes in ``PublicUrls``, the
functions that give a record's public page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from domain import queries
from models import Batch, Case, Listing

UrlOf = Callable[[Any], str]


@dataclass(frozen=True)
class PublicUrls:
    """The public page of each kind of record (absolute URLs)."""

    case: UrlOf
    listing: UrlOf
    batch: UrlOf

    def record(self, record: Case | Listing) -> str:
        return self.case(record) if isinstance(record, Case) else self.listing(record)


@dataclass(frozen=True)
class Field:
    key: str  # JSON key
    label: str  # CSV/XLSX header and data-dictionary name
    description: str
    value: Callable[[Any], Any]  # record → JSON value


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda record: getattr(record, name)


def _money(name: str) -> Callable[[Any], Any]:
    def value(record: Any) -> float | None:
        amount = getattr(record, name)
        return None if amount is None else float(amount)

    return value


def _day(name: str) -> Callable[[Any], Any]:
    def value(record: Any) -> str | None:
        day = getattr(record, name)
        return None if day is None else day.isoformat()

    return value


def _timestamp(name: str) -> Callable[[Any], Any]:
    def value(record: Any) -> str | None:
        moment = getattr(record, name)
        return None if moment is None else moment.replace(microsecond=0).isoformat()

    return value


_ENTERPRISE_FIELDS = (
    Field("credit_code", "统一社会信用代码", "18位统一社会信用代码（GB 32100-2015）；没有时为空", _attr("credit_code")),
    Field("reg_no", "注册号", "尚未换发统一社会信用代码的单位的15位注册号", _attr("reg_no")),
    Field(
        "legal_representative",
        "法定代表人",
        "法定代表人或主要负责人姓名（仅以其法定身份公布）",
        _attr("legal_representative"),
    ),
    Field("address", "地址", "公布时的单位地址", _attr("address")),
    Field("district", "区县", "单位所在区县", _attr("district")),
    Field("industry", "行业", "所属行业", _attr("industry")),
)

_BATCH_OF_RECORD = (
    Field("batch_id", "批次编号", "所属公布批次的编号", lambda r: r.batch_id),
    Field("batch_title", "公布批次", "所属公布批次的标题，如“2020年第四批”", lambda r: r.batch.title),
    Field(
        "published_on",
        "发布日期",
        "所属批次的发布日期",
        lambda r: r.batch.published_on.isoformat() if r.batch.published_on else None,
    ),
)

_REVISION_FIELDS = (
    Field("revision", "版本", "记录的版本号；大于1表示公布后经过更正", _attr("revision")),
    Field("revised_at", "更正时间", "最近一次更正的时间（UTC）；未更正时为空", _timestamp("revised_at")),
    Field("correction_note", "更正说明", "最近一次更正的说明", _attr("correction_note")),
)

CASE_FIELDS: tuple[Field, ...] = (
    Field("id", "编号", "本站记录编号，网址中使用，长期不变", _attr("id")),
    Field("url", "网址", "本记录在本站的公开网页地址", lambda r: None),  # filled by the caller
    Field("enterprise_name", "违法主体名称", "公布时的单位全称", _attr("enterprise_name")),
    *_ENTERPRISE_FIELDS,
    Field(
        "violation_types",
        "违法类型",
        "《重大劳动保障违法行为社会公布办法》规定的违法类型，可有多项",
        lambda r: r.violation_type_list,
    ),
    Field("facts", "主要违法事实", "主要违法事实（劳动者以“张某等N名劳动者”形式公布）", _attr("facts")),
    Field("handling", "处理处罚情况", "相关处理情况", _attr("handling")),
    Field("workers_involved", "涉及人数", "涉及劳动者人数", _attr("workers_involved")),
    Field("amount_involved", "涉及金额（元）", "涉及金额，单位元", _money("amount_involved")),
    Field("fine_amount", "罚款金额（元）", "罚款金额，单位元", _money("fine_amount")),
    Field(
        "transferred_to_police",
        "是否移送公安机关",
        "是否涉嫌拒不支付劳动报酬罪等移送公安机关",
        _attr("transferred_to_police"),
    ),
    Field("decided_on", "决定日期", "作出处理决定的日期", _day("decided_on")),
    Field("document_no", "文书编号", "处理决定文书编号", _attr("document_no")),
    Field("authority", "承办机关", "承办案件的劳动保障监察机构", _attr("authority")),
    *_BATCH_OF_RECORD,
    *_REVISION_FIELDS,
)

LISTING_FIELDS: tuple[Field, ...] = (
    Field("id", "编号", "本站记录编号，网址中使用，长期不变", _attr("id")),
    Field("url", "网址", "本记录在本站的公开网页地址", lambda r: None),
    Field("enterprise_name", "单位名称", "公布时的单位全称", _attr("enterprise_name")),
    *_ENTERPRISE_FIELDS,
    Field("responsible_persons", "责任人员", "失信联合惩戒的责任人员姓名（仅姓名）", lambda r: r.responsible_persons),
    Field("reason", "列入事由", "列入失信联合惩戒对象名单的事由", _attr("reason")),
    Field("basis", "列入依据", "列入所依据的规定条款", _attr("basis")),
    Field("workers_involved", "涉及人数", "被拖欠工资的农民工人数", _attr("workers_involved")),
    Field("amount_owed", "拖欠金额（元）", "拖欠农民工工资金额，单位元", _money("amount_owed")),
    Field("deciding_authority", "作出决定部门", "作出列入决定的人力资源社会保障部门", _attr("deciding_authority")),
    Field("document_no", "决定文书号", "列入决定书文号", _attr("document_no")),
    Field("listed_on", "列入日期", "列入决定的日期，公开期自此起算", _day("listed_on")),
    Field("term_years", "期限（年）", "列入期限：第45号令为3年；2017年规定为1年（可延长）", _attr("term_years")),
    Field("expires_on", "届满日期", "期限届满之日；自该日起停止公开", _day("expires_on")),
    Field("regime", "适用规定", "“2022”：人社部令第45号；“2017”：人社部规〔2017〕16号", _attr("regime")),
    *_BATCH_OF_RECORD,
    *_REVISION_FIELDS,
)

BATCH_FIELDS: tuple[Field, ...] = (
    Field("id", "编号", "批次编号", _attr("id")),
    Field("url", "网址", "批次的公开网页地址", lambda r: None),
    Field("kind", "类别", "cases：重大违法案件；listings：失信联合惩戒对象名单", _attr("kind")),
    Field("kind_label", "类别名称", "类别的中文名称", _attr("kind_label")),
    Field("year", "年度", "公布年度", _attr("year")),
    Field("number", "批次序号", "当年第几批", _attr("number")),
    Field("title", "标题", "批次标题", _attr("title")),
    Field("published_on", "发布日期", "批次发布日期", _day("published_on")),
    Field("authority", "发布机关", "发布批次的机关", _attr("authority")),
)


def _either(case_value: Callable[[Any], Any], listing_value: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda record: case_value(record) if isinstance(record, Case) else listing_value(record)


# A search mixes cases and listings: one row shape for both (a field the other
# kind lacks is empty).
SEARCH_FIELDS: tuple[Field, ...] = (
    Field(
        "kind",
        "类别",
        "case：重大违法案件；listing：失信联合惩戒对象名单",
        _either(lambda r: "case", lambda r: "listing"),
    ),
    Field("id", "编号", "本站记录编号（同一类别内唯一）", _attr("id")),
    Field("url", "网址", "本记录在本站的公开网页地址", lambda r: None),
    Field("enterprise_name", "单位名称", "公布时的单位全称", _attr("enterprise_name")),
    *_ENTERPRISE_FIELDS,
    Field(
        "violation_types",
        "违法类型",
        "案件的违法类型（失信名单为空）",
        _either(lambda r: r.violation_type_list, lambda r: None),
    ),
    Field(
        "responsible_persons",
        "责任人员",
        "失信名单的责任人员姓名（案件为空）",
        _either(lambda r: None, lambda r: r.responsible_persons),
    ),
    Field(
        "facts",
        "违法事实或列入事由",
        "案件的主要违法事实，或失信名单的列入事由",
        _either(_attr("facts"), _attr("reason")),
    ),
    Field("workers_involved", "涉及人数", "涉及劳动者人数", _attr("workers_involved")),
    Field(
        "amount",
        "金额（元）",
        "案件的涉及金额，或失信名单的拖欠金额，单位元",
        _either(_money("amount_involved"), _money("amount_owed")),
    ),
    Field("document_no", "文书编号", "处理决定或列入决定的文书编号", _attr("document_no")),
    Field(
        "decided_on",
        "决定或列入日期",
        "案件的决定日期，或失信名单的列入日期",
        _either(_day("decided_on"), _day("listed_on")),
    ),
    Field("expires_on", "届满日期", "失信名单的届满日期（案件为空）", _either(lambda r: None, _day("expires_on"))),
    *_BATCH_OF_RECORD,
)


def fields_of(kind: str) -> tuple[Field, ...]:
    """The fields of a record kind ("cases" or "listings")."""
    return CASE_FIELDS if kind == "cases" else LISTING_FIELDS


# --- dicts (JSON) ----------------------------------------------------------------------


def to_dict(fields: tuple[Field, ...], record: Any, url: str) -> dict[str, Any]:
    data = {field.key: field.value(record) for field in fields}
    data["url"] = url
    return data


def case_dict(case: Case, urls: PublicUrls) -> dict[str, Any]:
    return to_dict(CASE_FIELDS, case, urls.case(case))


def listing_dict(listing: Listing, urls: PublicUrls) -> dict[str, Any]:
    return to_dict(LISTING_FIELDS, listing, urls.listing(listing))


def record_dict(record: Case | Listing, urls: PublicUrls) -> dict[str, Any]:
    return case_dict(record, urls) if isinstance(record, Case) else listing_dict(record, urls)


def batch_dict(batch: Batch, urls: PublicUrls, record_count: int | None = None) -> dict[str, Any]:
    data = to_dict(BATCH_FIELDS, batch, urls.batch(batch))
    if record_count is not None:
        data["record_count"] = record_count
    return data


class PageLike(Protocol):
    items: list[Any]
    total: int
    page: int
    per_page: int


def page_dict(page: PageLike, serialize: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The list shape of the brief: {"total", "page", "per_page", "results"}."""
    return {
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "results": [serialize(item) for item in page.items],
    }


def batch_page_dict(page: PageLike, urls: PublicUrls) -> dict[str, Any]:
    """A page of batches, each with the number of its records public now."""
    counts = queries.public_record_counts(page.items)
    return page_dict(page, lambda batch: batch_dict(batch, urls, counts.get(batch.id, 0)))


def batch_detail_dict(batch: Batch, records: PageLike, urls: PublicUrls) -> dict[str, Any]:
    """A batch and one page of its public records."""
    count = queries.public_record_counts([batch]).get(batch.id, 0)
    return {**batch_dict(batch, urls, count), **page_dict(records, lambda record: record_dict(record, urls))}


def enterprise_dict(
    code: str, url: str, latest: Case | Listing, cases: list[Case], listings: list[Listing], urls: PublicUrls
) -> dict[str, Any]:
    """An enterprise as published in its latest public record, with all its public records."""
    return {
        "credit_code": code,
        "url": url,
        "enterprise": {
            "name": latest.enterprise_name,
            "credit_code": latest.credit_code,
            "reg_no": latest.reg_no,
            "legal_representative": latest.legal_representative,
            "address": latest.address,
            "district": latest.district,
            "industry": latest.industry,
        },
        "cases": [case_dict(item, urls) for item in cases],
        "listings": [listing_dict(item, urls) for item in listings],
    }
