"""The follow-up schedules of the six populations of the 国家基本公共卫生服务规范（第三版）(2017), as one
declarative table (``SCHEDULES``), and the pure function that plans a resident's visits from it
(``plan_visits``): no I/O, no clock (``today`` is an argument), so a county can change a row and the tests can
replay any case.

Three kinds of schedule:

- ``Chronic`` (高血压, 糖尿病, 严重精神障碍): a rolling chain. The first visit is due within one routine interval
  of the anchor (the later of the diagnosis date and the date management began); each recorded follow-up closes
  the open visit and opens the next one, its window set by what the follow-up found (``judge_*``): routine in
  3 months, a recheck within 2 weeks, a referral followed within 2 weeks, an emergency referral. Annual
  health checks (``annual_checks``) are planned per calendar year besides.
- ``Annual`` (老年人 ≥ 65): one health-management service per calendar year, from the year of the 65th birthday
  (or the year management began, if later) to today's year.
- ``Fixed`` (孕产妇, 0–6 岁儿童): contacts at fixed ages or gestational weeks, each with a window; an abnormal
  antenatal or postnatal finding adds a referral visit within 2 weeks.

States of a visit (a provincial system's states, in English): ``planned`` (未开始: its window has not opened),
``due`` (待随访: today is in its window), ``overdue`` (逾期: the window closed without a visit), ``done``
(已完成), ``lost`` (失访) and ``cancelled`` (取消: management ended — 终止管理 — before it).

失访 (DOMAIN.md names the state, not its rule; this is the choice made here): a population's open visit is lost
when its last follow-up recorded the outcome 暂时失访, or, for the chronic populations, when the visit is more
than ``lost_after_days`` (90: a whole routine interval) past its window without a follow-up. A new follow-up
brings the resident back (its next visit is planned as usual). Fixed and annual contacts only go overdue: a
child who missed the 3-month check still has the 6-month one.

Windows where DOMAIN.md gives only a moment (choices, in the table): a month-age or year-age check of a child is
due within that month of age (from the day the age is reached to the day before one more month); the 42-day
postpartum check from day 42 to day 56 after delivery; the booking antenatal check from the last menstrual
period (expected delivery − 280 days) to the end of week 12. Months are calendar months, clamped to the end of
a shorter month (born 31 Aug → 3 months on 30 Nov; born 29 Feb → 1 year on 28 Feb).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

HYPERTENSION, DIABETES, MENTAL = "高血压", "糖尿病", "严重精神障碍"
ELDERLY, PREGNANCY, CHILD = "老年人", "孕产妇", "0-6岁儿童"
STATES = ("planned", "due", "overdue", "done", "lost", "cancelled")
STATE_LABELS = {"planned": "未开始", "due": "待随访", "overdue": "逾期", "done": "已完成", "lost": "失访",
                "cancelled": "取消"}
OUTCOMES = ("继续随访", "暂时失访", "终止管理")
END_REASONS = ("死亡", "迁出", "失访", "拒绝")
REASONS = {"complication": "出现新的并发症或原有并发症加重，转诊", "twice": "连续两次控制不满意或不良反应未控制，转诊",
           "first": "首次控制不满意或出现不良反应，2周内随访"}
PREGNANCY_DAYS = 280  # expected delivery date − 280 days = the first day of the last menstrual period
ELDERLY_AGE_YEARS = 65


# -- dates ----------------------------------------------------------------------------------------------------

def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Offset:
    """A distance from an anchor date: calendar months (years are 12), then days."""

    months: int = 0
    days: int = 0

    def after(self, anchor: date) -> date:
        return add_months(anchor, self.months) + timedelta(days=self.days)


def weeks(n: int, days: int = 0) -> Offset:
    return Offset(days=7 * n + days)


# -- what a follow-up found ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What one follow-up means for the next: its classification (the form's 1–4, or the mental-disorder
    stability), whether it counts as 不满意 for the two-in-a-row rule, and the next visit's window."""

    classification: str
    bad: bool = False
    refer: bool = False
    emergency: bool = False
    next_within: Offset | None = None  # a recheck or referral: within this time of the visit
    next_routine: Offset | None = None  # otherwise the routine interval
    reason: str = ""


def judge_hypertension(form: Mapping[str, Any], previous: Verdict | None, rules: Chronic) -> Verdict:
    sbp, dbp = form["sbp"], form["dbp"]
    limits = rules.limits
    emergency = sbp >= limits["sbp_emergency"] or dbp >= limits["dbp_emergency"]
    unsatisfied = sbp >= limits["sbp_target"] or dbp >= limits["dbp_target"]
    return _chronic_verdict(rules, previous, unsatisfied=unsatisfied, adverse=bool(form.get("adverse_reaction")),
                            complication=bool(form.get("complication")), emergency=emergency,
                            emergency_reason="收缩压≥180mmHg和/或舒张压≥110mmHg，紧急转诊")


def judge_diabetes(form: Mapping[str, Any], previous: Verdict | None, rules: Chronic) -> Verdict:
    glucose = form["fasting_glucose"]
    limits = rules.limits
    emergency = glucose >= limits["glucose_emergency_high"] or glucose <= limits["glucose_emergency_low"]
    return _chronic_verdict(rules, previous, unsatisfied=glucose >= limits["glucose_target"],
                            adverse=bool(form.get("adverse_reaction")), complication=bool(form.get("complication")),
                            emergency=emergency, emergency_reason="空腹血糖≥16.7mmol/L或≤3.9mmol/L，紧急转诊")


def _chronic_verdict(rules: Chronic, previous: Verdict | None, *, unsatisfied: bool, adverse: bool,
                     complication: bool, emergency: bool, emergency_reason: str) -> Verdict:
    """The shared rule of hypertension and diabetes (the form's 1 控制满意 · 2 控制不满意 · 3 不良反应 · 4 并发症)."""
    classification = ("并发症" if complication else "不良反应" if adverse else "控制不满意" if unsatisfied
                      else "控制满意")
    bad = unsatisfied or adverse
    within = rules.recheck
    if emergency:
        return Verdict(classification, bad=bad, refer=True, emergency=True, next_within=within,
                       reason=emergency_reason)
    if complication:
        return Verdict(classification, bad=bad, refer=True, next_within=within, reason=REASONS["complication"])
    if bad and previous is not None and previous.bad:
        return Verdict(classification, bad=True, refer=True, next_within=within, reason=REASONS["twice"])
    if bad:
        return Verdict(classification, bad=True, next_within=within, reason=REASONS["first"])
    return Verdict(classification, next_routine=rules.routine)


def judge_mental(form: Mapping[str, Any], previous: Verdict | None, rules: Chronic) -> Verdict:
    """不稳定 (danger level 3–5 or acute symptoms) → refer, follow within 2 weeks; 基本稳定 (level 1–2) → 2 weeks,
    then (a second 基本稳定 in a row) 1 month; 稳定 (level 0) → 3 months."""
    level = form["danger_level"]
    if level >= rules.limits["unstable_level"] or form.get("acute_symptoms"):
        return Verdict("不稳定", bad=True, refer=True, next_within=rules.recheck, reason="病情不稳定，转诊，2周内随访")
    if level >= rules.limits["basic_level"]:
        if previous is not None and previous.classification == "基本稳定":
            return Verdict("基本稳定", bad=True, next_routine=Offset(months=1), reason="基本稳定，1个月时随访")
        return Verdict("基本稳定", bad=True, next_within=rules.recheck, reason="基本稳定，观察2周后随访")
    return Verdict("稳定", next_routine=rules.routine)


# -- the table --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Chronic:
    label: str
    judge: Callable[[Mapping[str, Any], Verdict | None, Chronic], Verdict]
    limits: Mapping[str, float]
    routine: Offset = Offset(months=3)  # ≥ 4 face-to-face follow-ups a year
    per_year: int = 4
    recheck: Offset = Offset(days=14)  # "within 2 weeks"
    soon_days: int = 14  # a routine visit is due (待随访) this many days before its last day
    lost_after_days: int = 90
    annual_checks: int = 0  # health checks a year (done by a 健康体检 record)
    min_age: int = 35


@dataclass(frozen=True)
class Annual:
    label: str
    min_age: int = ELDERLY_AGE_YEARS


@dataclass(frozen=True)
class Contact:
    key: str
    label: str
    anchor: str  # "lmp", "delivery", "mother_discharge", "birth", "discharge"
    start: Offset
    end: Offset  # the last day of the window, from the same anchor


@dataclass(frozen=True)
class Fixed:
    label: str
    contacts: tuple[Contact, ...]
    abnormal_follow: Offset | None = None  # an abnormal finding → refer, follow within this


def _month_check(months: int, label: str) -> Contact:
    return Contact(f"m{months}", label, "birth", Offset(months=months), Offset(months=months + 1, days=-1))


SCHEDULES: dict[str, Chronic | Annual | Fixed] = {
    HYPERTENSION: Chronic("原发性高血压", judge_hypertension, annual_checks=1, limits={
        "sbp_target": 140, "dbp_target": 90, "sbp_emergency": 180, "dbp_emergency": 110}),
    DIABETES: Chronic("2型糖尿病", judge_diabetes, limits={
        "glucose_target": 7.0, "glucose_emergency_high": 16.7, "glucose_emergency_low": 3.9}),
    MENTAL: Chronic("严重精神障碍", judge_mental, annual_checks=1, min_age=0,
                    limits={"unstable_level": 3, "basic_level": 1}),
    ELDERLY: Annual("老年人健康管理"),
    PREGNANCY: Fixed("孕产妇健康管理", (
        Contact("antenatal1", "第1次产前检查（孕13周前）", "lmp", Offset(), weeks(13, -1)),
        Contact("antenatal2", "第2次产前检查（孕16–20周）", "lmp", weeks(16), weeks(21, -1)),
        Contact("antenatal3", "第3次产前检查（孕21–24周）", "lmp", weeks(21), weeks(25, -1)),
        Contact("antenatal4", "第4次产前检查（孕28–36周）", "lmp", weeks(28), weeks(37, -1)),
        Contact("antenatal5", "第5次产前检查（孕37–40周）", "lmp", weeks(37), weeks(41, -1)),
        Contact("postnatal", "产后访视（出院后1周内）", "mother_discharge", Offset(), Offset(days=7)),
        Contact("postpartum42", "产后42天健康检查", "delivery", Offset(days=42), Offset(days=56)),
    ), abnormal_follow=Offset(days=14)),
    CHILD: Fixed("0–6岁儿童健康管理", (
        Contact("newborn", "新生儿家庭访视（出院后1周内）", "discharge", Offset(), Offset(days=7)),
        Contact("d28", "满月健康管理（28–30天）", "birth", Offset(days=28), Offset(days=30)),
        _month_check(3, "3月龄健康检查"), _month_check(6, "6月龄健康检查"), _month_check(8, "8月龄健康检查"),
        _month_check(12, "12月龄健康检查"), _month_check(18, "18月龄健康检查"), _month_check(24, "24月龄健康检查"),
        _month_check(30, "30月龄健康检查"), _month_check(36, "36月龄健康检查"),
        Contact("y4", "4岁健康检查", "birth", Offset(months=48), Offset(months=49, days=-1)),
        Contact("y5", "5岁健康检查", "birth", Offset(months=60), Offset(months=61, days=-1)),
        Contact("y6", "6岁健康检查", "birth", Offset(months=72), Offset(months=73, days=-1)),
    )),
}
POPULATIONS = tuple(SCHEDULES)
CHECK_TYPE = "健康体检"  # the record type that completes an annual health check


# -- input and output -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dates:
    """What the schedules are anchored on. ``since``: the day management began (the plan's first day)."""

    since: date
    birth: date | None = None
    diagnosed: Mapping[str, date] = field(default_factory=dict)  # population → diagnosis date
    expected_delivery: date | None = None
    delivered: date | None = None
    mother_discharged: date | None = None
    discharged: date | None = None  # a newborn's discharge from hospital


@dataclass(frozen=True)
class FollowUp:
    """A recorded service act as the planner sees it: its population (None for a record of no population), day,
    record type, the follow-up form, and optionally the contact it was for."""

    id: str
    on: date
    population: str | None = None
    type: str = "定期随访"
    form: Mapping[str, Any] = field(default_factory=dict)
    contact: str | None = None


@dataclass(frozen=True)
class Visit:
    population: str
    key: str
    label: str
    earliest: date
    latest: date
    state: str = "planned"
    done_on: date | None = None
    record_id: str | None = None
    referral: bool = False
    emergency: bool = False
    reason: str = ""
    classification: str = ""  # of the follow-up that did it
    estimated: bool = False  # anchored on an expected date (expected delivery), not a known one

    def as_dict(self) -> dict[str, Any]:
        return {"population": self.population, "key": self.key, "label": self.label,
                "earliest": self.earliest.isoformat(), "latest": self.latest.isoformat(), "state": self.state,
                "state_label": STATE_LABELS[self.state], "done_on": self.done_on.isoformat() if self.done_on else None,
                "record_id": self.record_id, "referral": self.referral, "emergency": self.emergency,
                "reason": self.reason, "classification": self.classification, "estimated": self.estimated}


# -- planning ----------------------------------------------------------------------------------------------------

def plan_visits(populations: Iterable[str], dates: Dates, records: Sequence[FollowUp], today: date) -> list[Visit]:
    """Every visit of the resident's plan — done, open and to come — for the populations of the table among
    ``populations``, in date order (a done visit at its day, an open one at its last day). Records are replayed
    in date order (a record's id breaks ties)."""
    ordered = sorted(records, key=lambda r: (r.on, r.id))
    visits: list[Visit] = []
    for population in dict.fromkeys(populations):
        schedule = SCHEDULES.get(population)
        mine = [r for r in ordered if r.population == population and r.type != CHECK_TYPE]
        if isinstance(schedule, Chronic):
            visits += _chronic(population, schedule, dates, mine, ordered, today)
        elif isinstance(schedule, Annual):
            visits += _annual(population, dates, mine, ordered, today)
        elif isinstance(schedule, Fixed):
            visits += _fixed(population, schedule, dates, mine, today)
    return sorted(visits, key=lambda v: (v.done_on or v.latest, v.population, v.key))


def verdict_of(population: str, form: Mapping[str, Any], previous: Verdict | None) -> Verdict | None:
    """What one follow-up form of a chronic population means (None: not a chronic population)."""
    schedule = SCHEDULES.get(population)
    return schedule.judge(form, previous, schedule) if isinstance(schedule, Chronic) else None


def _state(visit: Visit, today: date, lost_after_days: int | None = None) -> str:
    if visit.done_on is not None:
        return "done"
    if today < visit.earliest:
        return "planned"
    if today <= visit.latest:
        return "due"
    if lost_after_days is not None and (today - visit.latest).days > lost_after_days:
        return "lost"
    return "overdue"


def _outcome(record: FollowUp) -> str:
    return str(record.form.get("outcome") or "继续随访")


def _chronic(population: str, rules: Chronic, dates: Dates, mine: list[FollowUp], every: list[FollowUp],
             today: date) -> list[Visit]:
    diagnosed = dates.diagnosed.get(population)
    anchor = max(dates.since, diagnosed) if diagnosed else dates.since
    visits: list[Visit] = []
    open_visit = Visit(population, "f1", f"{rules.label}第1次随访", anchor, rules.routine.after(anchor))
    previous: Verdict | None = None
    ended, lost = False, False
    for n, record in enumerate(mine, start=2):
        verdict = rules.judge(record.form, previous, rules)
        visits.append(replace(open_visit, state="done", done_on=record.on, record_id=record.id,
                              classification=verdict.classification))
        previous = verdict
        outcome = _outcome(record)
        ended, lost = outcome == "终止管理", outcome == "暂时失访"
        if ended:
            break
        if verdict.next_within is not None:
            earliest, latest = record.on + timedelta(days=1), verdict.next_within.after(record.on)
        else:
            latest = (verdict.next_routine or rules.routine).after(record.on)
            earliest = max(record.on + timedelta(days=1), latest - timedelta(days=rules.soon_days))
        label = f"{rules.label}{'转诊后' if verdict.refer else ''}第{n}次随访"
        open_visit = Visit(population, f"f{n}", label, earliest, latest, referral=verdict.refer,
                           emergency=verdict.emergency, reason=verdict.reason)
    if not ended:
        state = "lost" if lost else _state(open_visit, today, rules.lost_after_days)
        visits.append(replace(open_visit, state=state))
    for year in range(anchor.year, today.year + 1) if rules.annual_checks else ():
        visits.append(_annual_visit(population, f"{rules.label}年度健康体检", year, max(anchor, date(year, 1, 1)),
                                    [], every, today, ended_on=mine[-1].on if ended else None))
    return visits


def _annual(population: str, dates: Dates, mine: list[FollowUp], every: list[FollowUp], today: date
            ) -> list[Visit]:
    start = dates.since
    if dates.birth is not None:
        start = max(start, add_months(dates.birth, 12 * ELDERLY_AGE_YEARS))
    ended = next((r.on for r in mine if _outcome(r) == "终止管理"), None)
    return [_annual_visit(population, "老年人年度健康管理", year, max(start, date(year, 1, 1)), mine, every, today,
                          ended_on=ended) for year in range(start.year, today.year + 1)]


def _annual_visit(population: str, label: str, year: int, earliest: date, mine: list[FollowUp],
                  every: list[FollowUp], today: date, ended_on: date | None) -> Visit:
    visit = Visit(population, f"y{year}", f"{year}年{label}", earliest, date(year, 12, 31))
    own = {r.id for r in mine}
    found = next((r for r in every if earliest <= r.on <= visit.latest and (r.type == CHECK_TYPE or r.id in own)),
                 None)
    if found is not None:
        return replace(visit, state="done", done_on=found.on, record_id=found.id)
    if ended_on is not None and ended_on <= visit.latest:
        return replace(visit, state="cancelled")
    return replace(visit, state=_state(visit, today))


def _anchors(dates: Dates) -> dict[str, tuple[date, bool]]:
    """Anchor name → (day, estimated)."""
    found: dict[str, tuple[date, bool]] = {}
    if dates.expected_delivery is not None:
        found["lmp"] = (dates.expected_delivery - timedelta(days=PREGNANCY_DAYS), False)
    delivery = (dates.delivered, False) if dates.delivered else (dates.expected_delivery, True)
    if delivery[0] is not None:
        found["delivery"] = delivery  # type: ignore[assignment]
        found["mother_discharge"] = (dates.mother_discharged, False) if dates.mother_discharged else delivery  # type: ignore[assignment]
    if dates.birth is not None:
        found["birth"] = (dates.birth, False)
        found["discharge"] = (dates.discharged or dates.birth, False)
    return found


def _fixed(population: str, rules: Fixed, dates: Dates, mine: list[FollowUp], today: date) -> list[Visit]:
    anchors = _anchors(dates)
    planned = [Visit(population, c.key, c.label, c.start.after(anchors[c.anchor][0]),
                     c.end.after(anchors[c.anchor][0]), estimated=anchors[c.anchor][1])
               for c in rules.contacts if c.anchor in anchors]
    done: dict[str, FollowUp] = {}
    extra: list[Visit] = []
    ended: date | None = None
    for record in mine:
        waiting = extra[-1] if extra and extra[-1].done_on is None else None
        key = _match(planned, done, record, prefer_window=waiting is not None)
        if key is not None:
            done[key] = record
        elif waiting is not None:  # the follow-up of a referral
            extra[-1] = replace(waiting, done_on=record.on, record_id=record.id)
        if rules.abnormal_follow is not None and record.form.get("abnormal"):
            extra.append(Visit(population, f"referral{len(extra) + 1}", "异常转诊后随访", record.on + timedelta(days=1),
                               rules.abnormal_follow.after(record.on), referral=True,
                               reason="检查发现异常，转诊，2周内随访"))
        if _outcome(record) == "终止管理":
            ended = record.on
            break
    visits = []
    for visit in [*planned, *extra]:
        did = done.get(visit.key)
        if did is not None:
            visits.append(replace(visit, state="done", done_on=did.on, record_id=did.id))
        elif visit.done_on is not None:
            visits.append(replace(visit, state="done"))
        elif ended is not None and visit.latest >= ended:
            visits.append(replace(visit, state="cancelled"))
        else:
            visits.append(replace(visit, state=_state(visit, today)))
    return visits


def _match(planned: list[Visit], done: Mapping[str, FollowUp], record: FollowUp, *, prefer_window: bool = False
           ) -> str | None:
    """The contact a record completes: the one it names, else the open contact whose window holds its day, else
    (unless a referral's follow-up is awaited: ``prefer_window``) the latest open contact whose window has passed
    (a late visit), else the next one to come (an early one). A record naming a contact already done, or of no
    open contact, completes nothing (None)."""
    open_visits = [v for v in planned if v.key not in done]
    if record.contact is not None:
        return record.contact if any(v.key == record.contact for v in open_visits) else None
    within = [v for v in open_visits if v.earliest <= record.on <= v.latest]
    if within:
        return within[0].key
    if prefer_window:
        return None
    late = [v for v in open_visits if v.latest < record.on]
    if late:
        return late[-1].key
    early = [v for v in open_visits if v.earliest > record.on]
    return early[0].key if early else None


def restate(visit: Mapping[str, Any], today: date) -> str:
    """The state on ``today`` of a visit planned earlier (``Visit.as_dict``): done, cancelled and lost stay as
    planned (a 暂时失访 cannot be told from the dates); the others follow from the window, as ``plan_visits``
    would say."""
    if visit["state"] in ("done", "cancelled", "lost"):
        return str(visit["state"])
    schedule = SCHEDULES.get(visit["population"])
    lost_after = schedule.lost_after_days if isinstance(schedule, Chronic) and visit["key"].startswith("f") else None
    return _state(Visit(visit["population"], visit["key"], visit["label"], date.fromisoformat(visit["earliest"]),
                        date.fromisoformat(visit["latest"])), today, lost_after)


def populations_on(given: Iterable[str], birth: date | None, today: date) -> list[str]:
    """The populations of the table a resident is in today: those given (the roster's key populations), with
    老年人 and 0-6岁儿童 by age (an older record's key populations may predate a birthday)."""
    found = [p for p in given if p in SCHEDULES and p not in (ELDERLY, CHILD)]
    if birth is not None:
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        if age >= ELDERLY_AGE_YEARS:
            found.append(ELDERLY)
        if age <= 6:
            found.append(CHILD)
    return found
