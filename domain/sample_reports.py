"""Sample work bulletins (示例数据): the figures of a year-end report, January to
November 2020 beside the same months of 2019, fictional but shaped so that the five
lower-is-better indicators fall by −18.78 %, −6.32 %, −63.86 %, −32.16 % and
−51.16 % (the “五个下降” of the report). Loaded through the bulletin service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app
from sqlalchemy import exists, select

from domain import audit, bulletins
from extensions import db
from models import Bulletin

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
