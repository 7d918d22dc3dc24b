"""The flask commands of the brief: init-db, sample-data, import, users, search."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app

from extensions import db


def _import_settings():
    from domain.importing import ImportSettings

    return ImportSettings.from_config(current_app.config)


@contextmanager
def _progress(label: str, length: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; nothing at all in a log or a pipe, where
    click would print the bare label as a stray line."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


@click.command("init-db")
def init_db_command() -> None:
    """Bring the database to the latest schema (creates it if empty)."""
    from domain.first_run import setup_lock
    from domain.schema import upgrade_schema

    with setup_lock(db.engine):  # not alongside a web process's first run
        upgrade_schema()
    click.echo("数据库结构已是最新。")


@click.command("sample-data")
@click.option(
    "--cases", "case_count", type=click.IntRange(min=0), default=None, help="生成的案件数量（默认：内置示例集）"
)
@click.option(
    "--listings",
    "listing_count",
    type=click.IntRange(min=0),
    default=None,
    help="生成的失信名单数量（只给 --cases 时为案件数的1/20）",
)
@click.option("--seed", type=int, default=2020, show_default=True, help="随机种子（同一种子生成同样的数据）")
def sample_data_command(case_count: int | None, listing_count: int | None, seed: int) -> None:
    """Load clearly fictional sample data (示例数据), at any scale."""
    from domain.first_run import setup_lock
    from domain.sample_data import load_sample_data, planned_counts
    from domain.schema import upgrade_schema

    counts = planned_counts(case_count, listing_count)
    total = sum(counts) if counts else None
    # Adds batches numbered on after any already there; under the lock, a web
    # process's first run waits for it and then loads nothing (or this waits
    # for that and adds its batches after them), never the same numbers twice.
    with setup_lock(db.engine):
        upgrade_schema()
        with _progress("生成示例数据", total or 0) as update:
            summary = load_sample_data(
                cases=case_count, listings=listing_count, seed=seed, progress=update if total else None
            )
    click.echo(summary)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--kind", type=click.Choice(["cases", "listings"]), required=True, help="cases：重大违法案件；listings：失信名单"
)
@click.option(
    "--title", required=True, help="批次标题，须写明年份和第几批，如“2020年第四批”；正式标题按类别、年份和批次号生成"
)
@click.option("--publish", is_flag=True, help="导入后立即发布")
def import_command(file: str, kind: str, title: str, publish: bool) -> None:
    """Import a CSV or XLSX file in the template of the brief, all or nothing."""
    from domain import importing

    with open(file, "rb") as handle:
        data = handle.read()
    with _progress("保存", 0) as update:
        result = importing.import_file(
            data,
            os.path.basename(file),
            kind=kind,
            title=title,
            settings=_import_settings(),
            actor=importing.CLI,
            publish=publish,
            progress=update,
        )
    if not result.ok:
        for error in result.report.errors:
            click.echo(str(error), err=True)
        if result.problem:
            click.echo(result.problem, err=True)
        count = len(result.report.errors) + bool(result.problem)
        click.echo(f"导入失败：共 {count} 处错误，未保存任何数据。", err=True)
        sys.exit(1)
    batch = result.batch
    state = "已发布" if publish else "已保存为草稿"
    click.echo(f"已导入 {len(result.report.records)} 条记录，批次“{batch.title}”（编号 {batch.id}）{state}。")


@click.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "publisher", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="从标准输入读取一行作为密码")
def users_create_command(name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account; prompts for the password."""
    from domain.accounts import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    try:
        user = create_user(name, role, password)
    except AccountError as problem:
        click.echo(f"未创建：{problem}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"已创建账号 {user.username}（{user.role_label}）。")


@click.group("bulletin")
def bulletin_group() -> None:
    """Work bulletins (工作通报)."""


@bulletin_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True, help="通报年份，如 2020")
@click.option("--months", required=True, help="月份范围，如 1-11（1至11月）或 11（单月）")
@click.option("--title", default=None, help="标题（默认：“2020年1—11月劳动保障监察工作情况通报”）")
@click.option("--publish", is_flag=True, help="导入后立即发布")
def bulletin_import_command(file: str, year: int, months: str, title: str | None, publish: bool) -> None:
    """Import a CSV or XLSX sheet with the headers 指标, 数值, all or nothing."""
    from domain import audit, bulletins
    from domain.importing import schema_problem

    problem = schema_problem()
    if problem:
        click.echo(f"导入失败：{problem}", err=True)
        sys.exit(1)
    indicators = bulletins.catalogue(current_app.config)
    with open(file, "rb") as handle:
        data = handle.read()
    try:
        month_from, month_to = bulletins.parse_months(months)
        bulletins.check_period(year, month_from, month_to)
    except bulletins.BulletinError as problem:
        click.echo(f"导入失败：{problem}", err=True)
        sys.exit(1)
    report = bulletins.check_file(data, os.path.basename(file), indicators)
    if report.errors:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(f"导入失败：共 {len(report.errors)} 处错误，未保存任何数据。", err=True)
        sys.exit(1)
    try:
        bulletin = bulletins.create_bulletin(
            year=year,
            month_from=month_from,
            month_to=month_to,
            values=report.values,
            title=title,
            authority=current_app.config["AUTHORITY_NAME"],
            source_filename=os.path.basename(file),
            username=audit.CLI_ACTOR,
        )
        if publish:
            bulletins.publish(bulletin, None, four_eyes=False, username=audit.CLI_ACTOR)
    except bulletins.BulletinError as problem:
        db.session.rollback()
        click.echo(f"导入失败：{problem}。未保存任何数据。", err=True)
        sys.exit(1)
    db.session.commit()
    state = "已发布" if publish else "已保存为草稿"
    click.echo(f"已导入 {len(report.values)} 项指标，通报“{bulletin.title}”（编号 {bulletin.id}）{state}。")


@click.group("grading")
def grading_group() -> None:
    """劳动保障守法诚信等级评价 (A/B/C grading)."""


@grading_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, required=True, help="评价年度，如 2020")
@click.option("--title", default=None, help="标题（默认：“2020年度劳动保障守法诚信等级评价结果”）")
@click.option("--publish", is_flag=True, help="导入后立即发布（替换该年度已发布的结果）")
def grading_import_command(file: str, year: int, title: str | None, publish: bool) -> None:
    """Import a year's results (单位名称, 统一社会信用代码, 等级, 评定日期), all or nothing."""
    from domain import audit, gradings
    from domain.importing import schema_problem

    problem = schema_problem()
    if problem:
        click.echo(f"导入失败：{problem}", err=True)
        sys.exit(1)
    try:
        gradings.check_year(year)
    except gradings.GradingError as problem:
        click.echo(f"导入失败：{problem}", err=True)
        sys.exit(1)
    with open(file, "rb") as handle:
        data = handle.read()
    report = gradings.check_file(data, os.path.basename(file), year)
    if report.errors:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(f"导入失败：共 {len(report.errors)} 处错误，未保存任何数据。", err=True)
        sys.exit(1)
    try:
        run = gradings.create_run(
            year=year,
            rows=report.rows,
            title=title,
            authority=current_app.config["AUTHORITY_NAME"],
            district_codes=current_app.config["DISTRICT_CODES"],
            source_filename=os.path.basename(file),
            username=audit.CLI_ACTOR,
        )
        replaced = gradings.publish(run, None, four_eyes=False, username=audit.CLI_ACTOR) if publish else None
    except gradings.GradingError as problem:
        db.session.rollback()
        click.echo(f"导入失败：{problem}。未保存任何数据。", err=True)
        sys.exit(1)
    db.session.commit()
    counts = report.counts()
    state = "已发布" if publish else "已保存为草稿"
    if replaced is not None:
        state += f"，替换了此前发布的“{replaced.title}”"
    click.echo(
        f"已导入 {len(report.rows)} 户（A级{counts['A']}、B级{counts['B']}、C级{counts['C']}），"
        f"“{run.title}”（编号 {run.id}）{state}。"
    )


def register_commands(app: Flask) -> None:
    from search_index.cli import search_group

    for command in (
        init_db_command,
        sample_data_command,
        import_command,
        users_group,
        search_group,
        bulletin_group,
        grading_group,
    ):
        app.cli.add_command(command)
