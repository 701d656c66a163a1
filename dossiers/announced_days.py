"""The days off and worked days each year's announcement adds to (or takes from) the
``holidays`` package's Vietnam calendar (docs/deadlines.md), as data: written into
``PublicHoliday`` by migration 0008 and by the demo's regulation step, then kept by the
administrators in the admin as each year's plan is announced (Bộ Nội vụ / Thủ tướng).

Each entry: (date, name, working_day).
"""

import datetime

ANNOUNCED = [
    # The package moves a day off to Monday 31/08/2026 in exchange for Saturday 22/08; the
    # 2026 National Day plan used here (and pinned by the deadline tests) rests 01–02/09
    # only, so 31/08 is worked.
    (datetime.date(2026, 8, 31), "Làm việc bình thường (Quốc khánh 2026 nghỉ 01–02/9)", True),
]


def sync_announced_days(PublicHoliday, days=ANNOUNCED):  # noqa: N803
    """Create or update the announced days (historical model accepted); other rows are
    left alone."""
    for day, name, working in days:
        PublicHoliday.objects.update_or_create(
            date=day, defaults={"name": name, "working_day": working})
