"""The one import service: every entry point (upload, CLI, sample data) goes
through it, writes its audit event under a named actor, and is all-or-nothing."""

from __future__ import annotations

import io
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain import audit, importing
from domain.importing import CASE_COLUMNS, ImportSettings
from extensions import db
from models import AuditEvent, Batch, Case, Enterprise, Listing
from tests import admin_support
from tests.admin_support import login, make_user, post
from tests.builders import case_row, credit_code, listing_row, to_csv

fast_hashing = admin_support.fast_hashing


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def write(tmp_path, kind, rows, name="batch.csv"):
    path = tmp_path / name
    path.write_bytes(to_csv(kind, rows))
    return str(path)


def test_cli_import_and_publish_is_in_the_audit_log_under_a_system_actor(app, runner, tmp_path):
    path = write(tmp_path, "cases", [case_row(文书编号=f"兰劳监〔2025〕{i}号") for i in range(3)])
    result = runner.invoke(args=["import", path, "--kind", "cases", "--title", "2025年第一批", "--publish"])
    assert result.exit_code == 0, result.output
    batch = db.session.scalars(select(Batch)).one()
    upload, publish = events("batch.upload"), events("batch.publish")
    assert [(e.object_id, e.username, e.user_id) for e in upload] == [(batch.id, audit.CLI_ACTOR, None)]
    assert upload[0].after["records"] == 3 and upload[0].after["file"] == "batch.csv"
    assert [(e.object_id, e.username) for e in publish] == [(batch.id, audit.CLI_ACTOR)]


def test_cli_draft_import_writes_only_the_upload_event(app, runner, tmp_path):
    path = write(tmp_path, "listings", [listing_row()])
    result = runner.invoke(args=["import", path, "--kind", "listings", "--title", "2025年第一批"])
    assert result.exit_code == 0, result.output
    assert len(events("batch.upload")) == 1 and events("batch.publish") == []


def test_cli_import_without_schema_says_to_run_init_db(app, runner, tmp_path):
    path = write(tmp_path, "cases", [case_row()])
    db.drop_all()
    result = runner.invoke(args=["import", path, "--kind", "cases", "--title", "2025年第一批"])
    assert result.exit_code == 1
    assert "init-db" in result.output and "未保存任何数据" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_import_run_twice_is_refused_with_a_message(app, runner, tmp_path):
    path = write(tmp_path, "cases", [case_row()])
    args = ["import", path, "--kind", "cases", "--title", "2025年第一批", "--publish"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code == 1 and isinstance(again.exception, SystemExit)
    assert "第1批" in again.output and "未保存任何数据" in again.output
    assert count(Batch) == 1 and count(Case) == 1


def test_cli_users_create_names_the_command_line_in_the_audit_log(app, runner):
    result = runner.invoke(
        args=["users", "create", "wang", "--role", "editor", "--password-stdin"], input="Lz-2026-secret!\n"
    )
    assert result.exit_code == 0, result.output
    assert [e.username for e in events("user.create")] == [audit.CLI_ACTOR]


def test_sample_data_goes_through_the_service_and_is_audited(app):
    from domain.sample_data import load_sample_data

    load_sample_data(cases=40, listings=6, seed=7)
    batches = db.session.scalars(select(Batch)).all()
    uploads = events("batch.upload")
    assert {e.object_id for e in uploads} == {b.id for b in batches}
    assert {e.username for e in uploads} == {audit.SAMPLE_DATA_ACTOR}
    assert len(events("batch.publish")) == len(batches)


def test_upload_and_cli_write_the_same_event(app, client, fast_hashing):
    """The upload view has no audit code of its own: the service writes it."""
    make_user("editor1", "editor")
    login(client, "editor1")
    data = {
        "kind": "cases",
        "year": "2025",
        "number": "2",
        "file": (io.BytesIO(to_csv("cases", [case_row()])), "web.csv"),
    }
    with post(client, "/admin/batches/upload", data) as response:
        assert response.status_code == 303, response.get_data(as_text=True)
    web = events("batch.upload")[-1]
    assert web.username == "editor1"
    assert web.after == {"title": "2025年第二批重大劳动保障违法案件", "kind": "cases", "records": 1, "file": "web.csv"}


# --- never a 500, never a partial batch -----------------------------------------------

_cell = st.one_of(
    st.none(),
    st.text(alphabet=string.printable + "兰州城关区七里河〔〕号年月日某、；,\"'\n\x00\u3000", max_size=30),
    st.sampled_from(["2025-03-01", "2099-01-01", "-1", "1e9", "是", "否", "城关区", "拖欠劳动报酬", credit_code(3)]),
)


def _mutate(row: dict, changes: dict) -> dict:
    return {**row, **{column: value for column, value in changes.items() if column in row}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(CASE_COLUMNS), _cell, max_size=4).map(lambda c: _mutate(case_row(), c)),
        min_size=0,
        max_size=4,
    ),
    title=st.one_of(st.sampled_from(["2025年第一批", "2025年\x00第二批", "长" * 201]), st.text(max_size=12)),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    publish=st.booleans(),
)
def test_import_service_fuzz_never_raises_and_never_stores_half(app, rows, title, raw, publish):
    settings_ = ImportSettings.from_config(app.config)
    data = raw if raw is not None else to_csv("cases", rows)
    before = (count(Batch), count(Case), count(Enterprise), count(Listing), count(AuditEvent))
    result = importing.import_file(
        data, "fuzz.csv", kind="cases", title=title, settings=settings_, actor=importing.CLI, publish=publish
    )
    after = (count(Batch), count(Case), count(Enterprise), count(Listing), count(AuditEvent))
    if result.ok:
        assert result.batch.status == ("published" if publish else "draft")
        stored = db.session.scalar(select(func.count()).select_from(Case).where(Case.batch_id == result.batch.id))
        assert stored == len(result.report.records) == after[1] - before[1] > 0
        assert after[0] == before[0] + 1
    else:
        assert result.problem or result.report.errors
        assert after == before, "a refused import stored something"
