"""The pure OCOP scoring core: plain values in, plain values out.

No Django, no ORM, standard library only. Points are ``decimal.Decimal``; a float is refused
everywhere so that binary rounding never reaches a score. The ORM layer builds the frozen
``*Spec`` dataclasses from the criteria-set rows and the members' sheets, calls ``evaluate``
and stores what it returns.

Vocabulary (see docs/scoring-and-caps.md and scoring/data/criteria/INDEX.md):

- A *sheet spec* is the criteria set: criteria in parts A/B/C, each with options of fixed
  points. A member's *sheet* (``Choices``) maps criterion key → chosen option key; a missing
  key or ``None`` means unanswered and scores 0.
- *Minimum-star marks*: an option marked ``min_star=M`` means "to be ranked M stars or higher
  the product must reach at least this option on this criterion"; a criterion marked
  ``min_star=M`` means "for M stars or higher the criterion must score more than 0".
  ``mandatory_for_stars`` in the YAML is derived from these marks and is not needed here.
- Criteria with ``cases`` (tourism set 26, "Lựa chọn một trong hai trường hợp"): the
  evaluator picks a case and then one option of that case. Modelled simply: every option
  carries its ``case`` label and option keys are unique within the criterion, so a choice is
  still one option key and nothing about totals, means or caps differs.

Policies (each function's docstring repeats the one it applies):

- Mean: arithmetic mean of the members' sheets, per part and for the total, computed
  exactly (as ``fractions.Fraction``) and rounded once, ROUND_HALF_UP, to ``places``
  (default 2). The band and the forwarding threshold are decided on that rounded total.
- Cap: per criterion, the LOWER median of the members' points (unanswered = 0) must reach
  the requirement of every mark whose level is ≤ N for the product to be ranked N.
- Outcome precedence: forwarding to the next level wins over recognition at this level.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Literal

__all__ = [
    "DEFAULT_BANDS",
    "MAX_SCORE",
    "PARTS",
    "Band",
    "CapReason",
    "CapResult",
    "Choices",
    "CriterionSpec",
    "Divergence",
    "Evaluation",
    "OptionSpec",
    "Outcome",
    "OutcomeKind",
    "Requirement",
    "SheetSpec",
    "Totals",
    "band",
    "cap",
    "divergence",
    "evaluate",
    "level_outcome",
    "lower_median",
    "mean_totals",
    "requirement",
    "round_half_up",
    "sheet_totals",
]

PARTS: tuple[str, ...] = ("A", "B", "C")
MAX_SCORE = Decimal(100)
MIN_STAR, MAX_STAR = 1, 5

Part = Literal["A", "B", "C"]
#: A member's sheet: criterion key → chosen option key (``None`` or absent = unanswered = 0).
Choices = Mapping[str, str | None]

_ZERO = Decimal(0)


def _decimal(value: object, what: str) -> Decimal:
    """Return ``value`` as a finite Decimal; ints are accepted, floats and bools refused."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal or an int, not {type(value).__name__} {value!r}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, got {value}")
    return value


def _star(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_STAR <= value <= MAX_STAR:
        raise ValueError(f"{what} must be an int from {MIN_STAR} to {MAX_STAR}, got {value!r}")
    return value


# --------------------------------------------------------------------------- specifications


@dataclass(frozen=True)
class OptionSpec:
    """One answer option of a criterion: fixed ``points``, optional star mark and case."""

    key: str
    points: Decimal
    min_star: int | None = None
    #: The tourism "trường hợp" this option belongs to, or None; informative only (see module doc).
    case: str | None = None

    def __post_init__(self) -> None:
        points = _decimal(self.points, f"points of option {self.key!r}")
        if points < 0:
            raise ValueError(f"points of option {self.key!r} must not be negative, got {points}")
        object.__setattr__(self, "points", points)
        if self.min_star is not None:
            _star(self.min_star, f"min_star of option {self.key!r}")


@dataclass(frozen=True)
class CriterionSpec:
    """A scorable criterion: its part, its options, and an optional criterion-level mark.

    ``min_star`` on the criterion means: for that star level or higher the criterion must
    score strictly more than 0 (148 "Sở hữu trí tuệ****").
    """

    key: str
    part: Part
    options: tuple[OptionSpec, ...]
    min_star: int | None = None
    _by_key: dict[str, OptionSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.part not in PARTS:
            raise ValueError(f"criterion {self.key!r}: part must be A, B or C, got {self.part!r}")
        options = tuple(self.options)
        if not options:
            raise ValueError(f"criterion {self.key!r} has no options")
        by_key: dict[str, OptionSpec] = {}
        for option in options:
            if option.key in by_key:
                raise ValueError(f"criterion {self.key!r}: duplicate option key {option.key!r}")
            by_key[option.key] = option
        if self.min_star is not None:
            _star(self.min_star, f"min_star of criterion {self.key!r}")
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "_by_key", by_key)

    @property
    def max_points(self) -> Decimal:
        """The best option's points (for ``cases``: the best over all cases)."""
        return max(option.points for option in self.options)

    @property
    def star_levels(self) -> tuple[int, ...]:
        """The distinct star levels marked on this criterion or on one of its options."""
        levels = {o.min_star for o in self.options if o.min_star is not None}
        if self.min_star is not None:
            levels.add(self.min_star)
        return tuple(sorted(levels))

    def points_for(self, option_key: str | None) -> Decimal:
        """Points of the chosen option; ``None`` (unanswered) scores 0.

        Raises ValueError if ``option_key`` is not an option of this criterion.
        """
        if option_key is None:
            return _ZERO
        try:
            return self._by_key[option_key].points
        except KeyError:
            raise ValueError(
                f"option {option_key!r} does not belong to criterion {self.key!r} "
                f"(its options: {', '.join(sorted(self._by_key))})"
            ) from None


@dataclass(frozen=True)
class SheetSpec:
    """A criteria set (bộ tiêu chí) as scored: its criteria in sheet order, keys unique."""

    criteria: tuple[CriterionSpec, ...]
    _by_key: dict[str, CriterionSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        criteria = tuple(self.criteria)
        by_key: dict[str, CriterionSpec] = {}
        for criterion in criteria:
            if criterion.key in by_key:
                raise ValueError(f"duplicate criterion key {criterion.key!r}")
            by_key[criterion.key] = criterion
        object.__setattr__(self, "criteria", criteria)
        object.__setattr__(self, "_by_key", by_key)

    def criterion(self, key: str) -> CriterionSpec:
        try:
            return self._by_key[key]
        except KeyError:
            raise ValueError(f"unknown criterion {key!r}") from None

    def max_points(self, part: str | None = None) -> Decimal:
        """Sum of the criteria maxima, for one part or (``None``) for the whole sheet."""
        return sum((c.max_points for c in self.criteria if part is None or c.part == part), _ZERO)

    def member_points(self, choices: Choices) -> dict[str, Decimal]:
        """Criterion key → points for one member's sheet (every criterion of the spec).

        Raises ValueError for a criterion key not in the spec or an option key not belonging
        to its criterion.
        """
        for key in choices:
            if key not in self._by_key:
                raise ValueError(f"choice for unknown criterion {key!r}")
        return {c.key: c.points_for(choices.get(c.key)) for c in self.criteria}


# --------------------------------------------------------------------------- totals and means


@dataclass(frozen=True)
class Totals:
    """Scores per part (``parts`` keyed exactly "A", "B", "C") and the total."""

    parts: Mapping[str, Decimal]
    total: Decimal

    def __post_init__(self) -> None:
        if set(self.parts) != set(PARTS):
            raise ValueError(f"parts must be keyed exactly {PARTS}, got {sorted(self.parts)}")
        parts = {p: _decimal(self.parts[p], f"part {p}") for p in PARTS}
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "total", _decimal(self.total, "total"))


def sheet_totals(spec: SheetSpec, choices: Choices) -> Totals:
    """One member's sheet: the sum of the chosen options' points per part and in total.

    Policy: an unanswered criterion (absent or ``None``) scores 0. No rounding (option points
    are exact). Raises ValueError, naming the criterion, for an option key that does not
    belong to its criterion, and for a criterion key that is not in the spec.
    """
    points = spec.member_points(choices)
    parts = dict.fromkeys(PARTS, _ZERO)
    for criterion in spec.criteria:
        parts[criterion.part] += points[criterion.key]
    return Totals(parts=parts, total=sum(parts.values(), _ZERO))


def round_half_up(value: Fraction | Decimal | int, places: int = 2) -> Decimal:
    """Round an exact value to ``places`` decimals, ties away from zero (ROUND_HALF_UP).

    Works on the exact rational value, so ``Fraction(20999, 300)`` (69.99666…) gives
    ``Decimal("70.00")`` and 12.345 gives 12.35 (not the banker's 12.34).
    """
    if isinstance(places, bool) or not isinstance(places, int) or places < 0:
        raise ValueError(f"places must be an int >= 0, got {places!r}")
    if isinstance(value, float):
        raise TypeError("refusing a float; pass a Decimal, Fraction or int")
    exact = Fraction(value)
    scaled = abs(exact) * 10**places
    units = math.floor(scaled + Fraction(1, 2))
    if exact < 0:
        units = -units
    return Decimal(units).scaleb(-places)


def mean_totals(totals: Sequence[Totals], places: int = 2) -> Totals:
    """Arithmetic mean of the members' totals, per part and for the total.

    ROUNDING POLICY: the means are computed exactly (as rational numbers, so 209.99/3 is not
    truncated at any precision) and each of A, B, C and the total is then rounded ONCE to
    ``places`` decimals (default 2) with ROUND_HALF_UP. This rounded value is what is shown,
    recorded, and used to decide the band (``evaluate`` passes ``mean.total`` to ``band``):
    70, 70, 69.99 → 69.99666… → 70.00 → 4★.

    The total is the rounded mean of the members' totals, NOT the sum of the rounded part
    means; the two may differ by a rounding unit (members 10/10/11 on each part: parts
    10.33 each, total 31.00).

    Raises ValueError for an empty list (no sheets → no score).
    """
    if not totals:
        raise ValueError("cannot average an empty list of sheets")
    n = len(totals)

    def mean(values: Iterable[Decimal]) -> Decimal:
        return round_half_up(sum((Fraction(v) for v in values), Fraction(0)) / n, places)

    return Totals(
        parts={p: mean(t.parts[p] for t in totals) for p in PARTS},
        total=mean(t.total for t in totals),
    )


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class Band:
    """A star band: a score ≥ ``min_score`` (and below the next band) gets ``stars``."""

    stars: int
    min_score: Decimal

    def __post_init__(self) -> None:
        _star(self.stars, "band stars")
        object.__setattr__(self, "min_score", _decimal(self.min_score, "band min_score"))


#: Điều 3.3 QĐ 26/2026 (same in all regimes): 5★ 90–100, 4★ 70–<90, 3★ 50–<70, 2★ 30–<50, 1★ <30.
DEFAULT_BANDS: tuple[Band, ...] = (
    Band(5, Decimal(90)),
    Band(4, Decimal(70)),
    Band(3, Decimal(50)),
    Band(2, Decimal(30)),
    Band(1, Decimal(0)),
)


def _checked_bands(bands: Iterable[Band]) -> tuple[Band, ...]:
    """Bands sorted by ``min_score`` descending; refuses an inconsistent set."""
    ordered = tuple(sorted(bands, key=lambda b: b.min_score, reverse=True))
    if not ordered:
        raise ValueError("no bands given")
    if ordered[-1].min_score != 0:
        raise ValueError("the lowest band must start at 0")
    for higher, lower in pairwise(ordered):
        if higher.min_score == lower.min_score or higher.stars <= lower.stars:
            raise ValueError(
                "bands must have distinct thresholds and more stars for a higher threshold"
            )
    return ordered


def band(score: Decimal | int, bands: Iterable[Band] = DEFAULT_BANDS) -> int:
    """Stars for a score: the band with the highest ``min_score`` ≤ score (bounds inclusive
    below, exclusive above: 29.99 → 1, 30 → 2, 89.99 → 4, 90 → 5, 100 → 5).

    The score is used as given; ``evaluate`` gives it the mean total already rounded to 2
    decimals. Raises ValueError for a score below 0 or above 100, TypeError for a float.
    """
    score = _decimal(score, "score")
    if score < 0 or score > MAX_SCORE:
        raise ValueError(f"score must be between 0 and {MAX_SCORE}, got {score}")
    for b in _checked_bands(bands):
        if score >= b.min_score:
            return b.stars
    raise AssertionError("unreachable: the lowest band starts at 0")  # pragma: no cover


# --------------------------------------------------------------------------- the cap


@dataclass(frozen=True)
class Requirement:
    """What a criterion's marks demand for a star level.

    Met when the median points ≥ ``points``, or, if ``strict``, when median > ``points``
    (a criterion-level mark with no option mark above 0 at that level: "must score > 0").
    """

    points: Decimal
    strict: bool = False

    def is_met(self, median: Decimal) -> bool:
        return median > self.points if self.strict else median >= self.points


def requirement(criterion: CriterionSpec, stars: int) -> Requirement | None:
    """The requirement on ``criterion`` for being ranked ``stars``, or None if there is none.

    An option marked ``min_star=M`` means "for M★ or more, reach at least this option", so for
    N★ the required points are the MAX points over the options with ``min_star`` ≤ N (e.g.
    2 pts marked 4★ and 3 pts marked 5★: 4★ needs 2, 5★ needs 3, 3★ needs nothing). A
    criterion-level ``min_star`` ≤ N adds "must score > 0", which a positive option
    requirement already implies.
    """
    marked = [o.points for o in criterion.options if o.min_star is not None and o.min_star <= stars]
    option_points = max(marked) if marked else None
    criterion_mark = criterion.min_star is not None and criterion.min_star <= stars
    if option_points is not None and (option_points > 0 or not criterion_mark):
        return Requirement(option_points)
    if criterion_mark:
        return Requirement(_ZERO, strict=True)
    return None


def lower_median(values: Sequence[Decimal]) -> Decimal:
    """The median; for an even count the LOWER of the two middle values (always a value
    some member actually gave). Raises ValueError for no values."""
    if not values:
        raise ValueError("median of no values")
    return sorted(values)[(len(values) - 1) // 2]


@dataclass(frozen=True)
class CapReason:
    """An unmet star condition that held the star back.

    To be ranked ``required_star`` the median points on ``criterion_key`` must reach
    ``required_points`` (exceed it, if ``strict``: the criterion-level "> 0" mark); the
    members' median was ``median_points``.
    """

    criterion_key: str
    required_star: int
    required_points: Decimal
    median_points: Decimal
    strict: bool = False


@dataclass(frozen=True)
class CapResult:
    """The capped star and every unmet condition at a level ≤ the band, in order of
    ``required_star`` then sheet order."""

    stars: int
    reasons: tuple[CapReason, ...]

    @property
    def limiting(self) -> tuple[CapReason, ...]:
        """The reasons that stopped the very next star (``required_star == stars + 1``)."""
        return tuple(r for r in self.reasons if r.required_star == self.stars + 1)


def cap(spec: SheetSpec, members_choices: Sequence[Choices], band_stars: int) -> CapResult:
    """Cap the band by the minimum-star marks — the MEDIAN policy.

    For each criterion, the members' points are taken (an unanswered criterion counts 0) and
    their LOWER median computed (even count: the lower middle value). A condition (criterion
    c, level N) — from an option of c marked ``min_star`` ≤ N or c's own ``min_star`` ≤ N, see
    ``requirement`` — is met when that median reaches the requirement. The final star is the
    highest N ≤ ``band_stars`` such that every condition with level ≤ N is met, never below 1
    (marks are 3–5★ in the published sets, so in practice a failed cap floors at 2★: band 5
    failing a 3★ mark gives 2★). The cap never raises the star.

    ``reasons`` lists every unmet condition with level ≤ ``band_stars`` (one per criterion and
    marked level), so the result page can show what to fix to reach the band.
    Raises ValueError for no members, a bad ``band_stars`` or an invalid choice.
    """
    band_stars = _star(band_stars, "band_stars")
    if not members_choices:
        raise ValueError("cannot cap without any member's sheet")
    sheets = [spec.member_points(choices) for choices in members_choices]

    reasons: list[CapReason] = []
    for criterion in spec.criteria:
        levels = [level for level in criterion.star_levels if level <= band_stars]
        if not levels:
            continue
        median = lower_median([sheet[criterion.key] for sheet in sheets])
        for level in levels:
            need = requirement(criterion, level)
            if need is not None and not need.is_met(median):
                reasons.append(
                    CapReason(criterion.key, level, need.points, median, strict=need.strict)
                )
    reasons.sort(key=lambda r: r.required_star)  # stable: sheet order within a level
    stars = band_stars
    if reasons:
        stars = max(MIN_STAR, min(band_stars, reasons[0].required_star - 1))
    return CapResult(stars=stars, reasons=tuple(reasons))


# --------------------------------------------------------------------------- divergence


@dataclass(frozen=True)
class Divergence:
    """Spread of the members' totals (max − min); ``flagged`` when it exceeds the threshold."""

    spread: Decimal
    flagged: bool


def divergence(totals: Sequence[Decimal], threshold: Decimal | int) -> Divergence:
    """Policy: ``spread = max − min`` of the members' (unrounded) totals; flagged when
    ``spread > threshold`` strictly ("differ by MORE than 10 points"): the council discusses
    and members re-score — no outlier is dropped. Fewer than 2 totals: spread 0, not flagged.
    """
    threshold = _decimal(threshold, "divergence threshold")
    if threshold < 0:
        raise ValueError(f"divergence threshold must not be negative, got {threshold}")
    values = [_decimal(t, "member total") for t in totals]
    if len(values) < 2:
        return Divergence(spread=_ZERO, flagged=False)
    spread = max(values) - min(values)
    return Divergence(spread=spread, flagged=spread > threshold)


# --------------------------------------------------------------------------- level outcome


class OutcomeKind(StrEnum):
    FORWARD = "forward"
    RECOGNISE = "recognise"
    NOT_RECOGNISED = "not_recognised"


@dataclass(frozen=True)
class Outcome:
    """What the level does with the product; ``stars`` is set only for ``recognise``."""

    kind: OutcomeKind
    stars: int | None = None


def level_outcome(
    final_stars: int,
    mean_total: Decimal,
    recognises: Iterable[int],
    forward_from: Decimal | int | None,
    forward_min_stars: int | None = None,
) -> Outcome:
    """Decide the outcome at one level (council) of a regime.

    PRECEDENCE: (1) "forward" if ``forward_from`` is not None, ``mean_total`` ≥
    ``forward_from`` and the capped star ``final_stars`` ≥ ``forward_min_stars`` (when
    given) — the next level decides and this level recognises nothing; (2) else
    "recognise" with ``stars`` = ``final_stars`` if ``final_stars`` is in ``recognises``;
    (3) else "not_recognised". ``mean_total`` is the rounded mean that decided the band.

    Forwarding needs the capped star too (docs/regimes-and-levels.md, "Forwarding"): a
    75-point product capped to 3★ at a 148 district council is recognised 3★ there, not
    sent to a province that recognises only 4★.

    Examples: 148 district: recognises {3}, forward_from 70, forward_min_stars 4. 148
    province: recognises {4}, 90, 5. 1489 / 26/2026 province: recognises {3, 4}, 90, 5.
    """
    final_stars = _star(final_stars, "final_stars")
    mean_total = _decimal(mean_total, "mean_total")
    recognised = {_star(s, "recognised stars") for s in recognises}
    if (forward_from is not None and mean_total >= _decimal(forward_from, "forward_from")
            and (forward_min_stars is None
                 or final_stars >= _star(forward_min_stars, "forward_min_stars"))):
        return Outcome(OutcomeKind.FORWARD)
    if final_stars in recognised:
        return Outcome(OutcomeKind.RECOGNISE, stars=final_stars)
    return Outcome(OutcomeKind.NOT_RECOGNISED)


# --------------------------------------------------------------------------- everything at once


@dataclass(frozen=True)
class Evaluation:
    """A council's result for one product. Independent of the order of the members."""

    mean: Totals  # rounded to ``places``; ``mean.total`` decided the band
    band_stars: int
    cap: CapResult  # ``cap.stars`` is the final star
    divergence: Divergence
    outcome: Outcome

    @property
    def stars(self) -> int:
        return self.cap.stars


def evaluate(
    spec: SheetSpec,
    members_choices: Sequence[Choices],
    *,
    bands: Iterable[Band] = DEFAULT_BANDS,
    divergence_threshold: Decimal | int,
    recognises: Iterable[int],
    forward_from: Decimal | int | None,
    forward_min_stars: int | None = None,
    places: int = 2,
) -> Evaluation:
    """Score a product from the counted members' sheets (recused members left out by the caller).

    Steps: each sheet's totals (``sheet_totals``) → their mean per part and total, rounded
    once ROUND_HALF_UP to ``places`` (``mean_totals``) → band on the rounded mean total
    (``band``) → cap by the lower-median policy (``cap``) → divergence of the members' totals
    (``divergence``; a flag is reported, the result is still computed) → outcome at this level
    on the capped star and the rounded mean (``level_outcome``). Raises ValueError for no
    sheets or any invalid choice.
    """
    if not members_choices:
        raise ValueError("cannot evaluate without any member's sheet")
    totals = [sheet_totals(spec, choices) for choices in members_choices]
    mean = mean_totals(totals, places=places)
    band_stars = band(mean.total, bands)
    capped = cap(spec, members_choices, band_stars)
    return Evaluation(
        mean=mean,
        band_stars=band_stars,
        cap=capped,
        divergence=divergence([t.total for t in totals], divergence_threshold),
        outcome=level_outcome(capped.stars, mean.total, recognises, forward_from,
                              forward_min_stars),
    )
