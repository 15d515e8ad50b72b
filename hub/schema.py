"""Declared input at the edge: the type of every field of every request body and query string.

A handler declares, per method, its JSON body (``body = {"post": Body("resident", name=Text(30), ...)}``) and its
query parameters (``query = {"get": {"status": Enum(...)}}``). ``BaseHandler`` checks each request against the
declaration before the handler runs, so a service never sees an operator object where an id belongs, a control
character, a lone surrogate or a nesting it did not expect; the OpenAPI document is built from the same
declarations. Every free-text field says how it is screened (``Text(screen=...)``): ``screen_fields`` screens
the declared text of a checked body through ``Hub.screen`` with the field named, so a plugin gets the same
screening by declaring its fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from hub.errors import ContentBlocked, InvalidInput, InvalidJSON, Unauthorized
from hub.ids import parse_time

if TYPE_CHECKING:
    from hub.app import Hub

# Screening policies of a text field (``x-screened`` in the OpenAPI document).
SCREEN = "word-action"      # the word's own action: block refuses naming the field, mask stores masked, alert alerts
SCREEN_BY_SERVICE = "service"  # the service screens it itself (signing decisions' reasons and notes)
NOT_TYPED = ""              # not free text: ids, codes, enums, numbers...

MAX_JSON_DEPTH = 32
MAX_ID_CHARS = 64
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
PHONE_RE = re.compile(r"^(1[3-9]\d{9})?$")  # empty: no phone
_LINE_BREAKS = {"\n", "\r", "\t"}
# What ``check_characters`` refuses (Cc is U+0000-001F and U+007F-009F), found at C speed: every string of every
# body passes through it, often twice (the generic check, then its field's), and most hold nothing to refuse.
_REFUSED_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_MULTILINE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_INDEX_RE = re.compile(r"\[\d+\]")


def field_of(path: str) -> str:
    """The form field a path names: ``chronic_diseases[1]`` → ``chronic_diseases`` (the path goes in details)."""
    return _INDEX_RE.sub("", path)


def _named(path: str) -> dict[str, str]:
    """The details naming where a refused value is: its field, and its path when that differs."""
    name = field_of(path)
    return {"field": name} | ({"path": path} if name != path else {})


def _refuse(path: str, message: str, **details: Any) -> InvalidInput:
    return InvalidInput(f"{path} {message}", **_named(path), **details)


def check_characters(text: str, path: str, *, multiline: bool = False) -> str:
    """Refuse what no stored value may hold: lone surrogates, NUL and C0/C1 controls (newline, CR and tab are
    kept in multi-line text only), so that no stored text can break an export, a log or a client."""
    if not (_REFUSED_MULTILINE_RE if multiline else _REFUSED_RE).search(text):
        return text
    for char in text:
        if "\ud800" <= char <= "\udfff":
            raise _refuse(path, "含无效字符", reason="surrogate")
        if unicodedata.category(char) == "Cc" and not (multiline and char in _LINE_BREAKS):
            raise _refuse(path, "含控制字符", reason="control_character")
    return text


def has_bad_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether ``check_characters`` would refuse ``text`` (for files checked row by row)."""
    try:
        check_characters(text, "", multiline=multiline)
    except InvalidInput:
        return True
    return False


def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests dicts and lists deeper than ``limit`` (walked without recursion: a deep value must
    not exhaust the stack here either). Request bodies and WebSocket frames are both held to it."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Bound the nesting of a parsed body."""
    if nesting_exceeds(value, limit):
        raise InvalidJSON(f"JSON 嵌套超过 {limit} 层", reason="too_deep")


def check_any(value: Any, path: str = "") -> None:
    """The generic check of an undeclared body: keys and strings free of control characters and surrogates,
    no key that MongoDB would read as an operator."""
    if isinstance(value, dict):
        for key, child in value.items():
            check_characters(key, path or "body")
            if key.startswith("$"):
                raise _refuse(path or "body", "含非法字段名", reason="operator")
            check_any(child, _join(path, key))
    elif isinstance(value, list):
        for child in value:
            check_any(child, path)
    elif isinstance(value, str):
        check_characters(value, path or "body", multiline=True)


# -- field kinds ----------------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Field:
    """A field: its ``kind`` names what it is in the OpenAPI document (``x-kind``)."""

    required: bool = False
    nullable: bool = False
    description: str = ""
    kind = "value"
    screen = NOT_TYPED

    def clean(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def check(self, value: Any, path: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise _refuse(path, "不能为空", reason="null")
        return self.clean(value, path)

    def schema(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"x-kind": self.kind}
        if self.nullable:
            extra["nullable"] = True
        if self.description:
            extra["description"] = self.description
        if self.screen:
            extra["x-screened"] = self.screen
        return {**self.openapi(), **extra}

    def openapi(self) -> dict[str, Any]:
        return {}

    def from_query(self, raw: str, path: str) -> Any:
        """A query string value (always text) as this field's type."""
        return self.check(raw, path)


def _string(value: Any, path: str, most: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise _refuse(path, "应为文本", reason="type")
    if len(value) > most:
        raise _refuse(path, f"最多 {most} 字", reason="too_long", most=most)
    return check_characters(value, path, multiline=multiline)


@dataclass
class Id(Field):
    """An object's id: a short string of id characters, never an object, a list or an operator."""

    kind = "id"

    def clean(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not ID_RE.match(value):
            raise _refuse(path, "应为对象 id", reason="id")
        return value

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "pattern": ID_RE.pattern}

    def from_query(self, raw: str, path: str) -> Any:
        return self.check(raw, path) if raw else raw


@dataclass
class Text(Field):
    """Free text a person types: at most ``most`` characters, one line unless ``multiline``, screened as
    ``screen`` says (``SCREEN`` unless stated: every typed text is screened before it is stored)."""

    most: int = 200
    multiline: bool = False
    screen: str = SCREEN  # type: ignore[assignment]
    kind = "text"

    def clean(self, value: Any, path: str) -> str:
        text = _string(value, path, self.most, multiline=self.multiline).strip()
        if self.required and not text:
            raise _refuse(path, "必填", reason="required")
        return text

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.most}


@dataclass
class Search(Text):
    """A search term of a query string: typed, but only matched, never stored, so not screened."""

    most: int = 50
    screen: str = NOT_TYPED  # type: ignore[assignment]
    kind = "search"


@dataclass
class Secret(Field):
    """A password: checked for length only, never screened, logged or stored as given."""

    most: int = 256
    kind = "password"

    def clean(self, value: Any, path: str) -> str:
        return _string(value, path, self.most)

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "format": "password", "maxLength": self.most}


@dataclass
class Code(Field):
    """A code with a fixed shape (a username, a region code, an ID number, a cursor, a word of the list)."""

    pattern: str = r"^[^\s]{1,64}$"
    most: int = 64
    kind = "code"

    def clean(self, value: Any, path: str) -> str:
        text = _string(value, path, self.most)
        if not re.match(self.pattern, text):
            raise _refuse(path, "格式不正确", reason="format")
        return text

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.most, "pattern": self.pattern}

    def from_query(self, raw: str, path: str) -> Any:
        return self.check(raw, path) if raw else raw


@dataclass
class Phone(Code):
    pattern: str = PHONE_RE.pattern
    most: int = 11
    kind = "phone"


@dataclass
class Enum(Field):
    values: tuple[str, ...] = ()
    kind = "enum"

    def clean(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise _refuse(path, f"应为 {' / '.join(self.values)}", reason="enum", allowed=list(self.values))
        return value

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}

    def from_query(self, raw: str, path: str) -> Any:
        return self.check(raw, path) if raw else raw


@dataclass
class Int(Field):
    least: int | None = None
    most: int | None = None
    kind = "integer"

    def clean(self, value: Any, path: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse(path, "应为整数", reason="type")
        return self._in_range(value, path)

    def _in_range(self, value: Any, path: str) -> Any:
        if (self.least is not None and value < self.least) or (self.most is not None and value > self.most):
            raise _refuse(path, f"应在 {self.least} 到 {self.most} 之间", reason="range")
        return value

    def openapi(self) -> dict[str, Any]:
        bounds = {"minimum": self.least, "maximum": self.most}
        return {"type": "integer", **{k: v for k, v in bounds.items() if v is not None}}

    def from_query(self, raw: str, path: str) -> Any:
        if raw == "":
            return None
        if not re.fullmatch(r"-?\d{1,18}", raw):
            raise _refuse(path, "应为整数", reason="type")
        return self.check(int(raw), path)


@dataclass
class Number(Int):
    kind = "number"

    def clean(self, value: Any, path: str) -> float:  # type: ignore[override]  # a Number is an Int that also takes floats
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise _refuse(path, "应为数字", reason="type")
        return self._in_range(value, path)

    def openapi(self) -> dict[str, Any]:
        return {**super().openapi(), "type": "number"}


@dataclass
class Bool(Field):
    kind = "boolean"

    def clean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise _refuse(path, "应为 true 或 false", reason="type")
        return value

    def openapi(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def from_query(self, raw: str, path: str) -> Any:
        if raw in ("", "true", "false", "1", "0"):
            return raw
        raise _refuse(path, "应为 true 或 false", reason="type")


@dataclass
class Day(Field):
    """A calendar date, ``YYYY-MM-DD``."""

    kind = "date"

    def clean(self, value: Any, path: str) -> str:
        text = _string(value, path, 10)
        try:
            date.fromisoformat(text)
        except ValueError:
            raise _refuse(path, "应为日期 YYYY-MM-DD", reason="format") from None
        return text

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass
class Moment(Field):
    """A time, ISO 8601 (China Standard Time when it has no offset)."""

    kind = "date-time"

    def clean(self, value: Any, path: str) -> str:
        text = _string(value, path, 40)
        try:
            parse_time(text)
        except ValueError:
            raise _refuse(path, "应为 ISO 8601 时间", reason="format") from None
        return text

    def openapi(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def from_query(self, raw: str, path: str) -> Any:
        return self.check(raw, path) if raw else raw


@dataclass
class ListOf(Field):
    item: Field | Body = field(default_factory=Id)
    most: int = 200
    kind = "list"

    def clean(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise _refuse(path, "应为列表", reason="type")
        if len(value) > self.most:
            raise _refuse(path, f"最多 {self.most} 项", reason="too_many", most=self.most)
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def openapi(self) -> dict[str, Any]:
        return {"type": "array", "maxItems": self.most, "items": self.item.schema()}


class Body:
    """A JSON object: its fields by name, and the document type its text is stored in (the alert's ``where``
    names it). Fields not declared are refused, so nothing unexpected reaches a query or a stored document."""

    kind = "object"
    screen = NOT_TYPED

    def __init__(self, document: str, /, *, required: bool = False, nullable: bool = False, **fields: Field | Body
                 ) -> None:
        self.document, self.fields, self.required, self.nullable = document, fields, required, nullable

    @classmethod
    def of(cls, document: str, fields: Mapping[str, Field | Body], /, *, required: bool = False,
           nullable: bool = False) -> Body:
        """The same object built from a mapping of fields assembled in code (``Body(doc, **fields)`` would let a
        field named ``required`` or ``nullable`` collide with the options)."""
        body = cls(document, required=required, nullable=nullable)
        body.fields = dict(fields)
        return body

    def check(self, value: Any, path: str = "") -> dict[str, Any]:
        if value is None and self.nullable:
            return None  # type: ignore[return-value]
        if not isinstance(value, dict):
            raise _refuse(path or "body", "应为 JSON 对象", reason="type")
        unknown = sorted(k for k in value if k not in self.fields)
        if unknown:
            raise InvalidInput("不支持的字段：" + "、".join(unknown[:10])[:200], field=_join(path, unknown[0]),
                               reason="unknown_field")
        cleaned: dict[str, Any] = {}
        for name, kind in self.fields.items():
            where = _join(path, name)
            if name not in value:
                if kind.required:
                    raise InvalidInput(f"{where} 必填", field=where, reason="required")
                continue
            cleaned[name] = kind.check(value[name], where)
        return cleaned

    def schema(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "object", "additionalProperties": False, "x-kind": "object",
                               "x-document": self.document,
                               "properties": {n: f.schema() for n, f in self.fields.items()}}
        if required := [n for n, f in self.fields.items() if f.required]:
            doc["required"] = required
        if self.nullable:
            doc["nullable"] = True
        return doc


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check_query(declared: dict[str, Field], arguments: dict[str, list[bytes]]) -> None:
    """Refuse a declared query parameter whose value is not of its type (undeclared ones are ignored)."""
    for name, kind in declared.items():
        for raw in arguments.get(name, []):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _refuse(name, "不是合法的 UTF-8", reason="encoding") from None
            kind.from_query(text, name)


# -- screening -------------------------------------------------------------------------------------------------

def screened_texts(shape: Body | Field, value: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Every (path, container, key) of screened text in a checked value."""
    if isinstance(shape, Body) and isinstance(value, dict):
        for name, kind in shape.fields.items():
            if name in value:
                yield from _walk(kind, value, name, _join(path, name))
    elif isinstance(shape, ListOf) and isinstance(value, list):
        for i in range(len(value)):
            yield from _walk(shape.item, value, i, f"{path}[{i}]")


def _walk(kind: Body | Field, container: Any, key: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    child = container[key]
    if kind.screen == SCREEN and isinstance(child, str) and child:
        yield path, container, key
    else:
        yield from screened_texts(kind, child, path)


async def screen_fields(hub: Hub, declared: Body, values: dict[str, Any], user: dict[str, Any] | None,
                        where: dict[str, Any]) -> dict[str, Any]:
    """Screen every declared text field of checked ``values`` in place: a ``block`` word refuses the request
    with ``details.field`` naming the field; a ``mask`` word leaves the masked text; ``alert`` (and ``block``)
    hits raise an alert whose ``where`` names the document type and the field."""
    for path, container, key in list(screened_texts(declared, values, "")):
        text = container[key]
        if hub.check_text(text).action == "pass":
            continue
        if user is None:
            raise Unauthorized()  # an alert names who typed the text
        try:
            result = await hub.screen(text, user, {**where, "object": declared.document, "field": path})
        except ContentBlocked as exc:
            raise ContentBlocked(f"{path} 含违禁词", **_named(path), **exc.details) from None
        container[key] = result.text
    return values


def has_hits(hub: Hub, declared: Body, values: dict[str, Any]) -> bool:
    """Whether any declared text of ``values`` hits a word (screening then needs to know who typed it)."""
    return any(hub.check_text(c[k]).action != "pass" for _, c, k in screened_texts(declared, values, ""))


def screened_fields(declared: Body) -> list[str]:
    """The paths of a body's screened text fields (for documents and tests)."""
    found: list[str] = []

    def walk(kind: Any, path: str) -> None:
        if kind.screen == SCREEN:
            found.append(path)
        elif isinstance(kind, Body):
            for name, child in kind.fields.items():
                walk(child, _join(path, name))
        elif isinstance(kind, ListOf):
            walk(kind.item, path + "[]")

    walk(declared, "")
    return found


@dataclass
class Word(Text):
    """An entry of the sensitive-word list or its category: the supervisor's own vocabulary, not screened
    (a word must be able to name what it blocks)."""

    most: int = 50
    screen: str = NOT_TYPED  # type: ignore[assignment]
    kind = "sensitive-word"


CURSOR = Code(pattern=r"^[A-Za-z0-9_=-]{1,400}$", most=400, description="上一页的 next_cursor")
PAGE: dict[str, Field] = {"limit": Int(least=1, most=200, description="每页条数，默认 20"), "cursor": CURSOR}
