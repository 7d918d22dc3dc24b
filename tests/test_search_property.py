"""For random small corpora and random sequences of publish / correct /
withdraw / reindex / campaign tagging, every query's results and total equal a
brute-force substring scan over the records public in the database — whether or
not the index has applied a withdrawal yet — and so do the campaign facet counts
and the results within a campaign."""

from __future__ import annotations

import datetime as dt
import itertools

from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain import campaigns
from domain.accounts import create_user
from domain.importing import ImportSettings, check_file, store_batch
from domain.publishing import correct_record, publish_batch, record_fields, withdraw_record
from extensions import db
from models import Case, User
from search_index import Filters, reindex, search, sync
from tests.builders import case_row, credit_code, to_csv

# Name characters: none of them occurs in the other fields of case_row, so a
# query made of them matches a record exactly when its name contains it.
ALPHABET = "恒达宏远鼎新兴隆"
serials = itertools.count(1000)

names = st.text(alphabet=ALPHABET, min_size=2, max_size=4).map(lambda core: f"兰州{core}有限公司")
operations = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.lists(names, min_size=1, max_size=3)),
        st.tuples(st.just("correct"), st.integers(min_value=0, max_value=50), names),
        st.tuples(st.just("withdraw"), st.integers(min_value=0, max_value=50), st.booleans()),
        st.tuples(st.just("reindex")),
        # tag a case's batch (True) or the case itself with campaign 0, 1 or none (2)
        st.tuples(st.just("tag"), st.integers(min_value=0, max_value=50), st.booleans(), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=5,
)
PER_PAGE = 3
queries = st.lists(st.text(alphabet=ALPHABET, min_size=2, max_size=3), min_size=3, max_size=6)


def publish(batch_names: list[str]) -> None:
    rows = []
    for name in batch_names:
        serial = next(serials)
        rows.append(
            case_row(违法主体名称=name, 统一社会信用代码=credit_code(serial), 文书编号=f"兰性〔2025〕{serial}号")
        )
    report = check_file(to_csv("cases", rows), "p.csv", "cases", ImportSettings.from_config(current_app.config))
    assert not report.errors, [str(e) for e in report.errors]
    batch = store_batch(
        "cases", report.records, title=f"2025年第{next(serials)}批", authority="兰州市人力资源和社会保障局"
    )
    publish_batch(batch)
    db.session.commit()


def public_cases() -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.status == "published").order_by(Case.id)))


def campaign_ids() -> list[int]:
    """The two campaigns of the examples (made once per test database)."""
    found = [c.id for c in sorted(campaigns.all_campaigns(), key=lambda c: c.name)]
    if not found:
        for name in ("专项甲", "专项乙"):
            campaigns.save(None, name=name, starts_on=dt.date(2025, 1, 1), ends_on=None, description=None, user=None)
        db.session.commit()
        return campaign_ids()
    return found


def check_campaigns(q: str | None, expected: set[int]) -> None:
    """The campaign facet counts and the results within a campaign of ``q``
    against the campaigns of the ``expected`` records."""
    tagged = {
        case.id: campaigns.effective_campaign_id(case)
        for case in public_cases()
        if case.id in expected and campaigns.effective_campaign_id(case)
    }
    outcome = search(q, Filters(kind="case"), per_page=PER_PAGE)  # with no words, a filter: browse
    by_campaign = {int(value.value): value.count for value in outcome.facets.get("campaign", [])}
    assert by_campaign == {c: list(tagged.values()).count(c) for c in set(tagged.values())}, q
    for campaign_id in set(tagged.values()):
        within = search(q, Filters(campaign=campaign_id), per_page=100)
        assert sorted(hit.record_id for hit in within.hits) == sorted(
            i for i, c in tagged.items() if c == campaign_id
        ), (q, campaign_id)


def staff() -> User:
    user = db.session.scalar(select(User).where(User.username == "property1"))
    if user is None:
        user = create_user("property1", "publisher", "a-Long-enough-passw0rd!")
        db.session.commit()
    return user


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.lists(names, min_size=1, max_size=4), steps=operations, asked=queries)
def test_search_equals_a_substring_scan_of_the_public_records(app, initial, steps, asked):
    publish(initial)
    reindex()  # this example's index, from everything in the database
    for step in steps:
        kind = step[0]
        if kind == "publish":
            publish(step[1])
            sync()
        elif kind == "reindex":
            reindex()
        else:
            cases = public_cases()
            if not cases:
                continue
            record = cases[step[1] % len(cases)]
            if kind == "tag":
                ids = campaign_ids()
                chosen = campaigns.get(ids[step[3]]) if step[3] < len(ids) else None
                if step[2]:
                    campaigns.tag_batch(record.batch, chosen, None)
                else:
                    campaigns.tag_case(record, chosen, None)
                db.session.commit()
                sync()
            elif kind == "correct":
                if record.enterprise_name == step[2]:
                    continue
                correct_record(record, {**record_fields(record), "enterprise_name": step[2]}, "名称有误", staff())
                db.session.commit()
                sync()
            else:
                withdraw_record(record, "发布有误", staff())
                db.session.commit()
                if step[2]:
                    sync()  # else: not applied yet, the index still has it
        # Browsing every public record, then each query.
        check_campaigns(None, {case.id for case in public_cases()})
        for q in asked:
            expected = {case.id for case in public_cases() if q in case.enterprise_name}
            # Small pages: a total, a facet count or a later page cannot be
            # corrected by looking at the records shown.
            outcome = search(q, per_page=PER_PAGE)
            if outcome.partial:  # labelled "partial matches": offered only when nothing matches in full
                assert not expected, q
                continue
            assert outcome.total == len(expected), (q, outcome.total, len(expected))
            districts = {value.value: value.count for value in outcome.facets["district"]}
            assert districts.get("城关区", 0) == len(expected), q
            check_campaigns(q, expected)
            found = [hit.record_id for hit in outcome.hits]
            for page in range(2, len(expected) // PER_PAGE + 2):
                found += [hit.record_id for hit in search(q, page=page, per_page=PER_PAGE).hits]
            assert sorted(found) == sorted(expected), q
