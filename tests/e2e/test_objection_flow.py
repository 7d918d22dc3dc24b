"""An objection end to end in a browser: a person files it from a record's page
on a phone, a publisher answers it in the staff inbox, and the person reads the
answer with the reference number and their contact."""

from __future__ import annotations

import re

from domain import accounts
from extensions import db
from tests.e2e.conftest import LISTED
from tests.e2e.support import PASSWORD, log_in

CONTACT = "13931000000"
REPLY = "经核实，拖欠金额已更正。"


def test_objection_end_to_end(public_site, browser):
    base = public_site.url
    with public_site.app.app_context():
        accounts.create_user("zhao", "publisher", PASSWORD)
        db.session.commit()

    person = browser.new_page(viewport={"width": 390, "height": 844})
    person.goto(f"{base}/listings")
    person.get_by_role("link", name=LISTED).first.click()
    person.get_by_role("link", name="对公示信息有异议").click()
    person.get_by_label("姓名或单位名称").fill("李某某")
    person.get_by_label("联系方式（电话或电子邮箱）").fill("139 3100 0000")
    person.get_by_label("异议内容和理由").fill("拖欠金额有误，实际已支付一半，有银行转账记录为证。")
    box = person.locator("#website").bounding_box()  # the honeypot: off screen, out of the tab order
    assert box is None or box["x"] + box["width"] < 0
    assert person.locator("#website").get_attribute("tabindex") == "-1"
    person.get_by_role("button", name="提交异议").click()
    person.get_by_role("heading", name="异议申请已提交").wait_for()
    reference = person.locator(".reference").inner_text()
    assert re.fullmatch(r"YY\d{8}-[2-9A-Z]{8}", reference)

    staff = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(staff, base, "zhao")
    staff.get_by_role("link", name="异议申请").first.click()
    staff.get_by_role("link", name=reference).click()
    assert "139 3100 0000" in staff.content()
    staff.get_by_label("处理状态").select_option("answered")
    staff.get_by_label("答复").fill(REPLY)
    staff.get_by_role("button", name="保存").click()
    staff.get_by_text("已保存。").wait_for()

    person.goto(f"{base}/objections/lookup")
    person.get_by_label("受理编号").fill(reference)
    person.get_by_label("提交时填写的联系方式").fill(CONTACT)
    person.get_by_role("button", name="查询").click()
    status = person.locator(".objection-status").inner_text()
    assert "已答复" in status and REPLY in status
    assert "139" not in status and "李某某" not in status
    assert person.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    person.close()
    staff.close()
