"""Clearly fictional sample data (示例数据), for a newcomer's first look, demos and
benchmarks. Rows are generated in the import template, as strings, and go through
the one import service (``validate_table`` → ``store_batch`` → ``publish_batch``):
there is no second way into the database. Every enterprise name and street
contains 示例, persons are 张某 / 王某明, workers are never named, and credit
codes are fictional but carry a valid GB 32100 check character.

The same seed (and the same today) gives the same data."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from stdnum.cn import uscc

from domain import clock, importing
from domain.import_storage import batch_title, next_free_number
from domain.importing import CASE_COLUMNS, LISTING_COLUMNS, ImportSettings, validate_table
from domain.publishing import update_search_index
from domain.spreadsheets import Table
from domain.validation import CREDIT_CODE_ALPHABET, normalize_document_no
from extensions import db
from models import Batch, Case, Hotline, Listing
from models.batch import KIND_CASES, KIND_LISTINGS
from search_index import reindex

FIRST_YEAR = 2020
GENERATE_CHUNK = 20_000  # rows generated and validated at a time
MAX_BATCH_RECORDS = 50_000  # a larger request is split into several batches
REINDEX_ABOVE = 50_000  # more new records than this: rebuild the index instead of replaying the change log

Progress = Callable[[int], None]

# 2020 as in the bureau's annual report: 3 batches / 37 cases, 3 batches / 17 listings.
_CASE_BATCHES = {2020: (12, 13, 12)}
_LISTING_BATCHES = {2020: (6, 5, 6), 2021: (6, 6), 2022: (7, 7), 2023: (7, 7, 7)}
_CASES_PER_BATCH = (9, 13)
_LISTINGS_PER_BATCH = (7, 9)

# --- vocabularies ----------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史"
_GIVEN = "明强军伟华平刚杰涛斌超磊勇峰建国红霞芳丽静燕娟玲东亮文"
_TRADE_1 = "恒鼎永汇华宏盛兴金瑞天鑫安泰德隆博远嘉宇腾丰诚明祥顺达中新通福昌"
_TRADE_2 = "达盛通源泰丰信和远升辉业宇成诚嘉晟益润海腾发鸿茂安"
_PROJECT_1 = (
    "金城",
    "黄河",
    "滨河",
    "雁滩",
    "皋兰山",
    "白塔",
    "五泉",
    "西湖",
    "兰山",
    "龙源",
    "银滩",
    "东岗",
    "华林",
    "安宁",
    "北山",
    "阳光",
    "锦绣",
    "翠园",
    "盛世",
    "和平",
)
_PROJECT_2 = ("花园", "小区", "家园", "嘉苑", "新城", "雅居", "公馆", "商业广场", "产业园", "安置小区")
_PROJECT_PHASE = ("", "", "一期", "二期", "三期", "A区", "B区")
_ROADS = ("示例路", "示例街", "示例大道", "示例巷", "示例北路", "示例南路", "示例东路", "示例西路")

# (industry, weight, enterprise name suffixes, unregistered-workshop suffixes)
_INDUSTRIES = (
    (
        "建筑业",
        52,
        (
            "建筑工程有限公司",
            "建设工程有限公司",
            "建筑劳务有限公司",
            "建筑安装工程有限公司",
            "市政工程有限公司",
            "装饰工程有限公司",
        ),
        ("建筑队",),
    ),
    (
        "制造业",
        12,
        ("机械制造有限公司", "食品有限公司", "服装有限公司", "建材有限公司", "包装制品有限公司"),
        ("食品加工厂", "服装加工厂", "家具厂"),
    ),
    ("住宿和餐饮业", 10, ("餐饮管理有限公司", "酒店管理有限公司", "宾馆有限公司"), ("餐馆", "牛肉面馆", "宾馆")),
    ("租赁和商务服务业", 8, ("劳务派遣有限公司", "物业管理有限公司", "人力资源服务有限公司", "保安服务有限公司"), ()),
    ("交通运输、仓储和邮政业", 6, ("物流有限公司", "运输有限公司", "快递服务有限公司"), ("货运部",)),
    (
        "居民服务、修理和其他服务业",
        5,
        ("家政服务有限公司", "洗浴服务有限公司", "汽车维修有限公司"),
        ("汽修店", "洗车行"),
    ),
    ("批发和零售业", 4, ("商贸有限公司", "超市有限公司"), ("便利店",)),
    ("房地产业", 3, ("房地产开发有限公司", "置业有限公司"), ()),
)
_INDUSTRY_WEIGHTS = [weight for _, weight, _, _ in _INDUSTRIES]
_CUMULATIVE_INDUSTRY = [sum(_INDUSTRY_WEIGHTS[: i + 1]) for i in range(len(_INDUSTRY_WEIGHTS))]

# Region codes (GB/T 2260) of the first deployment's districts, for credit codes.
_REGION_CODES = {
    "城关区": "620102",
    "七里河区": "620103",
    "西固区": "620104",
    "安宁区": "620105",
    "红古区": "620111",
    "永登县": "620121",
    "皋兰县": "620122",
    "榆中县": "620123",
    "兰州新区": "620100",
}
_DATE_STYLES = ("{y}-{m:02d}-{d:02d}", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日")

_WAGE_TYPES = ("拖欠劳动报酬", "拒不支付劳动报酬")
_BASIS_2017 = "《拖欠农民工工资“黑名单”管理暂行办法》（人社部规〔2017〕16号）第五条"
_BASIS_2022 = "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》第五条第{item}项"


@dataclass(frozen=True)
class _Place:
    """How the configured city and its districts are spelled in generated text."""

    city: str  # 兰州市
    city_short: str  # 兰州
    authority: str
    districts: tuple[str, ...]

    @classmethod
    def from_config(cls, config) -> _Place:
        city = config["CITY_NAME"]
        return cls(city, city.removesuffix("市") or city, config["AUTHORITY_NAME"], tuple(config["DISTRICTS"]))

    def district_full(self, district: str) -> str:
        return district if district.startswith(self.city_short) else self.city + district

    def district_bureau(self, district: str) -> str:
        return self.district_full(district) + "人力资源和社会保障局"

    def district_bureau_short(self, district: str) -> str:
        return district + "人社局"

    def document_prefix(self, district: str) -> str:
        """兰城 for 城关区, 兰新 for 兰州新区, 榆 for 榆中县: how bureaus abbreviate."""
        if district.startswith(self.city_short) and len(district) > len(self.city_short):
            return self.city_short[0] + district[len(self.city_short)]
        if district.endswith("区"):
            return self.city_short[:1] + district[0]
        return district[0]

    def region_code(self, district: str) -> str:
        if district in _REGION_CODES:
            return _REGION_CODES[district]
        return f"6201{(self.districts.index(district) + 2) % 100:02d}"


@dataclass(frozen=True)
class _Enterprise:
    name: str
    code: str  # 18-char credit code, 15-digit 注册号, or "" for an unregistered workshop
    legal_representative: str
    address: str
    district: str
    industry: str


class _Generator:
    """Deterministic rows in the import template. Enterprises are derived from a
    serial number alone, so the same firm keeps its name and code when it appears
    in several records (repeat offenders are drawn more often)."""

    def __init__(self, place: _Place, seed: int, pool_size: int):
        self.place = place
        self.seed = seed
        self.pool_size = max(pool_size, 10)
        self.rng = random.Random(seed)
        self.document_counters: dict[tuple[str, int], int] = {}
        # Decision numbers already stored (a second load into the same database):
        # skipped, since one decision is published once.
        self.taken_documents: set[str] = set()
        for model in (Case, Listing):
            self.taken_documents.update(
                db.session.scalars(select(model.document_no_key).where(model.document_no_key.is_not(None)))
            )

    # -- people, places, enterprises ------------------------------------------------

    def person(self, rng: random.Random) -> str:
        surname = rng.choice(_SURNAMES)
        return surname + "某" + (rng.choice(_GIVEN) if rng.random() < 0.5 else "")

    def enterprise(self, serial: int, *, needs_credit_code: bool = False) -> _Enterprise:
        rng = random.Random(f"{self.seed}:{serial}")
        district = self._district(rng)
        position = rng.uniform(0, _CUMULATIVE_INDUSTRY[-1])
        industry, _, suffixes, workshops = next(
            _INDUSTRIES[i] for i, limit in enumerate(_CUMULATIVE_INDUSTRY) if position <= limit
        )
        trade = rng.choice(_TRADE_1) + rng.choice(_TRADE_2)
        kind = rng.random()
        if workshops and kind < 0.05 and not needs_credit_code:
            # An unregistered workshop: named after its district, no code.
            name, code = f"{district}示例{trade}{rng.choice(workshops)}", ""
        else:
            name = f"{self.place.city_short}示例{trade}{rng.choice(suffixes)}"
            if kind < 0.08 and not needs_credit_code:
                code = self._registration_number(district, serial)
            else:
                code = self._credit_code(district, serial, rng)
        address = f"{self.place.district_full(district)}{rng.choice(_ROADS)}{rng.randint(1, 399)}号"
        return _Enterprise(name, code, self.person(rng), address, district, industry)

    def _district(self, rng: random.Random) -> str:
        # The central districts see most cases.
        weights = [max(1, 10 - 2 * i) for i in range(len(self.place.districts))]
        return rng.choices(self.place.districts, weights)[0]

    def _credit_code(self, district: str, serial: int, rng: random.Random) -> str:
        region = self.place.region_code(district) if rng.random() < 0.6 else self.place.region_code(district)[:4] + "00"
        # A bijection of the serial (the multiplier is prime to 31), so codes are
        # unique within a seed and do not all share their leading characters.
        number = (serial * 2_654_435_761 + self.seed * 7_919) % 31**7
        body = ""
        for _ in range(7):
            number, digit = divmod(number, 31)
            body = CREDIT_CODE_ALPHABET[digit] + body
        code = f"91{region}MA{body}"
        return code + uscc.calc_check_digit(code)

    def _registration_number(self, district: str, serial: int) -> str:
        digits = self.place.region_code(district) + f"{serial % 100_000_000:08d}"
        # ISO 7064 MOD 11,10, the check digit of the old 15-digit 注册号.
        product = 10
        for digit in digits:
            total = (int(digit) + product) % 10 or 10
            product = (total * 2) % 11
        return digits + str((11 - product) % 10)

    def pick_enterprise(self, rng: random.Random, *, needs_credit_code: bool = False) -> _Enterprise:
        # Skewed towards low serials: a few employers are repeat offenders.
        serial = int(self.pool_size * rng.random() ** 1.6)
        return self.enterprise(serial, needs_credit_code=needs_credit_code)

    def document_no(self, prefix: str, kind: str, year: int) -> str:
        key = (prefix + kind, year)
        while True:
            self.document_counters[key] = self.document_counters.get(key, 0) + 1
            number = f"{prefix}{kind}〔{year}〕{self.document_counters[key]}号"
            if not self.taken_documents or normalize_document_no(number) not in self.taken_documents:
                return number

    # -- numbers and text --------------------------------------------------------

    @staticmethod
    def workers(rng: random.Random, low: int = 2, high: int = 300, median: float = 18) -> int:
        return max(low, min(high, int(math.exp(rng.gauss(math.log(median), 0.95)))))

    @staticmethod
    def date_text(rng: random.Random, day: dt.date) -> str:
        return rng.choice(_DATE_STYLES).format(y=day.year, m=day.month, d=day.day)

    @staticmethod
    def wan(amount: int) -> str:
        """416000 → 41.6万元, as the bureau writes amounts in prose."""
        text = f"{amount / 10000:.2f}".rstrip("0").rstrip(".")
        return f"{text}万元"

    @staticmethod
    def wage_amount(rng: random.Random, workers: int, months: int) -> int:
        monthly = rng.randint(28, 75) * 100
        return max(1000, int(workers * months * monthly * rng.uniform(0.4, 1.0)) // 100 * 100)

    def project(self, rng: random.Random) -> str:
        return rng.choice(_PROJECT_1) + rng.choice(_PROJECT_2) + rng.choice(_PROJECT_PHASE)

    @staticmethod
    def arrears_period(rng: random.Random, decided_on: dt.date) -> tuple[str, int]:
        """'2020年5月至8月' ending 1–6 months before the decision, and its length."""
        end = decided_on.year * 12 + decided_on.month - 1 - rng.randint(1, 6)
        months = rng.randint(1, 8)
        start = end - months + 1
        (sy, sm), (ey, em) = divmod(start, 12), divmod(end, 12)
        if months == 1:
            return f"{sy}年{sm + 1}月", 1
        if sy == ey:
            return f"{sy}年{sm + 1}月至{em + 1}月", months
        return f"{sy}年{sm + 1}月至{ey}年{em + 1}月", months

    # -- rows ------------------------------------------------------------------------

    def case_row(self, rng: random.Random, decided_on: dt.date) -> dict[str, str]:
        firm = self.pick_enterprise(rng)
        construction = firm.industry == "建筑业"
        who = "农民工" if construction else "劳动者"
        unit = "该公司" if "公司" in firm.name else "该" + firm.name[-1]
        bureau = self.place.district_bureau_short(firm.district)
        prefix = self.place.document_prefix(firm.district)
        year = decided_on.year
        roll = rng.random()
        wage_share = 0.85 if construction else 0.45
        fine = ""
        amount = ""
        transferred = False
        if roll < wage_share:
            workers = self.workers(rng, median=25 if construction else 12)
            period, months = self.arrears_period(rng, decided_on)
            value = self.wage_amount(rng, workers, months)
            amount = str(value)
            victim = f"{rng.choice(_SURNAMES)}某等{workers}名{who}"
            site = f"承建的{self.project(rng)}项目" if construction else ""
            refused = rng.random() < 0.45  # about 30% of all cases end with the police
            if refused:
                types = ["拒不支付劳动报酬"]
                facts = (
                    f"{unit}{site}拖欠{victim}{period}工资共计{self.wan(value)}，经责令限期支付后，"
                    f"{rng.choice(('法定代表人逃匿', '以转移财产方式逃避支付', '仍拒不支付'))}。"
                )
                handling = rng.choice(
                    (
                        f"{bureau}依法将该案移送公安机关，公安机关已立案侦查。",
                        f"{bureau}下达《劳动保障监察限期改正指令书》，逾期未改正，已移送公安机关立案侦查。",
                        f"{bureau}依法移送公安机关追究刑事责任，{rng.choice(_SURNAMES)}某已被刑事拘留。",
                    )
                )
                transferred = True
                document = self.document_no(prefix, "劳监移", year)
            else:
                types = ["拖欠劳动报酬"]
                facts = f"{unit}{site}拖欠{victim}{period}工资共计{self.wan(value)}。"
                handling = rng.choice(
                    (
                        f"{bureau}下达《劳动保障监察限期改正指令书》，责令限期支付，该单位已全额支付。",
                        f"{bureau}责令限期支付并加付赔偿金，该单位已支付拖欠工资。",
                        f"{bureau}责令限期支付，经调查处理，{who}工资已足额发放。",
                    )
                )
                document = self.document_no(prefix, "劳监指", year)
            if rng.random() < 0.06:
                types.append("造成严重不良社会影响")
                facts += f"因欠薪引发{who}聚集讨薪，造成严重不良社会影响。"
        else:
            kind = rng.choices(("社保", "工时", "女职工", "童工", "其他"), (40, 30, 10, 12, 8))[0]
            document = self.document_no(prefix, "劳监罚", year)
            if kind == "社保":
                workers = self.workers(rng, median=30)
                types = ["未依法缴纳社会保险费"]
                facts = f"{unit}未为{workers}名劳动者依法缴纳{year - 1}年度社会保险费。"
                if rng.random() < 0.3:
                    types.append("违反工作时间和休息休假规定")
                    facts += f"并安排劳动者每日工作{rng.randint(11, 13)}小时以上。"
                fine = str(rng.randint(5, 50) * 1000)
                handling = f"{bureau}责令限期补缴，并处罚款{self.wan(int(fine))}。"
            elif kind == "工时":
                workers = self.workers(rng, median=20)
                types = ["违反工作时间和休息休假规定"]
                facts = (
                    f"{unit}安排{workers}名劳动者每日工作{rng.randint(11, 14)}小时，"
                    f"每月休息不足{rng.randint(1, 3)}日，且未支付加班工资。"
                )
                fine = str(workers * rng.randint(1, 5) * 100)
                handling = f"{bureau}给予警告，责令改正，并按受侵害劳动者人数处罚款{fine}元。"
            elif kind == "女职工":
                workers = self.workers(rng, low=1, high=30, median=4)
                types = ["违反女职工和未成年工特殊劳动保护规定"]
                facts = rng.choice(
                    (
                        f"{unit}安排{workers}名怀孕7个月以上的女职工延长工作时间和夜班劳动。",
                        f"{unit}安排{workers}名未成年工从事国家规定的第四级体力劳动强度的劳动。",
                    )
                )
                fine = str(workers * rng.randint(1, 5) * 1000)
                handling = f"{bureau}责令改正，并处罚款{fine}元。"
            elif kind == "童工":
                workers = rng.randint(1, 4)
                months = rng.randint(1, 6)
                types = ["违法使用童工"]
                job = rng.choice(("包装", "传菜", "洗碗", "搬运", "缝纫", "洗车"))
                facts = f"{unit}使用{workers}名未满16周岁的未成年人从事{job}工作，时间约{months}个月。"
                fine = str(workers * months * 5000)
                handling = f"{bureau}依法处以罚款{self.wan(int(fine))}，责令将童工送回原居住地。"
            else:
                workers = self.workers(rng, median=15)
                types = ["其他"]
                facts = f"{unit}未与{workers}名劳动者订立书面劳动合同，且拒不提供劳动保障监察所需资料。"
                fine = str(rng.randint(2, 20) * 1000)
                handling = f"{bureau}责令改正，并处罚款{fine}元。"
            value = None
        return {
            "违法主体名称": firm.name,
            "统一社会信用代码": firm.code,
            "法定代表人": firm.legal_representative,
            "地址": firm.address,
            "区县": firm.district,
            "行业": firm.industry,
            "违法类型": "、".join(types),
            "主要违法事实": facts,
            "处理处罚情况": handling,
            "涉及人数": str(workers),
            "涉及金额（元）": amount,
            "罚款金额（元）": fine,
            "是否移送公安机关": "是" if transferred else "否",
            "决定日期": self.date_text(rng, decided_on),
            "文书编号": document,
        }

    def listing_row(self, rng: random.Random, listed_on: dt.date) -> dict[str, str]:
        firm = self.pick_enterprise(rng, needs_credit_code=True)
        who = "农民工" if firm.industry == "建筑业" else "劳动者"
        workers = self.workers(rng, low=5, high=300, median=45)
        value = self.wage_amount(rng, workers, rng.randint(2, 10))
        old_regime = listed_on.year < 2022
        item = 2 if rng.random() < 0.2 else 1
        if item == 2:
            reason = f"拖欠{workers}名{who}工资共计{self.wan(value)}，引发群体性事件，造成严重不良社会影响"
        else:
            reason = f"拖欠{workers}名{who}工资共计{self.wan(value)}，经责令限期支付逾期仍不支付"
        persons = [firm.legal_representative]
        if rng.random() < 0.4:
            persons.append(self.person(rng))
        if rng.random() < 0.7:  # the city bureau decides most listings
            authority = self.place.authority
            prefix = self.place.city_short[0]
        else:
            authority = self.place.district_bureau(firm.district)
            prefix = self.place.document_prefix(firm.district)
        return {
            "单位名称": firm.name,
            "统一社会信用代码": firm.code,
            "法定代表人": firm.legal_representative,
            "责任人员": "、".join(dict.fromkeys(persons)),
            "地址": firm.address,
            "区县": firm.district,
            "列入事由": reason,
            "列入依据": _BASIS_2017 if old_regime else _BASIS_2022.format(item="一" if item == 1 else "二"),
            "涉及人数": str(workers),
            "拖欠金额（元）": str(value),
            "作出决定部门": authority,
            "决定文书号": self.document_no(prefix, "人社失信", listed_on.year),
            "列入日期": self.date_text(rng, listed_on),
            "期限（年）": "1" if old_regime else "3",
        }


# --- batches ---------------------------------------------------------------------------


@dataclass
class _PlannedBatch:
    kind: str
    year: int
    first_day: dt.date  # decision dates fall in [first_day, last_day]
    last_day: dt.date
    size: int


def _windows(year: int, count: int, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``count`` consecutive decision windows in a year, each published a few days
    after it ends and before today. Fewer windows if the year has only just begun."""
    start = dt.date(year, 1, 10)
    end = min(dt.date(year, 12, 15), today - dt.timedelta(days=14))
    span = (end - start).days
    if span < 30:
        return []
    count = max(1, min(count, span // 30))
    step = span / count
    return [
        (start + dt.timedelta(days=int(i * step)), start + dt.timedelta(days=int((i + 1) * step) - 1))
        for i in range(count)
    ]


def _default_plan(rng: random.Random, today: dt.date) -> list[_PlannedBatch]:
    plan = []
    for year in range(FIRST_YEAR, today.year + 1):
        sizes = _CASE_BATCHES.get(year) or tuple(rng.randint(*_CASES_PER_BATCH) for _ in range(3))
        for (first, last), size in zip(_windows(year, len(sizes), today), sizes, strict=False):
            plan.append(_PlannedBatch(KIND_CASES, year, first, last, size))
        sizes = _LISTING_BATCHES.get(year) or tuple(rng.randint(*_LISTINGS_PER_BATCH) for _ in range(3))
        for (first, last), size in zip(_windows(year, len(sizes), today), sizes, strict=False):
            plan.append(_PlannedBatch(KIND_LISTINGS, year, first, last, size))
    return plan


def _scaled_plan(kind: str, count: int, today: dt.date) -> list[_PlannedBatch]:
    """``count`` records in batches of at most MAX_BATCH_RECORDS, newest years first
    (listings: the last three years, so that most are in force)."""
    if count <= 0:
        return []
    first_year = FIRST_YEAR if kind == KIND_CASES else max(FIRST_YEAR, today.year - 2)
    years = [year for year in range(today.year, first_year - 1, -1) if _windows(year, 1, today)]
    if not years:
        years = [today.year - 1]
    # At least one batch a year once there are enough records, so that year filters
    # and per-year pages have realistic shares.
    batches = max(math.ceil(count / MAX_BATCH_RECORDS), min(len(years), math.ceil(count / 1000)))
    per_year = {year: 0 for year in years}
    for index in range(batches):
        per_year[years[index % len(years)]] += 1
    plan = []
    sizes = [count // batches + (1 if i < count % batches else 0) for i in range(batches)]
    for year in sorted(per_year):
        for first, last in _windows(year, per_year[year], today)[: per_year[year]]:
            plan.append(_PlannedBatch(kind, year, first, last, 0))
    # _windows may give fewer windows than asked for in a short year: share them out.
    while len(plan) < batches:
        plan.append(_PlannedBatch(kind, plan[-1].year, plan[-1].first_day, plan[-1].last_day, 0))
    for item, size in zip(plan, sizes, strict=True):
        item.size = size
    return plan


def _validated_records(
    generator: _Generator, planned: _PlannedBatch, rng: random.Random, settings: ImportSettings
) -> Iterator[dict]:
    """Generate rows in chunks and pass each chunk through the import's validation."""
    columns = CASE_COLUMNS if planned.kind == KIND_CASES else LISTING_COLUMNS
    make = generator.case_row if planned.kind == KIND_CASES else generator.listing_row
    days = (planned.last_day - planned.first_day).days
    done = 0
    while done < planned.size:
        size = min(GENERATE_CHUNK, planned.size - done)
        rows = []
        for index in range(size):
            day = planned.first_day + dt.timedelta(days=rng.randint(0, days))
            row = make(rng, day)
            rows.append((done + index + 2, [row[column] for column in columns]))
        report = validate_table(planned.kind, Table(header=list(columns), rows=rows), settings)
        if report.errors:  # a bug in this module, never the user's fault
            raise RuntimeError("sample data failed validation: " + "; ".join(map(str, report.errors[:5])))
        yield from report.records
        done += size


def _load_batch(
    generator: _Generator,
    planned: _PlannedBatch,
    rng: random.Random,
    settings: ImportSettings,
    progress: Progress | None,
) -> Batch:
    number = next_free_number(planned.kind, planned.year)
    latest: list[dt.date] = []

    def records() -> Iterator[dict]:
        for record in _validated_records(generator, planned, rng, settings):
            day = record.get("decided_on") or record.get("listed_on")
            if not latest or day > latest[0]:
                latest[:] = [day]
            yield record

    published_on: list[dt.date] = []

    def publication_day() -> dt.date:
        # Asked for once every record has gone by: a few days after the latest decision.
        if not published_on:
            published_on.append(min(latest[0] + dt.timedelta(days=rng.randint(3, 12)), clock.today()))
        return published_on[0]

    result = importing.import_records(
        planned.kind,
        records(),
        title=batch_title(planned.kind, planned.year, number),
        authority=settings.authority,
        actor=importing.SAMPLE_DATA,
        year=planned.year,
        number=number,
        is_sample=True,
        source_filename="示例数据",
        publish=True,
        published_on=publication_day,
        progress=progress,
        update_index=False,
    )
    if not result.ok:  # the generator makes valid, unique records: a refusal is a bug
        raise RuntimeError(f"sample batch refused: {result.problem}")
    return result.batch


# --- hotlines ----------------------------------------------------------------------------


def _hotlines(place: _Place) -> list[dict]:
    hours = "工作日 9:00–12:00，14:30–17:30"
    rows = [
        {
            "district": None,
            "unit": place.authority,
            "phone": "12333",
            "address": None,
            "hours": "工作日 8:30–18:00（劳动保障咨询服务电话）",
        },
        {
            "district": None,
            "unit": f"{place.city}劳动保障监察支队（示例）",
            "phone": "0931-5550100",
            "address": f"{place.city}城关区示例路1号",
            "hours": hours,
        },
    ]
    for index, district in enumerate(place.districts):
        rows.append(
            {
                "district": district,
                "unit": f"{district}劳动保障监察大队（示例）",
                "phone": f"0931-55501{index + 1:02d}",
                "address": f"{place.district_full(district)}示例路{index + 10}号",
                "hours": hours,
            }
        )
    rows += [
        {
            "district": None,
            "unit": f"{place.city}根治拖欠农民工工资工作领导小组办公室（示例）",
            "phone": "0931-5550200",
            "address": None,
            "hours": hours,
        },
        {
            "district": None,
            "unit": f"{place.city}住房和城乡建设局建筑市场监管科（示例）",
            "phone": "0931-5550201",
            "address": None,
            "hours": hours,
        },
        {
            "district": None,
            "unit": f"{place.city}交通运输局（示例）",
            "phone": "0931-5550202",
            "address": None,
            "hours": hours,
        },
        {
            "district": None,
            "unit": f"{place.city}水务局（示例）",
            "phone": "0931-5550203",
            "address": None,
            "hours": hours,
        },
        {
            "district": None,
            "unit": f"{place.city}12345政务服务便民热线",
            "phone": "12345",
            "address": None,
            "hours": "24小时",
        },
    ]
    return [dict(row, position=position) for position, row in enumerate(rows, start=1)]


def _seed_hotlines(place: _Place) -> int:
    if db.session.scalar(select(func.count()).select_from(Hotline)):
        return 0
    rows = _hotlines(place)
    db.session.add_all(Hotline(**row) for row in rows)
    db.session.commit()
    return len(rows)


# --- entry points ------------------------------------------------------------------------


def planned_counts(cases: int | None, listings: int | None) -> tuple[int, int] | None:
    """The record counts a call will generate; None for the built-in default set.
    With only ``cases`` given, one listing per 20 cases comes with them."""
    if cases is None and listings is None:
        return None
    if listings is None:
        listings = (cases or 0) // 20
    return cases or 0, listings


def load_sample_data(
    cases: int | None = None, listings: int | None = None, seed: int = 2020, progress: Progress | None = None
) -> str:
    """Load fictional published batches (and the hotlines, if there are none) and
    return a summary for the console. ``cases``/``listings`` None: the default set."""
    settings = ImportSettings.from_config(current_app.config)
    place = _Place.from_config(current_app.config)
    today = clock.today()
    rng = random.Random(seed)
    counts = planned_counts(cases, listings)
    if counts is None:
        plan = _default_plan(rng, today)
        pool = 400
    else:
        plan = _scaled_plan(KIND_CASES, counts[0], today) + _scaled_plan(KIND_LISTINGS, counts[1], today)
        pool = max(400, int((counts[0] + counts[1]) * 0.7))
    generator = _Generator(place, seed, pool)
    hotlines = _seed_hotlines(place)
    loaded = {KIND_CASES: 0, KIND_LISTINGS: 0}
    batches = 0
    for planned in plan:
        _load_batch(generator, planned, rng, settings, progress)
        loaded[planned.kind] += planned.size
        batches += 1
    _update_search_index(loaded[KIND_CASES] + loaded[KIND_LISTINGS])
    summary = f"已加载示例数据：{batches} 个批次，{loaded[KIND_CASES]} 件案件，{loaded[KIND_LISTINGS]} 条失信名单"
    if hotlines:
        summary += f"，{hotlines} 条举报投诉电话"
    from domain.sample_reports import load_sample_bulletins, load_sample_gradings

    sample_bulletins = load_sample_bulletins()
    if sample_bulletins:
        summary += f"，{sample_bulletins} 份工作通报"
    sample_gradings = load_sample_gradings()
    if sample_gradings:
        summary += f"，{sample_gradings} 个年度的守法诚信等级评价"
    from domain.sample_campaigns import load_sample_campaigns

    sample_campaigns = load_sample_campaigns()
    if sample_campaigns:
        summary += f"，{sample_campaigns} 项专项行动"
    return summary + "（均为虚构，标有“示例数据”）。"


def load_default_sample_data() -> str:
    """The built-in set, for a development instance's first run."""
    return load_sample_data()


def _update_search_index(new_records: int) -> None:
    """Replaying a huge change log entry by entry is slower than a rebuild, so a
    large load rebuilds the index from the database; a small one applies the new
    log entries (and builds the index of a site that never had one)."""
    if new_records > REINDEX_ABOVE:
        reindex()
        return
    update_search_index()
