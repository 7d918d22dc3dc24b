"""Control characters are refused at the edge (400 with a Chinese message) in
paths, query parameters, forms, JSON and upload names, before they reach the
database (PostgreSQL refuses NUL; run with GONGSHI_TEST_DATABASE_URL)."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.params import any_control_character, has_control_character
from extensions import db
from models import AuditEvent, Batch, Hotline, Listing, Objection, User
from tests.admin_support import fast_hashing, login, make_user, post, token  # noqa: F401
from tests.builders import case_row, listing_row, load, to_csv

MESSAGE = "不允许的控制字符"


@pytest.fixture
def world(app, fast_hashing):  # noqa: F811
    app.extensions["gongshi_login_sleep"] = lambda seconds: None
    make_user("boss", "admin")
    make_user("clerk", "editor")
    return {"case": load("cases", [case_row()]), "listing": load("listings", [listing_row()], title="2025年第二批")}


PUBLIC_URLS = [
    "/enterprises/%00",
    "/enterprises/91620100MA0000001X%00",
    "/cases/1%00",
    "/cases?district=%00",
    "/cases?district=城关区%01",
    "/cases?%00=1",
    "/listings?sort=%00",
    "/batches?kind=%1f",
    "/search?q=%E5%BB%BA%00",
    "/search.csv?q=%00",
    "/search.atom?q=%00",
    "/check?q=%00",
    "/cases.csv?district=%00",
    "/listings.json?year=%00",
    "/api/v1/search?q=%00",
    "/api/v1/cases?district=%00",
    "/api/v1/enterprises/%00",
    "/api/v1/listings?district=a%0Ab",
    "/feeds/changes.atom?x=%7f",
    "/objections/lookup?reference=%00",
]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_a_control_character_in_a_path_or_query_is_a_400(client, world, url):
    with client.get(url) as response:
        assert response.status_code == 400, url
        if url.startswith("/api/"):
            assert MESSAGE in response.get_json()["error"]["message"]
        else:
            assert MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/admin/audit?q=%00", "/admin/batches?q=%00", "/admin/cases?q=a%00", "/admin/users?x=%00"]
)
def test_staff_filters_refuse_control_characters(client, world, url):
    login(client, "boss")
    assert client.get(url).status_code == 400


def test_the_login_form_refuses_a_nul_and_records_nothing(client, world):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(
        "/admin/login", data={"username": "boss\x00", "password": "whatever-password", "csrf_token": token(client)}
    )
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_tab_in_a_password_is_just_a_wrong_password(client, world):
    assert login(client, "boss", "wrong\tpassword").status_code == 401


def test_hotline_and_user_forms_refuse_control_characters(client, world):
    login(client, "boss")
    hotline = {"unit": "兰州市劳动保障监察支队\x00", "phone": "0931-12333", "position": "1"}
    assert post(client, "/admin/hotlines/new", hotline).status_code == 400
    user = {"username": "new\x07user", "role": "editor", "password": "long-enough-pw", "confirm": "long-enough-pw"}
    assert post(client, "/admin/users/new", user).status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Hotline)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_an_upload_batch_number_or_file_name_with_a_control_character_stores_nothing(client, world):
    login(client, "clerk")
    batches = db.session.scalar(select(func.count()).select_from(Batch))
    data = to_csv("cases", [case_row(文书编号="兰劳监〔2026〕77号")])
    for number, name in (("7\x00", "cases.csv"), ("7", "ca\x00ses.csv")):
        form = {"kind": "cases", "year": "2026", "number": number, "file": (io.BytesIO(data), name)}
        response = post(client, "/admin/batches/upload", form, content_type="multipart/form-data")
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Batch)) == batches


def test_an_objection_with_a_nul_is_refused_but_line_breaks_are_fine(client, world):
    listing = db.session.scalar(select(Listing))
    url = f"/objections/new/listings/{listing.id}"
    bad = {"name": "张某", "contact": "13800000000\x00", "reason": "信息有误"}
    assert post(client, url, bad).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0
    good = {"name": "张某", "contact": "zhang@example.com", "reason": "第一行\r\n第二行\t说明"}
    response = post(client, url, good)
    assert response.status_code in (200, 303)
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 1


def test_a_json_body_with_a_nul_is_a_json_400(client, world):
    response = client.post("/api/v1/cases", json={"q": ["a\x00"]})
    assert response.status_code == 400
    assert MESSAGE in response.get_json()["error"]["message"]


CONTROL = st.characters(min_codepoint=0, max_codepoint=31) | st.just("\x7f")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.text(max_size=8), bad=CONTROL, after=st.text(max_size=8))
def test_any_control_character_in_any_query_value_is_a_400_never_a_500(client, world, before, bad, after):
    value = before + bad + after
    for path in ("/cases", "/api/v1/listings", "/search"):
        with client.get(f"{path}?district={quote(value)}") as response:
            assert response.status_code == 400


@given(st.text())
def test_the_rule_finds_every_control_character(text):
    expected = any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
    assert has_control_character(text) is expected
    assert any_control_character([{"k": [text]}]) is expected
    lenient = any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in text)
    assert has_control_character(text, line_breaks_allowed=True) is lenient
