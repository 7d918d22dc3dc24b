"""Field checks shared by the import service and the staff edit forms. Each check
takes the raw cell value and returns the clean value or raises ``FieldError`` with
a message in Chinese."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from stdnum.cn import ric, uscc


class FieldError(ValueError):
    """A value that cannot be accepted; ``str(error)`` is the message for staff."""


def clean_text(value: object) -> str:
    """Cell text with surrounding and repeated white space removed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\u3000", " ").replace("\xa0", " ")
    return re.sub(r"[ \t]+", " ", text).strip()


def fold_width(text: str) -> str:
    """Full-width letters and digits to ASCII (NFKC), for codes and numbers."""
    return unicodedata.normalize("NFKC", text)


# --- 统一社会信用代码 (GB 32100-2015) and 注册号 ---------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGISTRATION_AUTHORITIES = set("123456789ANY")


def normalize_credit_code(value: str) -> str:
    return re.sub(r"[\s\-]", "", fold_width(value)).upper()


# Characters GB 32100 leaves out, and what was probably meant.
_LOOKALIKES = {"I": "1", "O": "0", "Z": "2", "S": "5", "V": "U"}


def credit_code_problem(code: str) -> tuple[int | None, str] | None:
    """What is wrong with a normalised code, and at which position (1-based, or
    None when no single position is to blame), or None if it is valid.

    The messages name the position so that a person comparing the code with a
    licence can find the typo."""
    if len(code) != 18:
        return None, f"统一社会信用代码应为18位，输入的是{len(code)}位"
    for position, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_ALPHABET:
            hint = f"，是否应为“{_LOOKALIKES[char]}”" if char in _LOOKALIKES else ""
            return position, f"第{position}位“{char}”是不允许的字符（统一社会信用代码不使用I、O、Z、S、V）{hint}"
    if code[0] not in _REGISTRATION_AUTHORITIES:
        return 1, f"第1位（首位，登记管理部门代码）应为1–9、A、N或Y，不能是“{code[0]}”"
    for position in range(3, 9):
        if not code[position - 1].isdigit():
            return (
                position,
                f"第{position}位应为数字（第3–8位是登记管理机关的行政区划码），不能是“{code[position - 1]}”",
            )
    expected = credit_code_check_character(code)
    if code[17] != expected:
        return 18, (
            f"第18位（校验位）与前17位不符：按前17位计算应为“{expected}”，输入的是“{code[17]}”。"
            "前17位中至少有一位录入有误，请逐位核对"
        )
    return None


def check_credit_code(value: str) -> str:
    code = normalize_credit_code(value)
    problem = credit_code_problem(code)
    if problem is not None:
        raise FieldError(problem[1])
    return code


def credit_code_check_character(code: str) -> str | None:
    """The check character (MOD 31-3) that an 18-character code's first 17 call
    for, or None if those are not shaped like a credit code at all."""
    code = normalize_credit_code(code)
    if (
        len(code) != 18
        or code[0] not in _REGISTRATION_AUTHORITIES
        or not code[2:8].isdigit()
        or any(c not in CREDIT_CODE_ALPHABET for c in code[:17])
    ):
        return None
    return uscc.calc_check_digit(code[:17])


def looks_like_registration_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{15}", normalize_credit_code(value)))


# --- dates ---------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        serial = float(value)
        if 20000 <= serial <= 80000:  # an Excel serial date (1954–2119)
            return _EXCEL_EPOCH + dt.timedelta(days=int(serial))
        raise FieldError(f"无法识别的日期“{clean_text(value)}”")
    text = fold_width(clean_text(value))
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return parse_date(float(text))
    text = re.sub(r"\s+00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise FieldError(f"日期“{text}”不存在") from None
    raise FieldError(f"无法识别的日期“{text}”，请使用 2020-12-11、2020/12/11 或 2020年12月11日")


# --- numbers -------------------------------------------------------------------


def parse_amount(value: object) -> Decimal:
    """An amount in yuan: digits with optional thousands separators and 2 decimals."""
    if isinstance(value, bool):
        raise FieldError("金额应为数字（单位：元）")
    if isinstance(value, (int, float, Decimal)):
        amount = Decimal(str(value))
    else:
        text = fold_width(clean_text(value)).replace(",", "").replace("，", "")
        text = re.sub(r"^[¥￥]|元$", "", text).strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise FieldError(f"金额“{clean_text(value)}”不是数字（单位：元，例如 416000）") from None
    if not amount.is_finite():
        raise FieldError("金额应为数字（单位：元）")
    if amount < 0:
        raise FieldError("金额不能为负数")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError("金额最多保留两位小数")
    if amount >= Decimal("1e13"):
        raise FieldError("金额过大，请核对单位是否为元")
    return amount.quantize(Decimal("0.01"))


def parse_count(value: object) -> int:
    if isinstance(value, bool):
        raise FieldError("人数应为整数")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = fold_width(clean_text(value))
    text = re.sub(r"(人|名)$", "", text)
    if not re.fullmatch(r"-?\d+", text):
        raise FieldError(f"人数“{clean_text(value)}”应为整数")
    count = int(text)
    if count < 0:
        raise FieldError("人数不能为负数")
    if count > 10_000_000:
        raise FieldError("人数过大，请核对")
    return count


_YES = {"是", "y", "yes", "true", "1", "已移送"}
_NO = {"否", "n", "no", "false", "0", "未移送", ""}


def parse_yes_no(value: object) -> bool:
    text = fold_width(clean_text(value)).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise FieldError(f"应填写“是”或“否”，不能是“{clean_text(value)}”")


# --- privacy -------------------------------------------------------------------

_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{2})(\d{2})(\d{2})(\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


def find_private_data(text: str) -> str | None:
    """What kind of personal data the text contains, or None.

    A citizen ID number (18 digits with a valid check digit, or the old 15-digit
    form with a plausible birth date) or a mobile phone number is never published."""
    folded = fold_width(text)
    for match in _ID18.finditer(folded):
        if ric.is_valid(match.group(1)):
            return "居民身份证号码"
    for match in _ID15.finditer(folded):
        _, year, month, day, _ = match.groups()
        try:
            dt.date(1900 + int(year), int(month), int(day))
        except ValueError:
            continue
        return "居民身份证号码"
    if _MOBILE.search(folded):
        return "手机号码"
    return None


def normalize_document_no(value: str | None) -> str | None:
    """A decision number with bracket style, width and spacing folded, so that
    兰人社失信〔2025〕3号, [2025] and (2025) all compare equal."""
    if not value:
        return None
    text = fold_width(value)
    text = re.sub(r"[〔〕\[\]()【】（）［］{}<>《》\s]", "", text)
    return text.upper() or None
