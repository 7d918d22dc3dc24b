"""Special campaigns (专项行动) for the built-in sample data: a few campaigns of
the kind bureaus run every year, with sample batches tagged (and, to show that a
case can be tagged on its own, a few cases of an untagged batch), through the
same ``domain.campaigns`` functions staff use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from domain import campaigns
from extensions import db
from models import Batch, Campaign, Case
from models.batch import KIND_CASES, KIND_LISTINGS

# (name, start, end, description, batches tagged as (kind, year, number))
SAMPLE_CAMPAIGNS = (
    (
        "2020年根治欠薪冬季攻坚行动",
        dt.date(2020, 11, 15),
        dt.date(2021, 2, 10),
        "集中排查工程建设领域欠薪问题，对拒不支付劳动报酬的依法移送公安机关（示例数据）。",
        ((KIND_CASES, 2020, 3), (KIND_LISTINGS, 2020, 3)),
    ),
    (
        "2022年农民工工资支付情况专项检查",
        dt.date(2022, 6, 1),
        dt.date(2022, 9, 30),
        "检查在建工程项目落实农民工工资专用账户、实名制管理和工资保证金制度的情况（示例数据）。",
        ((KIND_CASES, 2022, 2),),
    ),
    (
        "2023年根治欠薪冬季攻坚行动",
        dt.date(2023, 11, 15),
        dt.date(2024, 2, 9),
        "以工程建设领域为重点，集中处置欠薪线索，确保农民工工资按时足额支付（示例数据）。",
        ((KIND_CASES, 2023, 3), (KIND_LISTINGS, 2023, 3)),
    ),
    (
        "2024年清理整顿人力资源市场秩序专项执法行动",
        dt.date(2024, 4, 1),
        dt.date(2024, 6, 30),
        "查处违法用工、不签劳动合同等行为（示例数据）。",
        (),
    ),
)
CASES_TAGGED_ALONE = 4  # cases of the first 2024 batch tagged with the last campaign


def load_sample_campaigns() -> int:
    """Create the sample campaigns (once: nothing if any campaign exists) and
    tag the sample batches that exist; return how many campaigns were made."""
    if db.session.scalar(select(func.count()).select_from(Campaign)):
        return 0
    made = []
    for name, starts_on, ends_on, description, tagged in SAMPLE_CAMPAIGNS:
        campaign = campaigns.save(
            None, name=name, starts_on=starts_on, ends_on=ends_on, description=description, user=None
        )
        made.append(campaign)
        for kind, year, number in tagged:
            batch = db.session.scalar(
                select(Batch).where(Batch.kind == kind, Batch.year == year, Batch.number == number)
            )
            if batch is not None:
                campaigns.tag_batch(batch, campaign, None)
    first_2024 = db.session.scalar(select(Batch).where(Batch.kind == KIND_CASES, Batch.year == 2024, Batch.number == 1))
    if first_2024 is not None:
        for case in db.session.scalars(
            select(Case).where(Case.batch_id == first_2024.id).order_by(Case.id).limit(CASES_TAGGED_ALONE)
        ):
            campaigns.tag_case(case, made[-1], None)
    db.session.commit()
    return len(made)
