"""The signing plugin's declared input (``hub.schema``): every request body and query string of its endpoints,
with the screening of every text a person types. The Excel import checks its rows' text with the same
``RESIDENT_TEXT`` declaration."""

from __future__ import annotations

from hub.roster.packages import KINDS
from hub.roster.residents import KEY_POPULATIONS, RELATIONS, STATUS_LABELS
from hub.roster.teams import INSTITUTION_KINDS, STAFF_ROLES_BY_SYSADMIN, WORK_TYPES
from hub.schema import (
    PAGE,
    SCREEN_BY_SERVICE,
    Body,
    Bool,
    Code,
    Enum,
    Field,
    Id,
    Int,
    ListOf,
    Number,
    Phone,
    Search,
    Secret,
    Text,
)
from plugins.signing.signings import MODES, UNABLE_KINDS

ID_NUMBER_CHARS = 32  # the number itself is 18; the rules normalise full-width digits and spaces first


def regions_code(*, required: bool = False) -> Code:
    """A 12-digit division code (the rules check that it exists)."""
    return Code(pattern=r"^\d{12}$", most=12, required=required)


def page_query() -> dict[str, dict[str, Field]]:
    return {"get": PAGE}


def _id_number(*, required: bool = False) -> Code:
    return Code(pattern=r"^\S{1,32}$", most=ID_NUMBER_CHARS, required=required)


#: The typed text of a resident, shared with the import's rows (``imports``).
RESIDENT_TEXT: dict[str, Field] = {
    "name": Text(30), "address": Text(200), "household": Text(40),
    "chronic_diseases": ListOf(Text(30), most=20),
}


def _resident(*, new: bool) -> Body:
    fields: dict[str, Field] = {
        **RESIDENT_TEXT, "phone": Phone(nullable=True), "village": regions_code(required=new),
        "key_populations": ListOf(Enum(values=KEY_POPULATIONS), most=20), "relation": Enum(values=RELATIONS),
    }
    if new:
        fields["name"] = Text(30, required=True)
        fields["id_number"] = _id_number(required=True)
    return Body.of("resident", fields)


NEW_RESIDENT = _resident(new=True)
RESIDENT_EDIT = _resident(new=False)
FAMILY_MEMBER = NEW_RESIDENT
RESIDENT_QUERY: dict[str, Field] = {
    "region": regions_code(), "village": regions_code(), "household": Search(40), "team_id": Id(),
    "doctor_id": Id(), "id_number": _id_number(), "name": Search(30), "phone": Code(pattern=r"^\d{1,11}$", most=11),
    "address": Search(), "status": Enum(values=tuple(STATUS_LABELS)), "tag": Id(),
    "key_population": Enum(values=KEY_POPULATIONS), "q": Search(),
}
SIGNING_QUERY: dict[str, Field] = {
    "status": Code(pattern=r"^[a-z,]{1,100}$", most=100, description="状态，逗号分隔可多选"), "doctor_id": Id(),
    "team_id": Id(), "mode": Enum(values=MODES), "resident_id": Id(), "id_number": _id_number(), "name": Search(30),
}

INSTITUTION = Body("institution", name=Text(60, required=True), kind=Enum(values=INSTITUTION_KINDS, required=True),
                   region=regions_code(required=True), address=Text(200),
                   phone=Code(pattern=r"^[0-9+() -]{0,30}$", most=30))


def _team(*, new: bool) -> Body:
    member = Body("team_member", user_id=Id(required=True), work_type=Enum(values=WORK_TYPES, nullable=True))
    fields: dict[str, Field] = {"name": Text(60, required=new), "contact": Text(60),
                                "specialty": Text(300, multiline=True), "members": ListOf(member, most=30),
                                "leader_id": Id(nullable=True)}
    if new:
        fields["institution_id"] = Id()
    return Body.of("team", fields)


TEAM = _team(new=True)
TEAM_EDIT = _team(new=False)
STAFF = Body("staff", role=Enum(values=STAFF_ROLES_BY_SYSADMIN, required=True), region=regions_code(),
             institution_id=Id(nullable=True), work_type=Enum(values=WORK_TYPES, nullable=True),
             username=Code(pattern=r"^[A-Za-z0-9._@-]{1,64}$", required=True), password=Secret(required=True),
             name=Text(30, required=True), phone=Phone(nullable=True), title=Text(30),
             profile=Text(500, multiline=True))
PACKAGE = Body("package", name=Text(40, required=True), kind=Enum(values=KINDS, required=True),
               items=ListOf(Body("package_item", name=Text(40, required=True), times_per_year=Int(least=0, most=365)),
                            most=50),
               term_years=Int(least=1, most=100), price_yuan=Number(least=0, most=1_000_000),
               description=Text(300, multiline=True))


def _terms() -> dict[str, Field]:
    return {"package_id": Id(nullable=True), "term_years": Int(least=1, most=100, nullable=True),
            "auto_renew": Bool()}


APPLICATION = Body("signing", resident_id=Id(required=True), team_id=Id(required=True),
                   doctor_id=Id(required=True), package_id=Id(nullable=True),
                   term_years=Int(least=1, most=100, nullable=True))
SIGNING_ENTRY = Body.of("signing", {"resident_id": Id(), "resident": _resident(new=True), **_terms()})


def batch_body(most: int) -> Body:
    # past the batch limit: the handler's own check names it
    return Body.of("signing", {"resident_ids": ListOf(Id(), most=10 * most, required=True), **_terms()})


# The reasons and notes of signing decisions are screened by the signing rules themselves (``signings``).
REASON = Body("signing_decision", reason=Text(200, multiline=True, screen=SCREEN_BY_SERVICE, required=True))
ACTION_BODY = Body("signing_decision", term_years=Int(least=1, most=100, nullable=True),
                   reason=Text(200, multiline=True, screen=SCREEN_BY_SERVICE))
UNABLE_REQUEST = Body("unable_request", resident_id=Id(required=True), kind=Enum(values=UNABLE_KINDS),
                      reason=Text(200, multiline=True, screen=SCREEN_BY_SERVICE, required=True))
UNABLE_NOTE = Body("unable_request", note=Text(200, multiline=True, screen=SCREEN_BY_SERVICE, nullable=True))


def tag_body(*, required: bool) -> Body:
    return Body("tag", name=Text(20, required=required))


def tags_body() -> Body:
    return Body("resident_tags", tags=ListOf(Id(), most=50, required=True))


def tag_apply_body() -> Body:
    return Body("tag", resident_ids=ListOf(Id(), most=10_000, required=True), remove=Bool())
