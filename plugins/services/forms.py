"""The declared input of the services plugin (``hub.schema``), with the follow-up forms of the six populations:
one ``followup`` object declares every field a form may carry, and ``check_form`` holds each population to its
own fields (those of ``FORM_FIELDS``) and requires the measurements its rules judge (``REQUIRED``)."""

from __future__ import annotations

from typing import Any

from hub import Body, Bool, Code, Day, Enum, Field, Id, Int, InvalidInput, ListOf, Moment, Number, Text
from hub.schema import PAGE
from plugins.services.catalogue import RECORD_TYPES
from plugins.services.followups import (
    CHILD,
    DIABETES,
    ELDERLY,
    END_REASONS,
    HYPERTENSION,
    MENTAL,
    OUTCOMES,
    POPULATIONS,
    PREGNANCY,
)

SYMPTOMS = ("无症状", "头痛头晕", "恶心呕吐", "眼花耳鸣", "呼吸困难", "心悸胸闷", "鼻衄出血不止", "四肢发麻",
            "下肢水肿", "多饮", "多食", "多尿", "视力模糊", "感染", "手脚麻木", "体重明显下降", "其他")
ADHERENCE = ("规律", "间断", "不服药", "拒绝服药")

COMMON: dict[str, Field] = {
    "way": Enum(values=("门诊", "家庭", "电话")), "symptoms": ListOf(Enum(values=SYMPTOMS), most=len(SYMPTOMS)),
    "outcome": Enum(values=OUTCOMES), "end_reason": Enum(values=END_REASONS),
    "adverse_reaction": Bool(), "complication": Bool(), "medication_adherence": Enum(values=ADHERENCE),
    "drugs": Text(200, multiline=True), "referral_reason": Text(100), "referral_to": Text(60),
    "advice": Text(300, multiline=True), "contact": Code(pattern=r"^[a-z0-9]{1,20}$", most=20),
}
BLOOD_PRESSURE: dict[str, Field] = {"sbp": Int(least=40, most=300), "dbp": Int(least=20, most=200),
                                    "heart_rate": Int(least=20, most=250), "weight_kg": Number(least=0, most=300)}
LIFESTYLE: dict[str, Field] = {"smoking_per_day": Int(least=0, most=100),
                               "drinking_liang_per_day": Number(least=0, most=50),
                               "exercise_times_per_week": Int(least=0, most=50),
                               "salt": Enum(values=("轻", "中", "重"))}
GLUCOSE: dict[str, Field] = {"fasting_glucose": Number(least=0, most=50),
                             "postprandial_glucose": Number(least=0, most=50),
                             "hba1c": Number(least=2, most=25), "staple_food_g": Int(least=0, most=5000)}
OWN_FIELDS: dict[str, dict[str, Field]] = {
    HYPERTENSION: {**BLOOD_PRESSURE, **LIFESTYLE},
    DIABETES: {**BLOOD_PRESSURE, **LIFESTYLE, **GLUCOSE},
    MENTAL: {"danger_level": Int(least=0, most=5), "acute_symptoms": Bool(),
             "insight": Enum(values=("自知力完全", "自知力不全", "自知力缺失"))},
    ELDERLY: {**BLOOD_PRESSURE, "self_care": Enum(values=("可自理", "轻度依赖", "中度依赖", "不能自理"))},
    PREGNANCY: {**BLOOD_PRESSURE, "gestational_week": Int(least=0, most=45), "abnormal": Bool()},
    CHILD: {"weight_kg": Number(least=0, most=100), "height_cm": Number(least=20, most=200), "abnormal": Bool()},
}
REQUIRED: dict[str, tuple[str, ...]] = {HYPERTENSION: ("sbp", "dbp"), DIABETES: ("fasting_glucose",),
                                        MENTAL: ("danger_level",), ELDERLY: (), PREGNANCY: ("abnormal",),
                                        CHILD: ()}
FORM_FIELDS = {population: {**COMMON, **own} for population, own in OWN_FIELDS.items()}
# The declared union: for a name several forms share, the first population's field (the adults' widest bounds).
ALL_FORM_FIELDS: dict[str, Field] = {}
for _fields in FORM_FIELDS.values():
    for _name, _kind in _fields.items():
        ALL_FORM_FIELDS.setdefault(_name, _kind)
FOLLOWUP_FORM = Body.of("service_followup", ALL_FORM_FIELDS)


def check_form(population: str, form: dict[str, Any]) -> dict[str, Any]:
    """A population's form: only its own fields, its measurements present, an end of management with a reason."""
    allowed = FORM_FIELDS[population]
    stray = sorted(set(form) - set(allowed))
    if stray:
        raise InvalidInput(f"该人群的随访表没有字段：{'、'.join(stray)}", field=f"followup.{stray[0]}",
                           reason="not_in_form", population=population)
    for name, value in form.items():  # the union's bounds may be wider than this population's (a child's weight)
        if value is not None:
            allowed[name].check(value, f"followup.{name}")
    for name in REQUIRED[population]:
        if form.get(name) is None:
            raise InvalidInput(f"followup.{name} 必填", field=f"followup.{name}", reason="required",
                               population=population)
    if form.get("outcome") == "终止管理" and not form.get("end_reason"):
        raise InvalidInput("终止管理须填写原因", field="followup.end_reason", reason="required")
    return form


def _record_fields(*, new: bool) -> dict[str, Field | Body]:
    fields: dict[str, Field | Body] = {
        "type": Enum(values=RECORD_TYPES, required=new), "item": Text(40), "at": Moment(required=new),
        "place": Text(100), "content": Text(2000, multiline=True, required=new),
        "followup": FOLLOWUP_FORM,
    }
    if new:
        fields["resident_id"] = Id(required=True)
        fields["population"] = Enum(values=POPULATIONS)
    return fields


NEW_RECORD = Body.of("service_record", _record_fields(new=True))
RECORD_EDIT = Body.of("service_record", {k: v for k, v in _record_fields(new=False).items() if k != "type"})
CORRECTION = Body.of("service_correction", {**RECORD_EDIT.fields, "reason": Text(200, multiline=True, required=True)})
RECORD_QUERY: dict[str, Field] = {"resident_id": Id(), "population": Enum(values=POPULATIONS),
                                  "type": Enum(values=RECORD_TYPES), **PAGE}
PLAN_DATES = Body("service_plan", hypertension_diagnosed=Day(nullable=True), diabetes_diagnosed=Day(nullable=True),
                  mental_diagnosed=Day(nullable=True), expected_delivery=Day(nullable=True),
                  delivered=Day(nullable=True), mother_discharged=Day(nullable=True),
                  discharged=Day(nullable=True))
DIAGNOSED_FIELDS = {"hypertension_diagnosed": HYPERTENSION, "diabetes_diagnosed": DIABETES,
                    "mental_diagnosed": MENTAL}
NEW_REQUEST = Body("service_request", resident_id=Id(required=True), item=Text(40, required=True),
                   preferred_at=Moment(), note=Text(300, multiline=True))
REQUEST_STATES = ("pending", "accepted", "scheduled", "completed", "declined", "cancelled")
REQUEST_QUERY: dict[str, Field] = {"resident_id": Id(), "status": Enum(values=REQUEST_STATES), **PAGE}
REQUEST_STEP = {
    "accept": Body("service_request_step", note=Text(300, multiline=True)),
    "schedule": Body("service_request_step", scheduled_at=Moment(required=True), note=Text(300, multiline=True)),
    "complete": Body("service_request_step", record_id=Id(), note=Text(300, multiline=True)),
    "decline": Body("service_request_step", reason=Text(200, multiline=True, required=True)),
    "cancel": Body("service_request_step", note=Text(300, multiline=True)),
}
