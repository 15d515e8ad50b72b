"""The services plugin's declared input read back from the OpenAPI document: every route listed with a summary,
every body and query field screened text or a non-text kind (the signing tests' walk, with services loaded),
and the typed text of records and requests screened."""

from __future__ import annotations

from tests.signing.test_schema_screening import (
    test_openapi_declares_every_body_and_query_field_as_screened_or_not_text as every_field_is_declared,
)
from tests.signing.world import World

ROUTES = ["/api/services/catalogue", "/api/services/due", "/api/services/records", "/api/services/records/{id}",
          "/api/services/records/{id}/corrections", "/api/services/residents/{id}/plan",
          "/api/services/residents/{id}/cycle", "/api/services/requests", "/api/services/requests/{id}",
          *[f"/api/services/requests/{{id}}/{step}" for step in ("accept", "schedule", "complete", "decline",
                                                                 "cancel")]]


async def test_every_services_field_is_screened_text_or_not_text(world: World) -> None:
    await every_field_is_declared(world)


async def test_every_services_route_is_documented(world: World) -> None:
    status, doc = await world.call(None, "GET", "/api/openapi.json")
    assert status == 200
    paths = {p: item for p, item in doc["paths"].items() if p.startswith("/api/services/")}
    assert sorted(paths) == sorted(ROUTES), sorted(paths)
    for path, item in paths.items():
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
    record = doc["paths"]["/api/services/records"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    props = record["properties"]
    assert {props[n]["x-screened"] for n in ("content", "place", "item")} == {"word-action"}
    assert props["followup"]["properties"]["advice"]["x-screened"] == "word-action"
    assert props["followup"]["properties"]["sbp"]["x-kind"] == "integer"
