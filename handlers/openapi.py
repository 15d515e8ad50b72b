"""``GET /api/openapi.json``: the OpenAPI 3 document of every endpoint, the plugins' included, derived from the
live URL table so that it cannot fall behind it."""

from __future__ import annotations

import inspect
import re
from typing import Any

import tornado.web

from handlers.base import BaseHandler
from hub.schema import Field

METHODS = ("get", "post", "put", "patch", "delete")
GROUP_RE = re.compile(r"\((?:\?P<(\w+)>)?[^)]*\)")
ERROR_SCHEMA = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}}


def openapi_path(pattern: str) -> tuple[str, list[str]]:
    """``/api/x/([^/]+)/y`` → ``/api/x/{id}/y`` and its parameter names."""
    names: list[str] = []

    def name(match: re.Match) -> str:
        names.append(match.group(1) or ("id" if not names else f"id{len(names) + 1}"))
        return "{" + names[-1] + "}"

    return GROUP_RE.sub(name, pattern.rstrip("$")), names


def _content(types: tuple[str, ...] | None, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI ``content`` map: a JSON object (of the declared schema) unless the handler names other media
    types (files, as binary)."""
    if not types:
        return {"application/json": {"schema": schema or {"type": "object"}}}
    return {media: {"schema": {"type": "string", "format": "binary"}} for media in types}


def _query_parameters(declared: dict[str, Field]) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": kind.required, "schema": kind.schema(),
             **({"description": kind.description} if kind.description else {})} for name, kind in declared.items()]


def build_document(rules: list[tuple[str, type]], title: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for pattern, handler in rules:
        pattern = pattern.rstrip("$")
        if not (pattern.startswith("/api") or pattern == "/healthz") or not issubclass(handler, BaseHandler):
            continue
        path, params = openapi_path(pattern)
        item: dict[str, Any] = {}
        for method in METHODS:
            func = getattr(handler, method, None)
            if func is None or func is getattr(tornado.web.RequestHandler, method, None):
                continue
            doc = inspect.getdoc(func) or ""
            item[method] = {
                "summary": doc.splitlines()[0] if doc else f"{method.upper()} {path}",
                "description": doc, "operationId": f"{handler.__name__}.{method}",
                "tags": [path.split("/")[2] if path.startswith("/api/") else "health"],
                "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                               for p in params] + _query_parameters(handler.query_schema.get(method, {})),
                "security": [] if handler.__name__ in ("TokenHandler", "HealthHandler", "OpenAPIHandler")
                else [{"bearer": []}],
                "responses": {"200": {"description": "OK", "content": _content(handler.reply_types.get(method))},
                              "4XX": {"description": "Error", "content": {"application/json": {
                                  "schema": {"$ref": "#/components/schemas/Error"}}}}},
            }
            if method in ("post", "put", "patch"):
                declared = handler.body_schema.get(method)
                item[method]["requestBody"] = {"required": False, "content": _content(
                    handler.body_types.get(method), declared.schema() if declared else None)}
        if item:
            paths[path] = item
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1"}, "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": {"Error": ERROR_SCHEMA}}}


class OpenAPIHandler(BaseHandler):
    async def get(self) -> None:
        """This document."""
        rules = [(rule.matcher.regex.pattern, rule.target) for rule in self.application.wildcard_router.rules  # type: ignore[attr-defined]  # PathMatches: every rule of the table
                 if isinstance(rule.target, type)]
        self.reply(build_document(rules, "家庭好医 hub API"))


ROUTES = [(r"/api/openapi.json", OpenAPIHandler)]
