"""Staff forms (Flask-WTF: every form that changes data carries the CSRF token).

The record form only collects text: its values are checked by the import
service's own rules (``domain.publishing.check_record_fields``), so a record typed
into the form and a row of a spreadsheet are held to exactly the same standard."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional

from domain.importing import amount_text
from models.user import ROLE_LABELS, ROLES

REQUIRED = "必填"


class ActionForm(FlaskForm):
    """A button that changes data: only the CSRF token."""


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=80)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED)])


class WholeNumberField(IntegerField):
    """An integer field that says in Chinese when what was typed is not a number."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError("请填写整数") from error


class UploadForm(FlaskForm):
    """A new batch: its kind, year and number (the title is built from them:
    “2026年第四批重大劳动保障违法案件”) and its file."""

    kind = SelectField(
        "类别",
        choices=[SelectChoice("cases", "重大劳动保障违法案件"), SelectChoice("listings", "失信联合惩戒对象名单")],
    )
    year = WholeNumberField("年份", validators=[InputRequired("请填写年份")])
    number = WholeNumberField(
        "批次号（第几批）",
        validators=[InputRequired("请填写批次号")],
        description="默认填入该类别、该年份下一个未用的批次号",
    )
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要上传的文件")])


class ReasonForm(FlaskForm):
    reason = TextAreaField("理由", validators=[DataRequired("请写明理由"), Length(max=2000)])


class SendBackForm(FlaskForm):
    comment = TextAreaField("退回意见", validators=[DataRequired("请写明需要修改的地方"), Length(max=2000)])


class RemoveForm(FlaskForm):
    removed_on = DateField("移出日期", validators=[InputRequired("请填写日期")])
    document_no = StringField("提前移出决定书文号", validators=[DataRequired(REQUIRED), Length(max=100)])
    reason = TextAreaField("移出理由", validators=[DataRequired(REQUIRED), Length(max=2000)])


class RevokeForm(FlaskForm):
    revoked_on = DateField("撤销日期", validators=[InputRequired("请填写日期")])
    reason = TextAreaField("撤销理由", validators=[DataRequired(REQUIRED), Length(max=2000)])


class ReinstateForm(FlaskForm):
    reinstated_on = DateField("恢复列入日期", validators=[InputRequired("请填写日期")])
    basis = TextAreaField(
        "恢复依据（撤销提前移出决定的文书号及理由）", validators=[DataRequired(REQUIRED), Length(max=2000)]
    )


class UserCreateForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=80)])
    role = SelectField("角色", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED)], description="至少10个字符")
    confirm = PasswordField("再次输入密码", validators=[EqualTo("password", "两次输入的密码不一致")])


class UserEditForm(FlaskForm):
    role = SelectField("角色", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    active = BooleanField("账号可用")


class PasswordForm(FlaskForm):
    password = PasswordField("新密码", validators=[DataRequired(REQUIRED)], description="至少10个字符")
    confirm = PasswordField("再次输入新密码", validators=[EqualTo("password", "两次输入的密码不一致")])


class OwnPasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired(REQUIRED)])
    password = PasswordField("新密码", validators=[DataRequired(REQUIRED)], description="至少10个字符")
    confirm = PasswordField("再次输入新密码", validators=[EqualTo("password", "两次输入的密码不一致")])


class HotlineForm(FlaskForm):
    position = IntegerField("排序", default=0, validators=[Optional(), NumberRange(min=0, max=9999)])
    district = StringField("区县", validators=[Optional(), Length(max=50)], description="市本级留空")
    unit = StringField("单位", validators=[DataRequired(REQUIRED), Length(max=200)])
    phone = StringField("电话", validators=[DataRequired(REQUIRED), Length(max=100)])
    address = StringField("地址", validators=[Optional(), Length(max=300)])
    hours = StringField("受理时间", validators=[Optional(), Length(max=100)])


# --- the record form ----------------------------------------------------------------

# (column of the import template, form field name, widget)
CASE_LAYOUT = (
    ("违法主体名称", "enterprise_name", "text"),
    ("统一社会信用代码", "credit_code", "text"),
    ("法定代表人", "legal_representative", "text"),
    ("地址", "address", "text"),
    ("区县", "district", "district"),
    ("行业", "industry", "text"),
    ("违法类型", "violation_types", "text"),
    ("主要违法事实", "facts", "textarea"),
    ("处理处罚情况", "handling", "textarea"),
    ("涉及人数", "workers_involved", "text"),
    ("涉及金额（元）", "amount_involved", "text"),
    ("罚款金额（元）", "fine_amount", "text"),
    ("是否移送公安机关", "transferred_to_police", "yesno"),
    ("决定日期", "decided_on", "text"),
    ("文书编号", "document_no", "text"),
)
LISTING_LAYOUT = (
    ("单位名称", "enterprise_name", "text"),
    ("统一社会信用代码", "credit_code", "text"),
    ("法定代表人", "legal_representative", "text"),
    ("责任人员", "persons", "text"),
    ("地址", "address", "text"),
    ("区县", "district", "district"),
    ("列入事由", "reason", "textarea"),
    ("列入依据", "basis", "textarea"),
    ("涉及人数", "workers_involved", "text"),
    ("拖欠金额（元）", "amount_owed", "text"),
    ("作出决定部门", "deciding_authority", "text"),
    ("决定文书号", "document_no", "text"),
    ("列入日期", "listed_on", "text"),
    ("期限（年）", "term_years", "text"),
)
LAYOUTS = {"cases": CASE_LAYOUT, "listings": LISTING_LAYOUT}
HINTS = {
    "violation_types": "多个类型用“、”分隔，如：拖欠劳动报酬、未依法缴纳社会保险费",
    "persons": "只写姓名，多人用“、”分隔",
    "decided_on": "如 2026-03-01",
    "listed_on": "如 2026-03-01",
    "credit_code": "18位统一社会信用代码，或15位注册号",
}


def record_form_class(kind: str, districts: list[str], *, correction: bool) -> type[FlaskForm]:
    """A form with one field per column of the import template."""

    class RecordForm(FlaskForm):
        pass

    for column, name, widget in LAYOUTS[kind]:
        description = HINTS.get(name, "")
        if widget == "textarea":
            field = TextAreaField(column, description=description)
        elif widget == "district":
            field = SelectField(column, choices=[SelectChoice("", "请选择"), *(SelectChoice(d, d) for d in districts)])
        elif widget == "yesno":
            field = SelectField(column, choices=[SelectChoice("否"), SelectChoice("是")])
        else:
            field = StringField(column, description=description)
        setattr(RecordForm, name, field)
    if correction:
        RecordForm.correction_note = TextAreaField(
            "更正说明",
            validators=[DataRequired("更正需要写明更正说明"), Length(max=2000)],
            description="将以“更正”注明显示在公开页面，例如：更正罚款金额",
        )
    return RecordForm


def form_cells(form: FlaskForm, kind: str) -> dict[str, Any]:
    """The form's values keyed by import-template column."""
    return {column: getattr(form, name).data for column, name, _ in LAYOUTS[kind]}


def record_initial(record: Any, kind: str) -> dict[str, str]:
    """A stored record as the text a member of staff would type."""
    values: dict[str, str] = {}
    for _column, name, _ in LAYOUTS[kind]:
        if name == "credit_code":
            value = record.credit_code or record.reg_no or ""
        elif name == "persons":
            value = "、".join(record.responsible_persons)
        elif name == "transferred_to_police":
            value = "是" if record.transferred_to_police else "否"
        elif name in ("amount_involved", "fine_amount", "amount_owed"):
            value = amount_text(getattr(record, name))
        else:
            raw = getattr(record, name)
            value = "" if raw is None else (raw.isoformat() if hasattr(raw, "isoformat") else str(raw))
        values[name] = value
    return values


def apply_errors(form: FlaskForm, kind: str, errors: list) -> list[str]:
    """Put the import service's errors on the fields they concern; return the rest."""
    by_column = {column: name for column, name, _ in LAYOUTS[kind]}
    general = []
    for error in errors:
        name = by_column.get(error.column or "")
        if name:
            field = getattr(form, name)
            field.errors = [*field.errors, error.message]
        else:
            general.append(error.message)
    return general


MONTH_CHOICES = [SelectChoice(str(month), f"{month}月") for month in range(1, 13)]


class BulletinForm(FlaskForm):
    """A work bulletin typed in: the period and title here; the indicator values
    are fields named ``value-<n>`` (one per catalogue indicator), checked by the
    import rules (``domain.bulletins.check_form``)."""

    title = StringField(
        "标题", validators=[Optional(), Length(max=200)], description="不填则为“2020年1—11月劳动保障监察工作情况通报”"
    )
    year = IntegerField(
        "年份", validators=[InputRequired("请填写年份"), NumberRange(2000, 2100, "年份应在2000到2100之间")]
    )
    month_from = SelectField("起始月份", choices=MONTH_CHOICES, default="1")
    month_to = SelectField("截止月份", choices=MONTH_CHOICES, default="12")


class BulletinCorrectionForm(FlaskForm):
    title = StringField("标题", validators=[Optional(), Length(max=200)])
    note = TextAreaField("更正说明（将在公开页面显示）", validators=[DataRequired("请写明更正说明"), Length(max=2000)])


class BulletinUploadForm(FlaskForm):
    title = StringField("标题", validators=[Optional(), Length(max=200)], description="不填则按期间自动生成")
    year = IntegerField(
        "年份", validators=[InputRequired("请填写年份"), NumberRange(2000, 2100, "年份应在2000到2100之间")]
    )
    months = StringField(
        "月份范围", validators=[DataRequired(REQUIRED), Length(max=20)], description="例如 1-11（1至11月）或 11（单月）"
    )
    file = FileField("文件（.xlsx 或 .csv，两列：指标、数值）", validators=[FileRequired("请选择要上传的文件")])


class GradingUploadForm(FlaskForm):
    year = IntegerField(
        "评价年度", validators=[InputRequired("请填写年度"), NumberRange(2000, 2100, "年度应在2000到2100之间")]
    )
    title = StringField(
        "标题", validators=[Optional(), Length(max=200)], description="不填则为“2020年度劳动保障守法诚信等级评价结果”"
    )
    file = FileField("文件（.xlsx 或 .csv）", validators=[FileRequired("请选择要上传的文件")])


# --- special campaigns (专项行动) -----------------------------------------------------


class CampaignForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired(REQUIRED), Length(max=200)], description="如：根治欠薪冬季攻坚")
    starts_on = DateField("开始日期", validators=[InputRequired("请填写日期")])
    ends_on = DateField("结束日期", validators=[Optional()], description="尚未结束的可留空")
    description = TextAreaField(
        "简介", validators=[Optional(), Length(max=2000)], description="显示在公开的专项行动页面"
    )


class CampaignTagForm(FlaskForm):
    """Tag a batch or a case: 0 means none (for a case: as its batch)."""

    campaign = SelectField("专项行动", coerce=int, choices=[SelectChoice(0, "无")])


def campaign_tag_form(current_id: int | None, none_label: str, formdata: Any = None) -> CampaignTagForm:
    """The tag form with every campaign as a choice; ``formdata`` None shows the
    current tag, otherwise the posted one is read."""
    from domain.campaigns import choices

    if formdata is None:
        form = CampaignTagForm(formdata=None, campaign=current_id or 0)
    else:
        form = CampaignTagForm()
    form.campaign.choices = [SelectChoice(0, none_label), *(SelectChoice(key, name) for key, name in choices())]
    return form
