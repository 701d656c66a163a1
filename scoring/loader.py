"""Load criteria sets from YAML files, and the services that version them.

``load_criteria_files(paths)`` validates every file first (``scoring.validation``, the
format's rules described in ``scoring/data/criteria/INDEX.md``) and refuses the whole batch with a
:class:`CriteriaLoadError` naming file, criterion and reason if one file does not validate.
Otherwise it writes all files in one transaction, level by level with ``bulk_create``.

Per (regime, set number) the loader compares the file with the latest version it loaded
from a file before (same ``content_hash`` → unchanged, whatever has happened to that version
since). A changed file replaces that version in place when no scoresheet uses it and it is
not retired, else it becomes a new version; a published new version retires the previous
published one, which stays attached to the sheets that used it. Copies made by
:func:`new_version` (no content hash) are never overwritten.

A file marked ``status: unresolved`` loads as a draft (not scorable) with its reasons;
the arithmetic errors validate.py tolerates for such a file are reported, not refused.
"""

import hashlib
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import Max

from ocop.audit.services import record
from ocop.versioned_cache import reference

from .models import (
    CriteriaSet,
    CriteriaSetStatus,
    Criterion,
    CriterionGroup,
    Option,
    Part,
    ProductGroup,
    ProductSubgroup,
    Regime,
    Section,
)
from .validation import Issue, criterion_position, validate_document

DATA_DIR = Path(__file__).resolve().parent / "data" / "criteria"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CriteriaLoadError(Exception):
    """One or more files were refused; nothing was written."""

    def __init__(self, issues):
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass
class LoadReport:
    files: list = field(default_factory=list)
    created: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    new_versions: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    retired: list = field(default_factory=list)
    drafts: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    tolerated: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def written(self):
        return len(self.created) + len(self.replaced) + len(self.new_versions)


# --- reading ---------------------------------------------------------------------------------


def collect_files(paths=None):
    """The YAML files named or found (recursively) under ``paths``; default: the shipped data."""
    files = []
    for p in paths or [DATA_DIR]:
        p = Path(p)
        if p.is_dir():
            files += [f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()]
        else:
            files.append(p)
    return sorted(set(files))


def display_name(path):
    """Shipped files relative to the data folder ("148/07-….yaml"), others relative to the
    working directory when inside it, else absolute."""
    path = Path(path).resolve()
    for base in (DATA_DIR, Path.cwd()):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def read_document(path):
    """Parse one file into plain JSON types (dates and the like become strings)."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=YAML_LOADER)  # noqa: S506 - a safe loader
    return json.loads(json.dumps(doc, ensure_ascii=False, default=str))


def content_hash(doc):
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- conversion helpers ----------------------------------------------------------------------


def _dec(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return Decimal(str(value))


def _text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _raw_note(element, text_field="data_warning"):
    """``data_warning`` plus any ``max_raw`` left in an unresolved file."""
    text = _text(element.get(text_field))
    if element.get("max_raw") not in (None, ""):
        text = (text + " " if text else "") + f"(printed max: {element['max_raw']})"
    return text


@dataclass
class _Planned:
    path: Path
    name: str
    doc: dict
    regime: Regime
    hash: str
    status: str
    action: str = ""
    target: CriteriaSet = None
    others: list = field(default_factory=list)


class _Loader:
    def __init__(self, actor=None):
        self.actor = actor
        self.report = LoadReport()
        self.regimes = {r.code: r for r in Regime.objects.all()}
        self.groups = {g.name: g for g in ProductGroup.objects.all()}
        self.subgroups = {(s.group_id, s.name): s for s in ProductSubgroup.objects.all()}

    # -- phase 1: read and validate everything, touch nothing ---------------------------
    def plan(self, files):
        planned, refused = [], []
        seen = {}
        for path in files:
            name = display_name(path)
            self.report.files.append(name)
            try:
                doc = read_document(path)
            except (OSError, yaml.YAMLError) as exc:
                refused.append(Issue(name, "", f"cannot read: {exc}", True))
                continue
            regime = self.regime_for(doc)
            if regime is None:
                decision = (doc.get("criteria_set") or {}).get("decision") if isinstance(
                    doc, dict) else None
                refused.append(Issue(name, "criteria_set", f"unknown decision {decision!r} "
                                     "(no regime with that code)", True))
                part_max = None
            else:
                part_max = regime.part_maxima
            try:
                result = validate_document(doc, part_max=part_max, file=name)
            except (AttributeError, TypeError, KeyError) as exc:  # not the schema's shape
                refused.append(Issue(name, "", f"malformed document ({exc!r})", True))
                continue
            refused += result.blocking
            self.report.warnings += result.warnings
            self.report.tolerated += result.tolerated
            if regime is None or not result.ok:
                continue
            key = (regime.pk, doc["criteria_set"]["set_no"])
            if key in seen:
                refused.append(Issue(name, "criteria_set", f"set {key[1]} of {regime.code} is "
                                     f"also loaded from {seen[key]}", True))
                continue
            seen[key] = name
            status = (CriteriaSetStatus.PUBLISHED if doc["status"] == "published"
                      else CriteriaSetStatus.DRAFT)
            planned.append(_Planned(path, name, doc, regime, content_hash(doc), status))
        if refused:
            raise CriteriaLoadError(refused)
        return planned

    def regime_for(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get("criteria_set"), dict):
            return None
        return self.regimes.get(str(doc["criteria_set"].get("decision") or "").strip())

    # -- phase 2: decide per set --------------------------------------------------------
    def decide(self, planned):
        keys = {(p.regime.pk, p.doc["criteria_set"]["set_no"]) for p in planned}
        versions = {}
        if keys:
            rows = CriteriaSet.objects.filter(
                regime_id__in={k[0] for k in keys}, set_no__in={k[1] for k in keys})
            for cs in rows:
                versions.setdefault((cs.regime_id, cs.set_no), []).append(cs)
        for p in planned:
            key = (p.regime.pk, p.doc["criteria_set"]["set_no"])
            existing = sorted(versions.get(key, []), key=lambda cs: cs.version)
            # The latest version loaded from a file (edited copies have no hash). Its
            # status does not matter for "unchanged": a loaded version retired because an
            # edited copy was published is left alone until the file itself changes.
            loaded = [cs for cs in existing if cs.content_hash]
            current = loaded[-1] if loaded else None
            next_version = existing[-1].version + 1 if existing else 1
            if current is None:
                p.action = "created"
                p.target = CriteriaSet(regime=p.regime, set_no=key[1], version=next_version)
            elif current.content_hash == p.hash:
                p.action = "unchanged"
                p.target = current
            elif current.status != CriteriaSetStatus.RETIRED and not current.is_in_use():
                p.action = "replaced"
                p.target = current
            else:
                p.action = "new_version"
                p.target = CriteriaSet(regime=p.regime, set_no=key[1], version=next_version)
            p.others = [cs for cs in existing if cs is not p.target]

    # -- phase 3: write -------------------------------------------------------------------
    def group_for(self, cs_doc):
        name = cs_doc["group"]
        group = self.groups.get(name)
        if group is None:
            group = ProductGroup.objects.create(name=name,
                                                category=cs_doc.get("product_category") or "")
            self.groups[name] = group
        elif not group.category and cs_doc.get("product_category"):
            group.category = cs_doc["product_category"]
            group.save(update_fields=["category"])
        subgroup = None
        if cs_doc.get("subgroup"):
            key = (group.pk, cs_doc["subgroup"])
            subgroup = self.subgroups.get(key)
            if subgroup is None:
                subgroup = ProductSubgroup.objects.create(group=group, name=cs_doc["subgroup"])
                self.subgroups[key] = subgroup
        return group, subgroup

    def fill(self, p):
        cs, doc = p.target, p.doc
        head = doc["criteria_set"]
        cs.group, cs.subgroup = self.group_for(head)
        cs.status = p.status
        cs.name = head["name"]
        cs.slug = head["slug"]
        cs.max_score = _dec(head.get("max_score")) or Decimal(100)
        cs.source = doc.get("source") or {}
        cs.disqualification = _text(doc.get("disqualification"))
        cs.product_code_format = _text(doc.get("product_code_format"))
        cs.star_rule = _text(doc.get("star_rule"))
        cs.notes = _list(doc.get("notes"))
        cs.unresolved_reasons = _list(doc.get("unresolved"))
        cs.source_file = p.name
        cs.content_hash = p.hash

    def write(self, planned):
        work = [p for p in planned if p.action != "unchanged"]
        for p in planned:
            if p.action == "unchanged":
                self.report.unchanged.append(p.name)
        if not work:
            return
        replaced = [p.target for p in work if p.action == "replaced"]
        if replaced:
            # Bottom-up so that each delete is a plain DELETE … WHERE criteria_set IN (…).
            for model in (Option, Criterion, CriterionGroup, Section, Part):
                model.objects.filter(criteria_set__in=replaced).delete()
        # Retire the other published version of a set that gets published now (the
        # partial unique index allows one published version per regime and set number).
        to_retire = {cs.pk: cs for p in work if p.status == CriteriaSetStatus.PUBLISHED
                     for cs in p.others if cs.status == CriteriaSetStatus.PUBLISHED}
        if to_retire:
            CriteriaSet.objects.filter(pk__in=to_retire).update(status=CriteriaSetStatus.RETIRED)
            for cs in to_retire.values():
                self.report.retired.append(str(cs))
                record("scoring.criteria_set.retire", cs, actor=self.actor,
                       before={"status": CriteriaSetStatus.PUBLISHED},
                       after={"status": CriteriaSetStatus.RETIRED},
                       reason="superseded by a newer version loaded from file")
        for p in work:
            self.fill(p)
        for cs in replaced:
            cs.save()
        fresh = [p.target for p in work if p.action != "replaced"]
        CriteriaSet.objects.bulk_create(fresh)
        self.build_trees([(p.target, p.doc) for p in work])
        for p in work:
            getattr(self.report, {"created": "created", "replaced": "replaced",
                                  "new_version": "new_versions"}[p.action]).append(p.name)
            if p.status == CriteriaSetStatus.DRAFT:
                self.report.drafts.append(p.name)
            record(f"scoring.criteria_set.{p.action}", p.target, actor=self.actor,
                   after={"file": p.name, "status": p.status, "version": p.target.version,
                          "content_hash": p.hash})

    def build_trees(self, pairs):
        """Create parts, sections, groups, criteria and options of every set, one
        ``bulk_create`` per level."""
        parts, sections, groups, criteria, options = [], [], [], [], []
        section_rows, group_rows, criterion_rows, option_rows = [], [], [], []
        for cs, doc in pairs:
            order = 0
            for pi, p in enumerate(doc["parts"], start=1):
                part = Part(criteria_set=cs, code=p["code"], title=_text(p.get("title")),
                            max=_dec(p.get("max")), order=pi, notes=_list(p.get("notes")),
                            erratum=_text(p.get("erratum")), data_warning=_raw_note(p))
                parts.append(part)
                for si, s in enumerate(p.get("sections") or [], start=1):
                    section_rows.append((part, si, s))
                    for gi, g in enumerate(s.get("criterion_groups") or [], start=1):
                        group_rows.append((cs, s, gi, g))
                    for ci, c in enumerate(s.get("criteria") or [], start=1):
                        order += 1
                        criterion_rows.append((cs, p, s, ci, order, c))
        Part.objects.bulk_create(parts)

        section_of = {}
        for part, si, s in section_rows:
            section = Section(criteria_set=part.criteria_set, part=part, code=str(s["code"]),
                              title=_text(s.get("title")), max=_dec(s.get("max")), order=si,
                              notes=_list(s.get("notes")), erratum=_text(s.get("erratum")),
                              data_warning=_raw_note(s))
            sections.append(section)
            section_of[id(s)] = section
        Section.objects.bulk_create(sections)

        group_of = {}
        for cs, s, gi, g in group_rows:
            group = CriterionGroup(criteria_set=cs, section=section_of[id(s)],
                                   code=str(g["code"]), title=_text(g.get("title")),
                                   max=_dec(g.get("max")), order=gi,
                                   notes=_list(g.get("notes")),
                                   erratum=_text(g.get("erratum")), data_warning=_raw_note(g))
            groups.append(group)
            group_of[(id(s), g["code"])] = group
        CriterionGroup.objects.bulk_create(groups)

        for cs, p, s, ci, order, c in criterion_rows:
            criterion = Criterion(
                criteria_set=cs, section=section_of[id(s)],
                group=group_of.get((id(s), c.get("group"))) if c.get("group") else None,
                order=order, position=criterion_position(p["code"], s["code"], ci),
                code=str(c["code"]), title=_text(c.get("title")), max=_dec(c.get("max")),
                min_star=c.get("min_star"), mandatory_for_stars=_list(c.get("mandatory_for_stars")),
                implicit=bool(c.get("implicit")), cases=_list(c.get("cases")),
                notes=_list(c.get("notes")), erratum=_text(c.get("erratum")),
                data_warning=_raw_note(c),
            )
            criteria.append(criterion)
            for oi, o in enumerate(c.get("options") or [], start=1):
                option_rows.append((criterion, oi, o))
        Criterion.objects.bulk_create(criteria, batch_size=1000)

        for criterion, oi, o in option_rows:
            options.append(Option(
                criteria_set=criterion.criteria_set, criterion=criterion, order=oi,
                label=_text(o.get("label")), points=_dec(o.get("points")),
                points_raw=_text(o.get("points_raw"))[:40], min_star=o.get("min_star"),
                case=_text(o.get("case")), erratum=_text(o.get("erratum")),
                data_warning=_text(o.get("data_warning")),
            ))
        Option.objects.bulk_create(options, batch_size=1000)


def load_criteria_files(paths=None, *, actor=None, check_only=False):
    """Validate and load criteria-set files (default: all under ``scoring/data/criteria``).

    All or nothing: raises :class:`CriteriaLoadError` (nothing written) if a file is refused.
    ``check_only`` validates without writing. Returns a :class:`LoadReport`.
    """
    started = time.perf_counter()
    loader = _Loader(actor)
    files = collect_files(paths)
    if not files:
        raise CriteriaLoadError([Issue("", "", f"no YAML files found in {paths or DATA_DIR}",
                                       True)])
    planned = loader.plan(files)
    if not check_only:
        with transaction.atomic():
            loader.decide(planned)
            loader.write(planned)
            reference.bump()  # bulk writes send no signal (ocop/versioned_cache.py)
    loader.report.seconds = time.perf_counter() - started
    return loader.report


# --- versioning services ---------------------------------------------------------------------


def _copy_rows(model, rows, **changes):
    copies = []
    for row in rows:
        copy = model(**{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields
                        if not f.primary_key})
        for attname, value in changes.items():
            setattr(copy, attname, value(row) if callable(value) else value)
        copies.append(copy)
    model.objects.bulk_create(copies, batch_size=1000)
    return {row.pk: copy.pk for row, copy in zip(rows, copies, strict=True)}


def new_version(criteria_set, *, actor=None):
    """A draft deep copy of ``criteria_set`` as the next version (to edit, then publish)."""
    with transaction.atomic():
        source = CriteriaSet.objects.select_for_update().get(pk=criteria_set.pk)
        latest = CriteriaSet.objects.filter(regime_id=source.regime_id,
                                            set_no=source.set_no).aggregate(v=Max("version"))
        copy = CriteriaSet.objects.get(pk=source.pk)
        copy.pk = None
        copy._state.adding = True
        copy.version = latest["v"] + 1
        copy.status = CriteriaSetStatus.DRAFT
        copy.content_hash = ""
        copy.save()
        new = copy.pk
        parts = _copy_rows(Part, list(source.parts.order_by("pk")), criteria_set_id=new)
        sections = _copy_rows(Section, list(source.sections.order_by("pk")), criteria_set_id=new,
                              part_id=lambda r: parts[r.part_id])
        groups = _copy_rows(CriterionGroup, list(source.criterion_groups.order_by("pk")),
                            criteria_set_id=new, section_id=lambda r: sections[r.section_id])
        criteria = _copy_rows(
            Criterion, list(source.criteria.order_by("pk")), criteria_set_id=new,
            section_id=lambda r: sections[r.section_id],
            group_id=lambda r: groups[r.group_id] if r.group_id else None,
        )
        _copy_rows(Option, list(source.options.order_by("pk")), criteria_set_id=new,
                   criterion_id=lambda r: criteria[r.criterion_id])
        record("scoring.criteria_set.new_version", copy, actor=actor,
               after={"copied_from": source.pk, "version": copy.version})
    return copy


def _num(value):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def to_document(criteria_set):
    """The set as a criteria document (the YAML schema), e.g. to validate an edited draft."""
    cs = criteria_set
    criteria = {}
    for c in cs.criteria.select_related("group").prefetch_related("options").order_by("order"):
        entry = {"code": c.code, "title": c.title, "max": _num(c.max)}
        if c.group_id:
            entry["group"] = c.group.code
        if c.implicit:
            entry["implicit"] = True
        if c.min_star is not None:
            entry["min_star"] = c.min_star
        if c.mandatory_for_stars:
            entry["mandatory_for_stars"] = c.mandatory_for_stars
        if c.cases:
            entry["cases"] = c.cases
        options = []
        for o in c.options.all():
            option = {"label": o.label, "points": _num(o.points)}
            if o.min_star is not None:
                option["min_star"] = o.min_star
            if o.case:
                option["case"] = o.case
            options.append(option)
        entry["options"] = options
        criteria.setdefault(c.section_id, []).append(entry)
    groups = {}
    for g in cs.criterion_groups.order_by("order"):
        groups.setdefault(g.section_id, []).append(
            {"code": g.code, "title": g.title, "max": _num(g.max)})
    parts = []
    for p in cs.parts.prefetch_related("sections").order_by("order"):
        sections = []
        for s in sorted(p.sections.all(), key=lambda s: s.order):
            section = {"code": s.code, "title": s.title, "max": _num(s.max)}
            if s.pk in groups:
                section["criterion_groups"] = groups[s.pk]
            section["criteria"] = criteria.get(s.pk, [])
            sections.append(section)
        parts.append({"code": p.code, "title": p.title, "max": _num(p.max),
                      "sections": sections})
    doc = {
        "status": "unresolved" if cs.unresolved_reasons else "published",
        "criteria_set": {"decision": cs.regime.code, "set_no": cs.set_no, "name": cs.name,
                         "slug": cs.slug, "group": cs.group.name,
                         "max_score": _num(cs.max_score)},
        "parts": parts,
    }
    if cs.unresolved_reasons:
        doc["unresolved"] = cs.unresolved_reasons
    return doc


def publish(criteria_set, *, actor=None):
    """Publish a draft after validating it like a file; retires the published version.

    Raises :class:`CriteriaLoadError` when the draft does not validate (a draft keeping
    ``unresolved_reasons`` cannot be published: clear them once the set is fixed).
    """
    with transaction.atomic():
        cs = CriteriaSet.objects.select_for_update().select_related("regime", "group").get(
            pk=criteria_set.pk)
        if cs.status != CriteriaSetStatus.DRAFT:
            raise CriteriaLoadError([Issue(str(cs), "", "only a draft can be published", True)])
        doc = to_document(cs)
        doc["status"] = "published"
        result = validate_document(doc, part_max=cs.regime.part_maxima, file=str(cs))
        if result.errors:
            raise CriteriaLoadError(result.errors)
        previous = list(CriteriaSet.objects.filter(
            regime_id=cs.regime_id, set_no=cs.set_no, status=CriteriaSetStatus.PUBLISHED))
        for old in previous:
            old.status = CriteriaSetStatus.RETIRED
            old.save(update_fields=["status", "updated_at"])
            record("scoring.criteria_set.retire", old, actor=actor,
                   before={"status": CriteriaSetStatus.PUBLISHED},
                   after={"status": CriteriaSetStatus.RETIRED},
                   reason=f"superseded by version {cs.version}")
        cs.status = CriteriaSetStatus.PUBLISHED
        cs.save(update_fields=["status", "updated_at"])
        record("scoring.criteria_set.publish", cs, actor=actor,
               after={"status": cs.status, "version": cs.version})
    criteria_set.status = cs.status
    return cs
