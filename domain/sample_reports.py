"""Sample bulletins and gradings (示例数据). Work bulletins: the figures of a year-end report, January to
November 2020 beside the same months of 2019, fictional but shaped so that the five
lower-is-better indicators fall by −18.78 %, −6.32 %, −63.86 %, −32.16 % and
−51.16 % (the “五个下降” of the report). Gradings: 2020–2025, for enterprises of
the sample records. Both go through their domain services."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from flask import current_app
from sqlalchemy import exists, func, select

from domain import audit, bulletins, clock, gradings
from extensions import db
from models import Bulletin, Case, Enterprise, GradingRun, Listing

# indicator → (2019 value, 2020 value), January to November.
SAMPLE_BULLETIN_VALUES: dict[str, tuple[str, str]] = {
    "投诉电话接听人次": ("26471", "21500"),
    "来访投诉起数": ("380", "356"),
    "检查用人单位户数": ("4120", "4385"),
    "热线转办件数": ("168", "155"),
    "按期办结率": ("98.6", "100"),
    "受理案件数": ("202", "73"),
    "拖欠工资金额": ("1227.09", "832.46"),
    "拖欠工资人数": ("1253", "612"),
    "追发工资金额": ("1104.52", "765.17"),
    "追发工资人数": ("1187", "591"),
    "追回押金": ("2.3", "1.59"),
    "移送公安机关案件数": ("39", "47"),
    "农民工工资保证金动用金额": ("95.4", "126.8"),
    "实名制监管项目数": ("903", "1268"),
    "代发工资金额": ("38415.2", "51236.7"),
}
SAMPLE_PUBLISHED_ON = {2019: dt.date(2019, 12, 10), 2020: dt.date(2020, 12, 11)}


def load_sample_bulletins() -> int:
    """The 2019 and 2020 January–November bulletins, published; none if any
    bulletin exists already. Returns how many were loaded."""
    if db.session.scalar(select(exists().where(Bulletin.id.isnot(None)))):
        return 0
    indicators = {indicator.name: indicator for indicator in bulletins.catalogue(current_app.config)}
    loaded = 0
    for column, year in enumerate((2019, 2020)):
        values = [
            (indicators[name], Decimal(pair[column]))
            for name, pair in SAMPLE_BULLETIN_VALUES.items()
            if name in indicators
        ]
        if not values:
            continue
        bulletin = bulletins.create_bulletin(
            year=year,
            month_from=1,
            month_to=11,
            values=values,
            authority=current_app.config["AUTHORITY_NAME"],
            source_filename="示例数据",
            is_sample=True,
            username=audit.SAMPLE_DATA_ACTOR,
        )
        bulletins.publish(
            bulletin, None, four_eyes=False, published_on=SAMPLE_PUBLISHED_ON[year], username=audit.SAMPLE_DATA_ACTOR
        )
        loaded += 1
    db.session.commit()
    return loaded


SAMPLE_GRADING_YEARS = range(2020, 2026)
SAMPLE_GRADED_PER_YEAR = 90


def load_sample_gradings() -> int:
    """The 守法诚信等级评价 of 2020–2025 for enterprises of the sample records:
    those put on the list that year graded C, those with a case that year B or C,
    the others mostly A. Published each March of the following year; none if any
    grading exists already. Returns how many years were loaded."""
    if db.session.scalar(select(exists().where(GradingRun.id.isnot(None)))):
        return 0
    config = current_app.config
    today = clock.today()
    enterprises = list(
        db.session.execute(
            select(Enterprise.name, Enterprise.credit_code)
            .where(Enterprise.credit_code.isnot(None))
            .order_by(Enterprise.id)
        ).all()
    )
    if not enterprises:
        return 0
    loaded = 0
    for year in SAMPLE_GRADING_YEARS:
        published_on = dt.date(year + 1, 3, 16)
        if published_on > today:
            continue
        listed = set(
            db.session.scalars(select(Listing.credit_code).where(func.extract("year", Listing.listed_on) == year))
        )
        with_cases = set(
            db.session.scalars(select(Case.credit_code).where(func.extract("year", Case.decided_on) == year))
        )
        rng = random.Random(f"grading:{year}")
        chosen = rng.sample(enterprises, min(SAMPLE_GRADED_PER_YEAR, len(enterprises)))
        rows = []
        for name, code in chosen:
            if code in listed:
                grade = "C"
            elif code in with_cases:
                grade = rng.choice("BC")
            else:
                grade = "A" if rng.random() < 0.75 else "B"
            graded_on = dt.date(year + 1, 2, rng.randint(1, 28))
            rows.append({"enterprise_name": name, "credit_code": code, "grade": grade, "graded_on": graded_on})
        run = gradings.create_run(
            year=year,
            rows=rows,
            authority=config["AUTHORITY_NAME"],
            district_codes=config["DISTRICT_CODES"],
            source_filename="示例数据",
            is_sample=True,
            username=audit.SAMPLE_DATA_ACTOR,
        )
        gradings.publish(run, None, four_eyes=False, published_on=published_on, username=audit.SAMPLE_DATA_ACTOR)
        loaded += 1
    db.session.commit()
    return loaded
