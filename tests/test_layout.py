"""The house layout, checked: blueprints never import one another; domain, models
and search_index never reach into the web layer; one paginator; serializers work
without a request."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from domain import serializers
from models import Batch, Case
from web.templating import cn_date, count, yuan

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = ROOT / "blueprints"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # "from blueprints import public" imports the module blueprints.public
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def blueprint_areas() -> set[str]:
    """The modules and packages under blueprints/ that define a Blueprint."""
    areas = set()
    for path in BLUEPRINTS.rglob("*.py"):
        if "Blueprint(" in path.read_text(encoding="utf-8"):
            relative = path.relative_to(BLUEPRINTS)
            areas.add(relative.parts[0].removesuffix(".py"))
    return areas


def area_of(path: Path) -> str:
    return path.relative_to(BLUEPRINTS).parts[0].removesuffix(".py")


def test_the_areas_are_known():
    assert blueprint_areas() == {
        "public",
        "search",
        "api",
        "admin",
        "check",
        "feeds",
        "objections",
        "discovery",
        "statistics",
        "bulletins",
        "gradings",
    }


def test_blueprints_holds_only_the_areas():
    """Shared helpers live in web/, so every module under blueprints/ is an area
    (or part of one) and a blueprint importing blueprints.X imports another area."""
    helpers = [
        str(path.relative_to(ROOT))
        for path in BLUEPRINTS.glob("*.py")
        if path.name != "__init__.py" and "Blueprint(" not in path.read_text(encoding="utf-8")
    ]
    assert helpers == []


def test_no_blueprint_imports_another():
    areas = blueprint_areas()
    offences = []
    for path in BLUEPRINTS.rglob("*.py"):
        own = area_of(path)
        if own == "__init__":  # registers them all
            continue
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] == "blueprints" and len(parts) > 1 and parts[1] in areas and parts[1] != own:
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_domain_models_and_search_never_import_the_web_layer():
    offences = []
    for package in ("domain", "models", "search_index"):
        for path in (ROOT / package).rglob("*.py"):
            for name in imported_modules(path):
                if name.split(".")[0] in {"blueprints", "web"} or name in {"flask.request", "flask.url_for"}:
                    offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_one_paginator():
    definitions = []
    for path in ROOT.rglob("*.py"):
        if any(part in {".venv", "venv", "tests", "migrations"} for part in path.relative_to(ROOT).parts):
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        definitions += [
            f"{path.relative_to(ROOT)}:{node.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and "paginat" in node.name
        ]
        by_hand = "db.paginate(" in text or ".offset(" in text and "blueprints" in path.parts
        if by_hand and path != ROOT / "web" / "common.py":
            definitions.append(f"{path.relative_to(ROOT)}: pages by hand")
    assert definitions == ["web/common.py:paginate"]


def test_template_filters_are_app_wide(app):
    for name in ("yuan", "cn_date", "count"):
        assert name in app.jinja_env.filters
    assert "url_with" in app.jinja_env.globals


def test_serializers_need_no_request(app):
    batch = Batch(id=7, kind="cases", year=2025, number=1, title="2025年第一批", published_on=dt.date(2025, 3, 1))
    case = Case(
        id=3, enterprise_name="兰州示例有限公司", violation_types="拖欠劳动报酬", batch=batch, batch_id=7, revision=1
    )
    urls = serializers.PublicUrls(
        case=lambda r: f"https://example.org/cases/{r.id}",
        listing=lambda r: f"https://example.org/listings/{r.id}",
        batch=lambda r: f"https://example.org/batches/{r.id}",
    )
    record = serializers.record_dict(case, urls)
    assert list(record) == [field.key for field in serializers.CASE_FIELDS]
    assert record["url"] == "https://example.org/cases/3"
    assert record["batch_title"] == "2025年第一批"
    assert serializers.batch_dict(batch, urls, 2)["record_count"] == 2


def test_amounts_dates_and_counts_as_the_bureau_writes_them():
    assert yuan(None) == "—"
    assert yuan(0) == "0元"
    assert yuan(Decimal("9999.50")) == "9,999.5元"
    assert yuan(416000) == "41.6万元"
    assert yuan(7651700) == "765.17万元"
    assert yuan(120_000_000) == "1.2亿元"
    assert cn_date(dt.date(2026, 8, 9)) == "2026年8月9日"
    assert cn_date(None) == "—"
    assert count(1234567) == "1,234,567"
    assert count(None) == "—"


@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_yuan_keeps_the_amount_to_the_cent_of_its_unit(amount):
    text = yuan(amount)
    for unit, size in (("亿元", Decimal(100_000_000)), ("万元", Decimal(10_000)), ("元", Decimal(1))):
        if text.endswith(unit):
            shown = Decimal(text.removesuffix(unit).replace(",", "")) * size
            assert abs(shown - amount) <= size / 200  # rounded to 0.01 of the unit
            assert amount >= size or unit == "元"
            break
    else:
        raise AssertionError(text)
