"""Validation of a criteria-set document (one parsed YAML file).

The format's rules (``scoring/data/criteria/INDEX.md``) with the messages of the criteria
data's original validator, plus the structural checks the database needs:

* parts are exactly A, B, C with the regime's maxima (40/25/35; 1048: 35/25/40), summing to
  the regime total; a "(NN Điểm)" in a part title equals the part max; max_score is 100;
* sections sum to their part, criteria and criterion groups to their section, sub-criteria
  to their group;
* every criterion has options with numeric points and its max is its best option (per case;
  a case max, when given, equals its best option);
* ``min_star`` (option or criterion) is 3, 4 or 5 and never lower on a higher-scoring option;
* ``status`` is published or unresolved, consistent with the ``unresolved`` reasons.

Warnings (never refuse a file), as in validate.py: options not ascending, equal points or
equal star marks in a criterion, ``mandatory_for_stars`` not matching the marks, duplicate
criterion codes, raw fields left in place; and (new here) keys the schema does not know,
which the loader ignores.

One rule is stricter than validate.py: a criterion code repeated in a file is only a warning
when the codes are the 148 letter codes ("3.c"), as printed by the 148 transcription (sets
13, 18 and 19 repeat them). A numeric code ("3.2", "6.1.2", the 26/2026 style) *is* the
printed position of the row, so a repeat means two rows claim the same place: an error.

Each issue names the file, the element (a criterion by its position and printed code, e.g.
``criterion A.1.3 (1.3)``) and the reason. Issues are either *structural* (the file cannot
be stored: refused whatever its status) or *content* errors — the arithmetic and missing
values that validate.py tolerates in a file marked ``status: unresolved`` (such a file loads
as a draft and is not scorable).
"""

import re
from dataclasses import dataclass, field

DEFAULT_PART_MAX = {"A": 40, "B": 25, "C": 35}
STAR_MARKS = (3, 4, 5)
RE_POINTS_IN_TITLE = re.compile(r"\((\d+)\s*Điểm\)", re.I)
RE_NUMERIC_CODE = re.compile(r"^\d+(\.\d+)+$")
#: Largest value a points/max column can hold (Decimal(5, 2)).
POINTS_LIMIT = 1000
#: Column sizes of the models (see scoring/models.py).
CODE_LENGTH = {"part": 2, "section": 10, "group": 20, "criterion": 20, "case": 10}


#: Keys of the YAML schema (criteria/INDEX.md); others are reported as warnings (ignored).
SCHEMA_KEYS = {
    "document": {"status", "unresolved", "source", "criteria_set", "disqualification",
                 "product_code_format", "star_rule", "notes", "parts"},
    "part": {"code", "title", "max", "max_raw", "notes", "erratum", "data_warning", "sections"},
    "section": {"code", "title", "max", "max_raw", "notes", "erratum", "data_warning",
                "criterion_groups", "criteria"},
    "group": {"code", "title", "max", "max_raw", "notes", "erratum", "data_warning"},
    "criterion": {"code", "title", "group", "implicit", "max", "max_raw", "min_star", "notes",
                  "mandatory_for_stars", "cases", "erratum", "data_warning", "options"},
    "option": {"label", "points", "points_raw", "min_star", "case", "erratum", "data_warning"},
}


@dataclass(frozen=True)
class Issue:
    file: str
    where: str
    message: str
    structural: bool = False

    def __str__(self):
        prefix = f"{self.file}: " if self.file else ""
        return f"{prefix}{self.where}: {self.message}" if self.where else prefix + self.message


@dataclass
class Validation:
    file: str
    status: object = None
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def unresolved(self):
        return self.status == "unresolved"

    @property
    def blocking(self):
        """Errors that refuse the file: all of them for a published file, the structural
        ones for a file marked unresolved."""
        if self.unresolved:
            return [e for e in self.errors if e.structural]
        return list(self.errors)

    @property
    def tolerated(self):
        """Content errors accepted because the file is marked unresolved."""
        return [e for e in self.errors if not e.structural] if self.unresolved else []

    @property
    def ok(self):
        return not self.blocking


def fmt(v):
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def criterion_position(part_code, section_code, index):
    """``A.3.2``: part, section code, 1-based place of the criterion in its section."""
    return f"{part_code}.{section_code}.{index}"


def criterion_where(position, code):
    return f"criterion {position} ({code})"


def iter_criteria(doc):
    """Yield (part, section, criterion, position) in file order."""
    for p in doc.get("parts") or []:
        for s in p.get("sections") or []:
            for i, c in enumerate(s.get("criteria") or [], start=1):
                yield p, s, c, criterion_position(p.get("code"), s.get("code"), i)


class _Checker:
    def __init__(self, file, part_max):
        self.file = file
        self.part_max = dict(part_max)
        self.result = Validation(file)

    def error(self, where, message, structural=False):
        self.result.errors.append(Issue(self.file, where, message, structural))

    def warn(self, where, message):
        self.result.warnings.append(Issue(self.file, where, message))

    # -- validate.py: check_criterion -----------------------------------------------------
    def criterion(self, c, tag):
        cm = c.get("max")
        opts = c.get("options") or []
        if not isinstance(opts, list) or not all(isinstance(o, dict) for o in opts):
            self.error(tag, "options must be a list of mappings", structural=True)
            return
        if not opts:
            self.error(tag, f"no answer options (max {fmt(cm)}) -- cannot be scored")
            return
        case_list = c.get("cases") or []
        case_codes_known = {k.get("code") for k in case_list if isinstance(k, dict)}
        for n, o in enumerate(opts, start=1):
            label = str(o.get("label", ""))[:70]
            otag = f"option {n} '{label}'"
            self.keys("option", o, f"{tag} {otag}")
            if not str(o.get("label") or "").strip():
                self.error(tag, f"option {n} has no label", structural=True)
            points = o.get("points")
            if not is_num(points):
                raw = o.get("points_raw")
                self.error(tag, f"{otag} has no numeric points"
                           + (f" (printed: '{raw}')" if raw not in (None, "") else ""))
            elif abs(points) >= POINTS_LIMIT or round(points, 2) != points:
                self.error(tag, f"{otag} points {fmt(points)} do not fit 2 decimals below "
                           f"{POINTS_LIMIT}", structural=True)
            if "min_star" in o and o["min_star"] not in STAR_MARKS:
                self.error(tag, f"{otag} min_star {o['min_star']!r} not in 3/4/5",
                           structural=True)
            if "points_raw" in o and is_num(points):
                self.warn(tag, f"{otag} still carries points_raw")
            case = o.get("case")
            if case is not None and case not in case_codes_known:
                self.error(tag, f"{otag} belongs to case {case!r}, which the criterion does "
                           "not list", structural=True)
            elif case_list and case is None:
                self.error(tag, f"{otag} names no case although the criterion has cases",
                           structural=True)
        if c.get("min_star") is not None and c["min_star"] not in STAR_MARKS:
            self.error(tag, f"criterion min_star {c['min_star']!r} not in 3/4/5",
                       structural=True)

        case_codes = [k.get("code") for k in case_list if isinstance(k, dict)] or [None]
        for cc in case_codes:
            sub = [o for o in opts if o.get("case") == cc] if cc else opts
            where = f"{tag}{' case ' + str(cc) if cc else ''}"
            nums = [o["points"] for o in sub if is_num(o.get("points"))]
            if not nums:
                if cc:
                    self.error(where, "no options for this case", structural=True)
                continue
            if is_num(cm) and max(nums) != cm:
                self.error(where, f"max {fmt(cm)} but highest option gives {fmt(max(nums))} "
                           f"(options: {', '.join(fmt(o.get('points')) for o in sub)})")
            kmax = next((k.get("max") for k in case_list
                         if isinstance(k, dict) and k.get("code") == cc), None)
            if kmax is not None and kmax != max(nums):
                self.error(where, f"case max {fmt(kmax)} but highest option gives "
                           f"{fmt(max(nums))}")
            if any(a > b for a, b in zip(nums, nums[1:], strict=False)):
                self.warn(where, "options not in ascending order of points "
                          f"({', '.join(fmt(v) for v in nums)})")
            if len(set(nums)) != len(nums):
                self.warn(where, "two or more options carry the same points "
                          f"({', '.join(fmt(v) for v in nums)})")
            starred = [o for o in sub if o.get("min_star") in STAR_MARKS
                       and is_num(o.get("points"))]
            for a in starred:
                for b in starred:
                    if a["points"] < b["points"] and b["min_star"] < a["min_star"]:
                        self.error(
                            where,
                            f"option worth {fmt(b['points'])} carries a {b['min_star']}-star "
                            f"mark while the lower option worth {fmt(a['points'])} carries a "
                            f"{a['min_star']}-star mark (star marks not monotone)",
                            structural=True,
                        )
            marks = [o["min_star"] for o in starred]
            for d in sorted({x for x in marks if marks.count(x) > 1}):
                self.warn(where, f"{marks.count(d)} options carry the same {d}-star mark")

        given = c.get("mandatory_for_stars") or []
        if not isinstance(given, list) or any(x not in STAR_MARKS for x in given):
            self.error(tag, f"mandatory_for_stars {given!r} is not a list of 3/4/5",
                       structural=True)
            return
        expected = sorted({o["min_star"] for o in opts if o.get("min_star") in STAR_MARKS}
                          | ({c["min_star"]} if c.get("min_star") in STAR_MARKS else set()))
        if expected != sorted(given):
            self.warn(tag, f"mandatory_for_stars {sorted(given)} but the star marks give "
                      f"{expected}")

    def keys(self, kind, element, where):
        unknown = sorted(set(element) - SCHEMA_KEYS[kind], key=str)
        if unknown:
            self.warn(where, f"unknown key(s) {', '.join(map(str, unknown))} (ignored)")

    def code(self, kind, value, where):
        if value is None or str(value).strip() == "":
            self.error(where, f"{kind} has no code", structural=True)
        elif len(str(value)) > CODE_LENGTH[kind]:
            self.error(where, f"{kind} code {value!r} longer than {CODE_LENGTH[kind]} "
                       "characters", structural=True)

    def header(self, doc):
        cs = doc.get("criteria_set")
        if not isinstance(cs, dict):
            self.error("criteria_set", "missing", structural=True)
            return
        set_no = cs.get("set_no")
        if not isinstance(set_no, int) or isinstance(set_no, bool) or not 1 <= set_no <= 26:
            self.error("criteria_set", f"set_no {set_no!r} is not a number from 1 to 26",
                       structural=True)
        for key in ("decision", "name", "slug", "group"):
            if not str(cs.get(key) or "").strip():
                self.error("criteria_set", f"no {key}", structural=True)

    # -- validate.py: validate_doc --------------------------------------------------------
    def document(self, doc):
        if not isinstance(doc, dict):
            self.error("", "file is not a YAML mapping", structural=True)
            return self.result
        self.result.status = doc.get("status")
        self.keys("document", doc, "")
        self.header(doc)
        parts = doc.get("parts") or []
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            self.error("parts", "must be a list of mappings", structural=True)
            return self.result
        codes = [p.get("code") for p in parts]
        if codes != list(self.part_max):
            self.error("parts", f"found {codes}, expected {', '.join(self.part_max)}",
                       structural=True)
        cs = doc.get("criteria_set") or {}
        if cs.get("max_score") not in (None, 100):
            self.error("criteria_set", f"max_score is {fmt(cs.get('max_score'))}, not 100")
        total = sum(self.part_max.values())
        grand = 0
        numeric_codes, letter_codes = {}, {}
        section_codes = set()
        for p in parts:
            ptag = f"Part {p.get('code')}"
            self.keys("part", p, ptag)
            self.code("part", p.get("code"), ptag)
            pm = p.get("max")
            exp = self.part_max.get(p.get("code"))
            if not is_num(pm):
                self.error(ptag, f"no numeric max (raw '{p.get('max_raw', '')}')")
            elif exp is not None and pm != exp:
                self.error(ptag, f"max {fmt(pm)}, expected {exp}")
            m = RE_POINTS_IN_TITLE.search(str(p.get("title", "")))
            if m and is_num(pm) and int(m.group(1)) != pm:
                self.error(ptag, f"title says '({m.group(1)} Điểm)' but max is {fmt(pm)}")
            ssum, s_missing = 0, []
            for s in p.get("sections") or []:
                stag = f"Section {s.get('code')}"
                self.keys("section", s, stag)
                self.code("section", s.get("code"), stag)
                if s.get("code") in section_codes:
                    self.error(stag, "section code used twice", structural=True)
                section_codes.add(s.get("code"))
                sm = s.get("max")
                if not is_num(sm):
                    self.error(stag, f"no numeric max (raw '{s.get('max_raw', '')}')")
                    s_missing.append(str(s.get("code")))
                else:
                    ssum += sm
                groups = {}
                for g in s.get("criterion_groups") or []:
                    self.keys("group", g, f"Criterion group {g.get('code')}")
                    self.code("group", g.get("code"), f"Criterion group {g.get('code')}")
                    if g.get("code") in groups:
                        self.error(f"Criterion group {g.get('code')}", "code used twice in "
                                   f"section {s.get('code')}", structural=True)
                    groups[g.get("code")] = g
                gsum = {g: 0 for g in groups}
                csum = 0
                for i, c in enumerate(s.get("criteria") or [], start=1):
                    position = criterion_position(p.get("code"), s.get("code"), i)
                    tag = criterion_where(position, c.get("code"))
                    self.keys("criterion", c, tag)
                    self.code("criterion", c.get("code"), tag)
                    code = str(c.get("code"))
                    bucket = numeric_codes if RE_NUMERIC_CODE.match(code) else letter_codes
                    bucket.setdefault(code, []).append(position)
                    cm = c.get("max")
                    if not is_num(cm):
                        if not (c.get("implicit") and not is_num(sm)):  # reported on section
                            self.error(tag, f"no numeric max (raw '{c.get('max_raw', '')}')")
                    elif c.get("group"):
                        if c["group"] not in groups:
                            self.error(tag, f"group '{c['group']}' is not a criterion_group "
                                       f"of section {s.get('code')}", structural=True)
                        gsum[c["group"]] = gsum.get(c["group"], 0) + cm
                    else:
                        csum += cm
                    self.criterion(c, tag)
                for gcode, g in groups.items():
                    gtag = f"Criterion group {gcode}"
                    if not is_num(g.get("max")):
                        self.error(gtag, f"no numeric max (raw '{g.get('max_raw', '')}')")
                        continue
                    csum += g["max"]
                    if gsum.get(gcode, 0) != g["max"]:
                        self.error(gtag, f"max {fmt(g['max'])} but its sub-criteria sum to "
                                   f"{fmt(gsum.get(gcode, 0))}")
                if is_num(sm) and csum != sm:
                    self.error(stag, f"max {fmt(sm)} but criteria sum to {fmt(csum)}")
            if is_num(pm) and ssum != pm:
                self.error(ptag, f"max {fmt(pm)} but sections sum to {fmt(ssum)}"
                           + (f" (section(s) {', '.join(s_missing)} without a numeric max)"
                              if s_missing else ""))
            grand += pm if is_num(pm) else 0
        if grand != total:
            self.error("parts", f"parts sum to {fmt(grand)}, not {total}")
        for code, positions in numeric_codes.items():
            if len(positions) > 1:
                for position in positions:
                    self.error(criterion_where(position, code),
                               f"criterion code {code} used more than once (at "
                               f"{', '.join(positions)})")
        dups = sorted((c for c, ps in letter_codes.items() if len(ps) > 1), key=str)
        if dups:
            self.warn("", f"criterion code(s) used more than once: {', '.join(dups)}")
        status = doc.get("status")
        if status not in ("published", "unresolved"):
            self.error("status", f"{status!r}, expected 'published' or 'unresolved'",
                       structural=True)
        if status == "unresolved" and not doc.get("unresolved"):
            self.error("status", "'unresolved' but no reasons listed in 'unresolved'",
                       structural=True)
        if status == "published" and doc.get("unresolved"):
            self.error("status", "'published' but 'unresolved' reasons are listed",
                       structural=True)
        if status == "unresolved" and not self.result.errors:
            self.warn("status", "marked 'unresolved' but no arithmetic error was found -- "
                      "review the listed reasons")
        return self.result


def validate_document(doc, *, part_max=None, file=""):
    """Validate one parsed criteria-set document.

    ``part_max``: the regime's part maxima, e.g. ``{"A": 40, "B": 25, "C": 35}``.
    Returns a :class:`Validation` (``errors``, ``warnings``, ``blocking``, ``tolerated``).
    """
    return _Checker(file, part_max or DEFAULT_PART_MAX).document(doc)
