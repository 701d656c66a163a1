"""The legal instruments (regimes) as plain data, and the function that writes them.

Source: docs/regimes-and-levels.md (instruments, levels, validity), docs/scoring-and-caps.md
(bands) and docs/deadlines.md (re-evaluation). The data migration ``0002_seed_regimes`` calls
:func:`sync_regimes` with the historical models, so the four regimes exist after
``migrate``; calling it again (e.g. after editing this file and adding a migration that
calls it) updates the rows in place.

Choices made where the rules are not explicit (each repeated next to the value below):

* ``effective_to`` is the last day the regime applies (inclusive). 26/2026 came into force on
  22/05/2026 while 148 (as amended by 1489) lapses 60 days later, on 21/07/2026: the two
  overlap on purpose (transitional period), so "the regime in force on a day" may be two.
* 148 as amended by 1489 changed the process (no district level), not the criteria sets:
  it has no criteria sets of its own and uses those of 148 (``criteria_from``).
* A pre-assessment level (commune) scores nothing, recognises nothing and forwards every
  complete dossier: ``forward_from`` is empty there. ``forward_from`` on the last level is
  empty too (nothing above it).
* The central level is a council (the Ministry's council); the system only records its
  outcome unless configured otherwise (docs/regimes-and-levels.md), which is not a property
  of the regime.
* 1048 is legacy data only; its sources give only its level sequence. The values used
  (district forwards ≥50 without recognising; province recognises 3★/4★ and forwards ≥90;
  central 5★; 36-month validity; same bands) follow QĐ 1048/QĐ-TTg from memory and are
  marked [?]: check them before running anything other than history on this regime.
"""

import datetime
from decimal import Decimal

#: Bands of every regime (docs/scoring-and-caps.md): 5★ 90–100, 4★ 70–<90, 3★ 50–<70,
#: 2★ 30–<50, 1★ <30.
STANDARD_BANDS = [(5, 90), (4, 70), (3, 50), (2, 30), (1, 0)]

PRE_ASSESSMENT = "pre_assessment"
COUNCIL = "council"

#: Commune pre-assessment → provincial council → central council (1489 and 26/2026).
TWO_LEVEL_PROCESS = [
    # Commune: checks completeness and the four local items within 15 working days (the
    # deadline is the regime's commune_deadline_working_days), then forwards to the province.
    {"order": 1, "kind": PRE_ASSESSMENT, "admin_level": "commune", "recognises": [],
     "forward_from": None},
    # Province recognises 3★ and 4★; products ≥90 go to the Ministry.
    # Forwarded only when the capped star is 5★ (docs/regimes-and-levels.md, Forwarding).
    {"order": 2, "kind": COUNCIL, "admin_level": "province", "recognises": [3, 4],
     "forward_from": 90, "forward_min_stars": 5},
    # Ministry council; the Minister recognises 5★.
    {"order": 3, "kind": COUNCIL, "admin_level": "central", "recognises": [5],
     "forward_from": None, "decision_symbol": "QĐ-BNNMT"},
]

REGIMES = [
    {
        "code": "1048/QĐ-TTg",
        "slug": "1048",
        # The "Căn cứ …;" line of its recognition decisions (editable on each draft).
        "legal_basis": (
            "Căn cứ Quyết định số 1048/QĐ-TTg ngày 21 tháng 8 năm 2019 của Thủ tướng Chính "
            "phủ ban hành Bộ tiêu chí đánh giá, phân hạng sản phẩm Chương trình mỗi xã một "
            "sản phẩm, được sửa đổi, bổ sung bởi Quyết định số 781/QĐ-TTg ngày 08 tháng 6 năm"
            " 2020 của Thủ tướng Chính phủ;"),
        "title": "Quyết định 1048/QĐ-TTg (2019), sửa đổi bởi Quyết định 781/QĐ-TTg (2020) — "
                 "Bộ tiêu chí đánh giá, phân hạng sản phẩm Chương trình mỗi xã một sản phẩm",
        # [?] Sources say "2019"; 21/08/2019 is the decision's date (from memory).
        "effective_from": datetime.date(2019, 8, 21),
        # docs/regimes-and-levels.md: until 23/02/2023 (148 took over on 24/02/2023).
        "effective_to": datetime.date(2023, 2, 23),
        "validity_months": 36,
        # [?] No re-evaluation notice rule known for 1048: left empty.
        "notify_days_before_expiry": None,
        "filing_window_start_days_before": None,
        "filing_window_end_days_before": None,
        "grace_days_after_expiry": None,
        "processing_days": None,
        "commune_deadline_working_days": None,
        "revocation_deadline_days": None,
        "written_reevaluation": False,
        "round_windows": [],
        "part_maxima": (35, 25, 40),
        "criteria_from": None,
        "notes": "Legacy data only (ratings issued before 24/02/2023); no criteria sets are "
                 "loaded for it.",
        "levels": [
            # [?] Under 1048 the district selected products (≥50 = 3★ band) for the province
            # and did not recognise any star itself.
            {"order": 1, "kind": COUNCIL, "admin_level": "district", "recognises": [],
             "forward_from": 50, "forward_min_stars": 3},
            {"order": 2, "kind": COUNCIL, "admin_level": "province", "recognises": [3, 4],
             "forward_from": 90, "forward_min_stars": 5},
            {"order": 3, "kind": COUNCIL, "admin_level": "central", "recognises": [5],
             "forward_from": None, "decision_symbol": "QĐ-BNN"},
        ],
        "bands": STANDARD_BANDS,
    },
    {
        "code": "148/QĐ-TTg",
        "slug": "148",
        # The "Căn cứ …;" line of its recognition decisions (editable on each draft).
        "legal_basis": (
            "Căn cứ Quyết định số 148/QĐ-TTg ngày 24 tháng 02 năm 2023 của Thủ tướng Chính "
            "phủ ban hành Bộ tiêu chí và quy trình đánh giá, phân hạng sản phẩm Chương trình "
            "mỗi xã một sản phẩm;"),
        "title": "Quyết định 148/QĐ-TTg ngày 24/02/2023 — Bộ tiêu chí và quy trình đánh giá, "
                 "phân hạng sản phẩm Chương trình mỗi xã một sản phẩm",
        "effective_from": datetime.date(2023, 2, 24),
        # docs/regimes-and-levels.md: in force until 05/07/2025; 1489 amends it from 06/07/2025.
        "effective_to": datetime.date(2025, 7, 5),
        "validity_months": 36,
        # docs/deadlines.md: the issuer notifies the producer ≥30 days before expiry.
        "notify_days_before_expiry": 30,
        "filing_window_start_days_before": None,
        "filing_window_end_days_before": None,
        "grace_days_after_expiry": None,
        "processing_days": None,
        # No commune pre-assessment under 148 (the district council does the first step).
        "commune_deadline_working_days": None,
        "revocation_deadline_days": None,
        "written_reevaluation": False,
        "round_windows": [],
        "part_maxima": (40, 25, 35),
        "criteria_from": None,
        "notes": "",
        "levels": [
            # docs/regimes-and-levels.md: the district recognises 3★; ≥70 goes to the province.
            # Forwarded only when the capped star is 4★ or more: a 75-point product capped
            # to 3★ is recognised 3★ here (docs/regimes-and-levels.md, Forwarding).
            {"order": 1, "kind": COUNCIL, "admin_level": "district", "recognises": [3],
             "forward_from": 70, "forward_min_stars": 4},
            # docs/regimes-and-levels.md: the province recognises 4★; ≥90 goes to the centre.
            {"order": 2, "kind": COUNCIL, "admin_level": "province", "recognises": [4],
             "forward_from": 90, "forward_min_stars": 5},
            {"order": 3, "kind": COUNCIL, "admin_level": "central", "recognises": [5],
             "forward_from": None, "decision_symbol": "QĐ-BNNPTNT"},
        ],
        "bands": STANDARD_BANDS,
    },
    {
        "code": "148/QĐ-TTg sửa đổi bởi 1489/QĐ-TTg",
        "slug": "148-1489",
        # The "Căn cứ …;" line of its recognition decisions (editable on each draft).
        "legal_basis": (
            "Căn cứ Quyết định số 148/QĐ-TTg ngày 24 tháng 02 năm 2023 của Thủ tướng Chính "
            "phủ ban hành Bộ tiêu chí và quy trình đánh giá, phân hạng sản phẩm Chương trình "
            "mỗi xã một sản phẩm, được sửa đổi, bổ sung bởi Quyết định số 1489/QĐ-TTg của Thủ"
            " tướng Chính phủ;"),
        "title": "Quyết định 148/QĐ-TTg, sửa đổi, bổ sung bởi Quyết định 1489/QĐ-TTg "
                 "(từ 06/07/2025)",
        "effective_from": datetime.date(2025, 7, 6),
        # → 21/07/2026 (60 days after 26/2026 came into force; see the module docstring).
        "effective_to": datetime.date(2026, 7, 21),
        "validity_months": 36,
        # 1489 changed the levels, not the re-evaluation notice of 148: kept at 30 days.
        "notify_days_before_expiry": 30,
        "filing_window_start_days_before": None,
        "filing_window_end_days_before": None,
        "grace_days_after_expiry": None,
        "processing_days": None,
        # docs/deadlines.md: commune (1489, 26/2026) within 15 working days.
        "commune_deadline_working_days": 15,
        "revocation_deadline_days": None,
        "written_reevaluation": False,
        "round_windows": [],
        "part_maxima": (40, 25, 35),
        # Same criteria sets as 148 (1489 changed the process only).
        "criteria_from": "148/QĐ-TTg",
        "notes": "District level abolished on 01/07/2025; the commune pre-assesses.",
        "levels": TWO_LEVEL_PROCESS,
        "bands": STANDARD_BANDS,
    },
    {
        "code": "26/2026/QĐ-TTg",
        "slug": "26/2026",
        # The "Căn cứ …;" line of its recognition decisions (editable on each draft).
        "legal_basis": (
            "Căn cứ Quyết định số 26/2026/QĐ-TTg ngày 22 tháng 5 năm 2026 của Thủ tướng Chính"
            " phủ ban hành Bộ tiêu chí, quy trình đánh giá, phân hạng sản phẩm Chương trình "
            "mỗi xã một sản phẩm;"),
        "title": "Quyết định 26/2026/QĐ-TTg ngày 22/05/2026 — Bộ tiêu chí, quy trình đánh giá, "
                 "phân hạng sản phẩm Chương trình mỗi xã một sản phẩm",
        "effective_from": datetime.date(2026, 5, 22),
        "effective_to": None,
        "validity_months": 36,
        "notify_days_before_expiry": None,
        # docs/deadlines.md: the producer files 180 to 120 days before expiry; processing
        # ≤45 days; a late filer keeps the certificate until the decision but ≤180 days after
        # expiry.
        "filing_window_start_days_before": 180,
        "filing_window_end_days_before": 120,
        "grace_days_after_expiry": 180,
        "processing_days": 45,
        "commune_deadline_working_days": 15,
        # docs/ratings-lifecycle.md: revocation within 15 days of the conclusion
        # (Điều 8); a re-evaluation may be decided by written opinions; rounds:
        # requests received by 30/4 finished by 30/6, by 30/10 finished by 30/12.
        "revocation_deadline_days": 15,
        "written_reevaluation": True,
        "round_windows": [((30, 4), (30, 6)), ((30, 10), (30, 12))],  # (day, month)
        "part_maxima": (40, 25, 35),
        "criteria_from": None,
        "notes": "At least two rounds a year: round 1 finished by 30/6 for requests received "
                 "by 30/4; round 2 by 30/12 for requests by 30/10.",
        "levels": TWO_LEVEL_PROCESS,
        "bands": STANDARD_BANDS,
    },
]

REGIME_FIELDS = (
    "slug", "title", "effective_from", "effective_to", "validity_months",
    "notify_days_before_expiry", "filing_window_start_days_before",
    "filing_window_end_days_before", "grace_days_after_expiry", "processing_days",
    "commune_deadline_working_days", "notes", "legal_basis", "revocation_deadline_days",
    "written_reevaluation",
)


def _decimal(value):
    return None if value is None else Decimal(value)


def sync_regimes(Regime, ProcessLevel, StarBand, regimes=REGIMES,  # noqa: N803
                 RoundWindow=None):  # noqa: N803
    """Create or update the regimes, their levels and bands from ``regimes``.

    Takes the model classes so that a migration can pass its historical models. Rows are
    matched by regime code, (regime, order) and (regime, stars); levels and bands no longer
    in the data are deleted (PROTECT stops this if something refers to them).
    """
    # An older migration passes historical models: fields added later are left out.
    regime_fields = {f.name for f in Regime._meta.get_fields()}
    level_fields = {f.name for f in ProcessLevel._meta.get_fields()}
    by_code = {}
    for data in regimes:
        defaults = {field: data[field] for field in REGIME_FIELDS if field in regime_fields}
        defaults["part_a_max"], defaults["part_b_max"], defaults["part_c_max"] = (
            data["part_maxima"]
        )
        regime, _created = Regime.objects.update_or_create(code=data["code"], defaults=defaults)
        by_code[regime.code] = regime
        for level in data["levels"]:
            ProcessLevel.objects.update_or_create(
                regime=regime, order=level["order"],
                defaults={key: value for key, value in {
                    "kind": level["kind"],
                    "admin_level": level["admin_level"],
                    "recognises": list(level["recognises"]),
                    "forward_from": _decimal(level["forward_from"]),
                    "forward_min_stars": level.get("forward_min_stars"),
                    "decision_symbol": level.get("decision_symbol", "QĐ-UBND"),
                }.items() if key in level_fields},
            )
        ProcessLevel.objects.filter(regime=regime).exclude(
            order__in=[level["order"] for level in data["levels"]]
        ).delete()
        for stars, min_score in data["bands"]:
            StarBand.objects.update_or_create(
                regime=regime, stars=stars, defaults={"min_score": Decimal(min_score)}
            )
        StarBand.objects.filter(regime=regime).exclude(
            stars__in=[stars for stars, _min in data["bands"]]
        ).delete()
        if RoundWindow is not None:
            windows = data.get("round_windows", [])
            for order, ((r_day, r_month), (f_day, f_month)) in enumerate(windows, 1):
                RoundWindow.objects.update_or_create(regime=regime, order=order, defaults={
                    "receive_by_day": r_day, "receive_by_month": r_month,
                    "finish_by_day": f_day, "finish_by_month": f_month})
            RoundWindow.objects.filter(regime=regime, order__gt=len(windows)).delete()
    for data in regimes:
        source = by_code[data["criteria_from"]] if data["criteria_from"] else None
        regime = by_code[data["code"]]
        if regime.criteria_from_id != (source.pk if source else None):
            regime.criteria_from = source
            regime.save(update_fields=["criteria_from"])
    return by_code
