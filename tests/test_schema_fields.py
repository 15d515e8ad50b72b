"""The declared field types of ``hub.schema``: what each accepts, refuses and publishes."""

from __future__ import annotations

import pytest

from hub.errors import InvalidInput, InvalidJSON
from hub.schema import (
    SCREEN,
    Body,
    Bool,
    Code,
    Enum,
    Id,
    Int,
    ListOf,
    Number,
    Phone,
    Text,
    check_any,
    check_depth,
    screened_fields,
)
from tests.support import api, login

PERSON = Body("person", name=Text(10, required=True), id=Id(), tags=ListOf(Text(5), most=2),
              kind=Enum(values=("a", "b")), age=Int(least=0, most=150), score=Number(least=0, most=1),
              ok=Bool(), phone=Phone(nullable=True), code=Code(pattern=r"^\d{3}$", most=3),
              home=Body("address", street=Text(20, multiline=True)))


def refused(value: dict, field: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        PERSON.check(value)
    assert caught.value.details["field"] == field, caught.value.details
    return caught.value.details.get("reason", "")


def test_a_body_is_checked_field_by_field() -> None:
    assert PERSON.check({"name": " 张三 ", "tags": ["x"], "home": {"street": "一\n二"}, "phone": None}) == {
        "name": "张三", "tags": ["x"], "home": {"street": "一\n二"}, "phone": None}
    assert refused({}, "name") == "required"
    assert refused({"name": "  "}, "name") == "required"
    assert refused({"name": "x", "id": {"$ne": None}}, "id") == "id"
    assert refused({"name": "x", "id": ["x"]}, "id") == "id"
    assert refused({"name": "x", "tags": ["a", "b", "c"]}, "tags") == "too_many"
    assert refused({"name": "x", "tags": ["toolong"]}, "tags") == "too_long"
    assert refused({"name": "x", "kind": "c"}, "kind") == "enum"
    assert refused({"name": "x", "age": True}, "age") == "type"
    assert refused({"name": "x", "age": 10**30}, "age") == "range"
    assert refused({"name": "x", "score": float("nan")}, "score") == "type"
    assert refused({"name": "x", "ok": 1}, "ok") == "type"
    assert refused({"name": "x", "phone": "123"}, "phone") == "format"
    assert refused({"name": "x", "code": "12a"}, "code") == "format"
    assert refused({"name": "x", "home": {"street": "\x00"}}, "home.street") == "control_character"
    assert refused({"name": "x", "home": []}, "home") == "type"
    assert refused({"name": "x", "extra": 1}, "extra") == "unknown_field"
    assert refused({"name": "a\ud83d"}, "name") == "surrogate"
    assert refused({"name": "a\tb"}, "name") == "control_character"  # one-line text takes no tab


def test_depth_and_generic_checks() -> None:
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InvalidJSON):
        check_depth({"x": deep})
    check_depth({"x": [[[1]]]})
    with pytest.raises(InvalidInput):
        check_any({"a": {"$gt": 1}})
    with pytest.raises(InvalidInput):
        check_any({"a": ["\x00"]})
    check_any({"a": ["一\n二\t三"]})


def test_the_schema_document_names_kinds_and_screening() -> None:
    doc = PERSON.schema()
    assert doc["additionalProperties"] is False and doc["required"] == ["name"]
    assert doc["properties"]["name"] == {"type": "string", "maxLength": 10, "x-kind": "text", "x-screened": SCREEN}
    assert doc["properties"]["id"]["x-kind"] == "id" and "x-screened" not in doc["properties"]["id"]
    assert doc["properties"]["kind"]["enum"] == ["a", "b"]
    assert screened_fields(PERSON) == ["name", "tags[]", "home.street"]


async def test_a_plugin_declared_body_is_checked_and_screened(make_hub) -> None:
    running = await make_hub(plugins={"example_greeter": True})
    hub = running.hub
    sysadmin = await hub.accounts.create_user(username="admin1", password="password123", role="sysadmin", name="管理")
    await hub.words.add(sysadmin, "法轮功", "block", "测试")
    await hub.words.add(sysadmin, "傻逼", "mask", "测试")
    token = await login(running.url, "admin1", "password123")
    status, data = await api(running.url, "POST", "/api/greeter/greetings", token, {"text": "你好法轮功",
                                                                                  "to": sysadmin["_id"]})
    assert status == 422 and data["error"]["details"]["field"] == "text"
    status, data = await api(running.url, "POST", "/api/greeter/greetings", token, {"text": "你个傻逼",
                                                                                  "to": sysadmin["_id"]})
    assert status == 201 and data["text"] == "你个**"
    status, data = await api(running.url, "POST", "/api/greeter/greetings", token, {"text": "hi", "to": {"$ne": 1}})
    assert status == 400 and data["error"]["details"]["field"] == "to"
    status, doc = await api(running.url, "GET", "/api/openapi.json")
    body = doc["paths"]["/api/greeter/greetings"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["text"]["x-screened"] == SCREEN and body["required"] == ["text", "to"]
    params = {p["name"]: p for p in doc["paths"]["/api/alerts"]["get"]["parameters"]}
    assert params["status"]["schema"]["enum"] == ["open", "resolved"] and params["limit"]["schema"]["maximum"] == 200
