"""Typed query parameters, the one parser for every page, download and API answer.

Each takes any mapping of strings (``request.args``); an empty value means "not
given" (None). A value that cannot be understood raises ``ParameterError`` with a
Chinese message, which ``web.errors`` answers with 400 everywhere."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from typing import Any


class ParameterError(ValueError):
    """A query parameter that cannot be understood; ``str(error)`` is the message."""


# Control characters have no place in anything a person types: NUL is refused by
# PostgreSQL outright, the others hide text or break files. Line breaks and tabs
# are allowed in form fields and JSON (a textarea), nowhere in a path or a query.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_CHARACTER_MESSAGE = "请求中含有不允许的控制字符（如 NUL），没有处理。请删除这些字符后再试。"


def has_control_character(text: str, *, line_breaks_allowed: bool = False) -> bool:
    return bool((_CONTROL_IN_TEXT if line_breaks_allowed else _CONTROL).search(text))


def any_control_character(values: Iterable[Any], *, line_breaks_allowed: bool = False) -> bool:
    """Whether any string in ``values`` (nested lists and dicts, keys included)
    holds a control character."""
    for value in values:
        if isinstance(value, str):
            if has_control_character(value, line_breaks_allowed=line_breaks_allowed):
                return True
            continue
        nested: Iterable[Any]
        if isinstance(value, dict):
            nested = [*value.keys(), *value.values()]
        elif isinstance(value, (list, tuple)):
            nested = value
        else:
            continue
        if any_control_character(nested, line_breaks_allowed=line_breaks_allowed):
            return True
    return False


def text_param(args: Mapping[str, str], name: str) -> str:
    return (args.get(name) or "").strip()


def int_param(args: Mapping[str, str], name: str, label: str, low: int, high: int) -> int | None:
    raw = text_param(args, name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError(f"参数“{label}”应为整数，收到的是“{raw[:40]}”") from None
    if not low <= value <= high:
        raise ParameterError(f"参数“{label}”超出范围（{low}–{high}）")
    return value


def choice_param(args: Mapping[str, str], name: str, label: str, choices: Container[str]) -> str | None:
    raw = text_param(args, name)
    if not raw:
        return None
    if raw not in choices:
        raise ParameterError(f"参数“{label}”的取值“{raw[:40]}”无效")
    return raw


def bool_param(args: Mapping[str, str], name: str, label: str) -> bool | None:
    raw = text_param(args, name).lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "是"):
        return True
    if raw in ("0", "false", "no", "否"):
        return False
    raise ParameterError(f"参数“{label}”应为 1 或 0")
