"""Typed query parameters, the one parser for every page, download and API answer.

Each takes any mapping of strings (``request.args``); an empty value means "not
given" (None). A value that cannot be understood raises ``ParameterError`` with a
Chinese message, which ``blueprints.errors`` answers with 400 everywhere."""

from __future__ import annotations

from collections.abc import Container, Mapping


class ParameterError(ValueError):
    """A query parameter that cannot be understood; ``str(error)`` is the message."""


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
