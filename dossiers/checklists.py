"""The dossier checklist (docs/documents.md) as plain data, and the function that writes it.

Every dossier gets one ``DossierDocument`` line per ``ChecklistItem`` of its round's regime
that applies to its criteria-set number. The data migration ``0003_seed_checklists`` calls
:func:`sync_checklists` with the historical models; calling it again (from a later migration,
after editing this file) updates the seeded rows in place, matched by (regime, code).
Items an administrator added in the admin (other codes) are left alone, and nothing is
deleted: a line of an existing dossier refers to its item (PROTECT).

Titles are the legal/administrative names of the papers, kept in Vietnamese as data (they
are not interface strings and are not translated).

Choices made where the rules are not explicit:

* The same forms apply under 148, 148 as amended by 1489 and 26/2026 (docs/documents.md),
  so the three regimes get the same list. 1048 is legacy data only and gets none.
* Every item is required except the intellectual-property papers (a product may be
  evaluated without a registered trademark; the criteria sheet scores it instead).
* The 5 product samples do not apply to criteria set 26 (tourism services). No other item
  is excluded by set number: which papers a service can replace by an equivalent is left
  to the administrator (the checklist is editable in the admin).
* The samples line is physical: it counts as submitted when at least ``SAMPLES_REQUIRED``
  samples are recorded on the dossier (``services.update_dossier``) or when a paper (e.g.
  the hand-over record) is uploaded to it.
"""

#: Code of the product-samples line and the number of samples a dossier must bring.
SAMPLES_CODE = "samples"
SAMPLES_REQUIRED = 5

#: Criteria set of tourism services (no samples).
TOURISM_SET_NO = 26

#: The papers of docs/documents.md in order. ``set_numbers``: only for these criteria sets
#: (empty = all); ``excluded_set_numbers``: not for these sets.
ITEMS = [
    {"code": "form_01", "title": "Phiếu đăng ký sản phẩm (Mẫu 01)", "required": True},
    {"code": "form_02", "title": "Báo cáo tự đánh giá về sản phẩm (Mẫu 02)",
     "required": True},
    {"code": "business_registration",
     "title": "Giấy đăng ký kinh doanh/đăng ký hộ kinh doanh", "required": True},
    {"code": "food_safety",
     "title": "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm (hoặc tương đương)",
     "required": True},
    {"code": "quality_declaration", "title": "Bản tự công bố/công bố chất lượng sản phẩm",
     "required": True},
    {"code": "test_report", "title": "Phiếu kết quả kiểm nghiệm", "required": True},
    {"code": "label", "title": "Nhãn sản phẩm", "required": True},
    # Not required: see the module docstring.
    {"code": "intellectual_property", "title": "Giấy tờ sở hữu trí tuệ/nhãn hiệu",
     "required": False},
    {"code": "raw_material_contracts", "title": "Hợp đồng/cam kết nguồn nguyên liệu",
     "required": True},
    {"code": "environment", "title": "Hồ sơ môi trường", "required": True},
    {"code": "labour_list", "title": "Danh sách lao động", "required": True},
    {"code": "financial_statements", "title": "Báo cáo tài chính", "required": True},
    {"code": "product_story", "title": "Câu chuyện sản phẩm", "required": True},
    {"code": "photos", "title": "Hình ảnh sản phẩm", "required": True},
    # docs/documents.md: 5 product samples (not for tourism services).
    {"code": SAMPLES_CODE, "title": "Sản phẩm mẫu", "required": True,
     "excluded_set_numbers": [TOURISM_SET_NO]},
]

#: Regime slug → its checklist.
CHECKLISTS = {
    "148": ITEMS,
    "148-1489": ITEMS,
    "26/2026": ITEMS,
}


def sync_checklists(Regime, ChecklistItem, checklists=CHECKLISTS):  # noqa: N803
    """Create or update the checklist items of each regime in ``checklists``.

    Takes the model classes so that a migration can pass its historical models. A regime
    missing from the database is skipped. Returns {regime slug: number of items synced}.
    """
    synced = {}
    for slug, items in checklists.items():
        regime = Regime.objects.filter(slug=slug).first()
        if regime is None:
            continue
        for order, item in enumerate(items, start=1):
            ChecklistItem.objects.update_or_create(
                regime=regime, code=item["code"],
                defaults={
                    "title": item["title"],
                    "order": order * 10,
                    "required": item.get("required", True),
                    "set_numbers": list(item.get("set_numbers", [])),
                    "excluded_set_numbers": list(item.get("excluded_set_numbers", [])),
                },
            )
        synced[slug] = len(items)
    return synced
