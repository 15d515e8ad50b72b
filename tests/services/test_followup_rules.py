"""The follow-up schedule engine (``plugins/services/followups.py``) against a table of cases written from
``../shared/DOMAIN.md`` (国家基本公共卫生服务规范（第三版）): the six populations, the re-planning rules, the
states, and edge cases of dates (leap days, month ends) and of a resident in two populations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from plugins.services.followups import (
    CHILD,
    DIABETES,
    ELDERLY,
    HYPERTENSION,
    MENTAL,
    PREGNANCY,
    SCHEDULES,
    Dates,
    FollowUp,
    Visit,
    add_months,
    plan_visits,
    populations_on,
    restate,
)

D = date.fromisoformat
SINCE = D("2026-01-10")


def hp(day: str, sbp: int, dbp: int, **form: object) -> FollowUp:
    return FollowUp(f"r{day}", D(day), HYPERTENSION, form={"sbp": sbp, "dbp": dbp, **form})


def dm(day: str, glucose: float, **form: object) -> FollowUp:
    return FollowUp(f"r{day}", D(day), DIABETES, form={"fasting_glucose": glucose, **form})


def sm(day: str, level: int, **form: object) -> FollowUp:
    return FollowUp(f"r{day}", D(day), MENTAL, form={"danger_level": level, **form})


def chain(population: str, records: list[FollowUp], today: str = "2026-02-01", **dates: object) -> list[Visit]:
    """The follow-up visits (not the annual checks) of one chronic population."""
    found = plan_visits([population], Dates(since=SINCE, **dates), records, D(today))  # type: ignore[arg-type]
    return [v for v in found if v.key.startswith("f")]


def last(visits: list[Visit]) -> Visit:
    return visits[-1]


# -- hypertension and diabetes: the shared rule ------------------------------------------------------------------

def test_a_new_patient_is_due_within_one_routine_interval() -> None:
    visits = chain(HYPERTENSION, [], diagnosed={HYPERTENSION: D("2025-06-01")})
    assert [(v.key, v.earliest, v.latest, v.state) for v in visits] == [("f1", SINCE, D("2026-04-10"), "due")]


def test_a_recent_diagnosis_anchors_the_first_visit() -> None:
    visits = chain(HYPERTENSION, [], diagnosed={HYPERTENSION: D("2026-01-20")})
    assert (visits[0].earliest, visits[0].latest, visits[0].state) == (D("2026-01-20"), D("2026-04-20"), "due")


HYPERTENSION_CASES = [
    # (records, expected next visit: days after the last record to its latest day, referral, emergency, class)
    ([hp("2026-01-15", 130, 80)], "routine", False, False, "控制满意"),
    ([hp("2026-01-15", 139, 89)], "routine", False, False, "控制满意"),
    ([hp("2026-01-15", 140, 80)], 14, False, False, "控制不满意"),
    ([hp("2026-01-15", 120, 90)], 14, False, False, "控制不满意"),
    ([hp("2026-01-15", 130, 80, adverse_reaction=True)], 14, False, False, "不良反应"),
    ([hp("2026-01-15", 150, 95), hp("2026-01-25", 150, 92)], 14, True, False, "控制不满意"),
    ([hp("2026-01-15", 130, 80, adverse_reaction=True), hp("2026-01-25", 128, 80, adverse_reaction=True)],
     14, True, False, "不良反应"),
    ([hp("2026-01-15", 150, 95), hp("2026-01-25", 130, 80)], "routine", False, False, "控制满意"),
    ([hp("2026-01-15", 150, 95), hp("2026-01-25", 130, 80), hp("2026-04-20", 150, 95)], 14, False, False,
     "控制不满意"),  # not in a row: a satisfied visit between
    ([hp("2026-01-15", 130, 80, complication=True)], 14, True, False, "并发症"),
    ([hp("2026-01-15", 180, 80)], 14, True, True, "控制不满意"),
    ([hp("2026-01-15", 120, 110)], 14, True, True, "控制不满意"),
    ([hp("2026-01-15", 179, 109)], 14, False, False, "控制不满意"),
]


@pytest.mark.parametrize(("records", "within", "referral", "emergency", "classification"), HYPERTENSION_CASES)
def test_hypertension_replanning(records: list[FollowUp], within: object, referral: bool, emergency: bool,
                                 classification: str) -> None:
    visits = chain(HYPERTENSION, records, today=records[-1].on.isoformat())
    assert [v.state for v in visits[:-1]] == ["done"] * len(records)
    assert visits[-2].classification == classification
    nxt, seen = visits[-1], records[-1].on
    if within == "routine":
        assert (nxt.earliest, nxt.latest) == (add_months(seen, 3) - timedelta(days=14), add_months(seen, 3))
    else:
        assert (nxt.earliest, nxt.latest) == (seen + timedelta(days=1), seen + timedelta(days=14))
    assert (nxt.referral, nxt.emergency) == (referral, emergency)
    assert nxt.key == f"f{len(records) + 1}"


DIABETES_CASES = [
    ([dm("2026-01-15", 6.9)], "routine", False, False),
    ([dm("2026-01-15", 4.0)], "routine", False, False),
    ([dm("2026-01-15", 7.0)], 14, False, False),
    ([dm("2026-01-15", 6.0, adverse_reaction=True)], 14, False, False),
    ([dm("2026-01-15", 8.1), dm("2026-01-26", 7.4)], 14, True, False),
    ([dm("2026-01-15", 16.7)], 14, True, True),
    ([dm("2026-01-15", 3.9)], 14, True, True),
    ([dm("2026-01-15", 6.5, complication=True)], 14, True, False),
]


@pytest.mark.parametrize(("records", "within", "referral", "emergency"), DIABETES_CASES)
def test_diabetes_replanning(records: list[FollowUp], within: object, referral: bool, emergency: bool) -> None:
    nxt, seen = last(chain(DIABETES, records)), records[-1].on
    expected_latest = add_months(seen, 3) if within == "routine" else seen + timedelta(days=14)
    assert (nxt.latest, nxt.referral, nxt.emergency) == (expected_latest, referral, emergency)


MENTAL_CASES = [
    # (levels in order, acute symptoms at the last, expected latest after the last, referral, classification)
    ([0], False, ("months", 3), False, "稳定"),
    ([2], False, ("days", 14), False, "基本稳定"),
    ([1, 2], False, ("months", 1), False, "基本稳定"),  # not stable after the 2 weeks → 1 month
    ([2, 0], False, ("months", 3), False, "稳定"),  # stable after the 2 weeks → 3 months
    ([3], False, ("days", 14), True, "不稳定"),
    ([5], False, ("days", 14), True, "不稳定"),
    ([0], True, ("days", 14), True, "不稳定"),
]


@pytest.mark.parametrize(("levels", "acute", "expected", "referral", "classification"), MENTAL_CASES)
def test_severe_mental_disorder_replanning(levels: list[int], acute: bool, expected: tuple[str, int],
                                           referral: bool, classification: str) -> None:
    days = ["2026-01-15", "2026-01-29", "2026-02-26"]
    records = [sm(days[i], level) for i, level in enumerate(levels)]
    records[-1] = sm(days[len(levels) - 1], levels[-1], acute_symptoms=acute)
    visits = chain(MENTAL, records, today="2026-03-01")
    seen = records[-1].on
    unit, amount = expected
    latest = add_months(seen, amount) if unit == "months" else seen + timedelta(days=amount)
    assert (visits[-1].latest, visits[-1].referral, visits[-2].classification) == (latest, referral, classification)


def test_every_chronic_schedule_asks_four_follow_ups_a_year() -> None:
    for population in (HYPERTENSION, DIABETES, MENTAL):
        rules = SCHEDULES[population]
        assert rules.per_year == 4 and add_months(D("2026-01-01"), 12 // rules.per_year) == D("2026-04-01")  # type: ignore[union-attr]


# -- states -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "state"), [("2026-01-31", "planned"), ("2026-02-01", "due"),
                                               ("2026-04-15", "due"), ("2026-04-16", "overdue"),
                                               ("2026-07-14", "overdue"), ("2026-07-15", "lost")])
def test_states_of_a_routine_visit(today: str, state: str) -> None:
    # seen 2026-01-15 satisfied: next due by 2026-04-15, 待随访 from 14 days before; 失访 90 days after.
    visits = chain(HYPERTENSION, [hp("2026-01-15", 120, 80)], today=today)
    if D(today) < D("2026-04-01"):
        state = "planned" if state == "due" else state
    assert visits[-1].state == state


def test_outcome_lost_and_return() -> None:
    lost = chain(DIABETES, [dm("2026-01-15", 6.0, outcome="暂时失访")], today="2026-01-20")
    assert lost[-1].state == "lost"
    back = chain(DIABETES, [dm("2026-01-15", 6.0, outcome="暂时失访"), dm("2026-03-01", 6.2)], today="2026-03-02")
    assert back[-1].state == "planned" and back[-1].latest == D("2026-06-01")


def test_end_of_management_cancels_what_is_left() -> None:
    found = plan_visits([HYPERTENSION], Dates(since=SINCE),
                        [hp("2026-01-15", 120, 80, outcome="终止管理", end_reason="迁出")], D("2026-02-01"))
    assert [(v.key, v.state) for v in found] == [("f1", "done"), ("y2026", "cancelled")]


def test_an_annual_health_check_for_hypertension_and_mental_disorders() -> None:
    check = FollowUp("c1", D("2026-05-05"), HYPERTENSION, type="健康体检")
    found = plan_visits([HYPERTENSION, MENTAL], Dates(since=D("2025-03-01")), [check], D("2026-06-01"))
    checks = {(v.population, v.key): v.state for v in found if v.key.startswith("y")}
    assert checks == {(HYPERTENSION, "y2025"): "overdue", (HYPERTENSION, "y2026"): "done",
                      (MENTAL, "y2025"): "overdue", (MENTAL, "y2026"): "done"}
    # a check is not a follow-up: the first follow-up (due by 2025-06-01) is still open, a year late: 失访
    assert [v.state for v in found if v.population == HYPERTENSION and v.key == "f1"] == ["lost"]


# -- the elderly --------------------------------------------------------------------------------------------

def test_elderly_once_a_year_from_the_65th_birthday() -> None:
    found = plan_visits([ELDERLY], Dates(since=D("2024-05-01"), birth=D("1950-07-01")),
                        [FollowUp("e1", D("2025-07-20"), ELDERLY)], D("2026-02-01"))
    assert [(v.key, v.earliest, v.latest, v.state) for v in found] == [
        ("y2024", D("2024-05-01"), D("2024-12-31"), "overdue"), ("y2025", D("2025-01-01"), D("2025-12-31"), "done"),
        ("y2026", D("2026-01-01"), D("2026-12-31"), "due")]


def test_elderly_turning_65_this_year() -> None:
    found = plan_visits([ELDERLY], Dates(since=D("2025-06-01"), birth=D("1961-03-15")), [], D("2026-02-01"))
    assert [(v.key, v.earliest, v.state) for v in found] == [("y2026", D("2026-03-15"), "planned")]


def test_elderly_born_on_a_leap_day() -> None:
    found = plan_visits([ELDERLY], Dates(since=D("2020-01-01"), birth=D("1960-02-29")), [], D("2025-03-01"))
    assert [(v.key, v.earliest) for v in found] == [("y2025", D("2025-02-28"))]


# -- pregnant women -----------------------------------------------------------------------------------------

def test_antenatal_postnatal_and_42_day_checks() -> None:
    edd = D("2026-10-01")
    lmp = edd - timedelta(days=280)
    found = plan_visits([PREGNANCY], Dates(since=D("2026-01-05"), expected_delivery=edd, delivered=D("2026-09-28"),
                                           mother_discharged=D("2026-10-01")), [], D("2026-02-01"))
    windows = {v.key: (v.earliest, v.latest) for v in found}
    week = timedelta(weeks=1)
    assert windows == {
        "antenatal1": (lmp, lmp + 13 * week - timedelta(days=1)),
        "antenatal2": (lmp + 16 * week, lmp + 21 * week - timedelta(days=1)),
        "antenatal3": (lmp + 21 * week, lmp + 25 * week - timedelta(days=1)),
        "antenatal4": (lmp + 28 * week, lmp + 37 * week - timedelta(days=1)),
        "antenatal5": (lmp + 37 * week, lmp + 41 * week - timedelta(days=1)),
        "postnatal": (D("2026-10-01"), D("2026-10-08")),
        "postpartum42": (D("2026-11-09"), D("2026-11-23")),
    }
    assert lmp == D("2025-12-25") and {v.key: v.state for v in found}["antenatal1"] == "due"
    assert not any(v.estimated for v in found)


def test_postnatal_visits_estimated_from_the_expected_date_before_delivery() -> None:
    found = plan_visits([PREGNANCY], Dates(since=D("2026-01-05"), expected_delivery=D("2026-10-01")), [],
                        D("2026-02-01"))
    post = {v.key: v for v in found if v.key.startswith("post")}
    assert post["postnatal"].estimated and post["postnatal"].earliest == D("2026-10-01")
    assert post["postpartum42"].earliest == D("2026-11-12")


def test_an_abnormal_antenatal_check_is_referred_and_followed_within_two_weeks() -> None:
    edd = D("2026-10-01")
    records = [FollowUp("p1", D("2026-03-01"), PREGNANCY),
               FollowUp("p2", D("2026-04-20"), PREGNANCY, form={"abnormal": True}),
               FollowUp("p3", D("2026-05-25"), PREGNANCY)]  # after the 16–20 window, before 21–24's end
    found = plan_visits([PREGNANCY], Dates(since=D("2026-01-05"), expected_delivery=edd), records,
                        D("2026-05-26"))
    by_key = {v.key: v for v in found}
    assert by_key["antenatal1"].record_id == "p1" and by_key["antenatal2"].record_id == "p2"
    referral = by_key["referral1"]
    assert (referral.earliest, referral.latest, referral.referral) == (D("2026-04-21"), D("2026-05-04"), True)
    assert referral.state == "overdue"  # p3 came three weeks later: it is the 21–24 week check
    assert by_key["antenatal3"].record_id == "p3"


def test_the_referral_follow_up_done_between_contacts() -> None:
    records = [FollowUp("p2", D("2026-04-20"), PREGNANCY, form={"abnormal": True}),
               FollowUp("p3", D("2026-05-27"), PREGNANCY)]  # in 21–24's window: that contact
    records[1:1] = [FollowUp("px", D("2026-05-01"), PREGNANCY)]  # 2026-05-01 is in 16–20 too (open? no: done)
    found = plan_visits([PREGNANCY], Dates(since=D("2026-01-05"), expected_delivery=D("2026-10-01")), records,
                        D("2026-05-28"))
    by_key = {v.key: v for v in found}
    assert by_key["referral1"].record_id == "px" and by_key["referral1"].state == "done"


# -- children 0–6 -------------------------------------------------------------------------------------------

def test_thirteen_contacts_of_a_child_born_at_a_month_end() -> None:
    found = plan_visits([CHILD], Dates(since=D("2024-09-01"), birth=D("2024-08-31"), discharged=D("2024-09-03")),
                        [], D("2024-09-05"))
    windows = {v.key: (v.earliest, v.latest) for v in found}
    assert len(found) == 13
    assert windows["newborn"] == (D("2024-09-03"), D("2024-09-10"))
    assert windows["d28"] == (D("2024-09-28"), D("2024-09-30"))
    assert windows["m3"] == (D("2024-11-30"), D("2024-12-30"))
    assert windows["m6"] == (D("2025-02-28"), D("2025-03-30"))
    assert windows["m8"] == (D("2025-04-30"), D("2025-05-30"))
    assert windows["m12"][0] == D("2025-08-31") and windows["y6"][0] == D("2030-08-31")
    assert {v.key: v.state for v in found}["newborn"] == "due"


def test_a_child_born_on_a_leap_day() -> None:
    found = plan_visits([CHILD], Dates(since=D("2020-03-01"), birth=D("2020-02-29")), [], D("2020-03-01"))
    starts = {v.key: v.earliest for v in found}
    assert starts["newborn"] == D("2020-02-29")  # no discharge date: from birth
    assert (starts["m12"], starts["y4"], starts["y5"], starts["y6"]) == (
        D("2021-02-28"), D("2024-02-29"), D("2025-02-28"), D("2026-02-28"))


def test_child_checks_done_late_early_and_by_name() -> None:
    birth = D("2025-01-10")
    records = [FollowUp("a", D("2025-01-14"), CHILD), FollowUp("b", D("2025-04-20"), CHILD),  # m3: late
               FollowUp("c", D("2025-06-30"), CHILD, contact="m6"),  # named, before its window
               FollowUp("d", D("2025-07-01"), CHILD, contact="m6")]  # named again: completes nothing
    found = plan_visits([CHILD], Dates(since=birth, birth=birth), records, D("2025-07-02"))
    done = {v.key: v.record_id for v in found if v.state == "done"}
    assert done == {"newborn": "a", "m3": "b", "m6": "c"}
    assert {v.key: v.state for v in found}["d28"] == "overdue"


# -- two populations, and who is in them -------------------------------------------------------------------

def test_a_resident_in_two_populations() -> None:
    dates = Dates(since=D("2026-01-01"), birth=D("1955-05-05"), diagnosed={HYPERTENSION: D("2019-01-01")})
    records = [hp("2026-02-01", 150, 95), FollowUp("chk", D("2026-03-01"), None, type="健康体检")]
    found = plan_visits([HYPERTENSION, ELDERLY], dates, records, D("2026-03-02"))
    by = {(v.population, v.key): v for v in found}
    assert by[(HYPERTENSION, "f1")].record_id == "r2026-02-01"
    assert by[(HYPERTENSION, "f2")].latest == D("2026-02-15") and by[(HYPERTENSION, "f2")].state == "overdue"
    assert by[(HYPERTENSION, "y2026")].record_id == "chk" and by[(ELDERLY, "y2026")].record_id == "chk"
    assert [v.done_on or v.latest for v in found] == sorted(v.done_on or v.latest for v in found)


def test_populations_by_age() -> None:
    given = [HYPERTENSION, "残疾人"]
    assert populations_on(given, D("1961-02-01"), D("2026-02-01")) == [HYPERTENSION, ELDERLY]
    assert populations_on(given, D("1961-02-01"), D("2026-01-31")) == [HYPERTENSION]
    assert populations_on([], D("2019-02-01"), D("2026-01-31")) == [CHILD]
    assert populations_on([CHILD], D("2019-02-01"), D("2026-02-01")) == []  # 7 today


def test_a_stored_plan_restated_on_a_later_day() -> None:
    planned = chain(HYPERTENSION, [hp("2026-01-15", 120, 80)], today="2026-01-16")[-1].as_dict()
    assert planned["state"] == "planned"
    assert [restate(planned, D(day)) for day in ("2026-03-31", "2026-04-01", "2026-04-16", "2026-07-15")] == [
        "planned", "due", "overdue", "lost"]
    lost = chain(DIABETES, [dm("2026-01-15", 6.0, outcome="暂时失访")], today="2026-01-20")[-1].as_dict()
    assert restate(lost, D("2026-01-21")) == "lost"  # an outcome, not a date: it stays
    child = plan_visits([CHILD], Dates(since=D("2025-01-10"), birth=D("2025-01-10")), [], D("2025-01-10"))[-1]
    assert restate(child.as_dict(), D("2035-01-01")) == "overdue"  # fixed contacts never go 失访 by date
