"""Fixtures shared by the dossier tests."""

import pytest

from ocop.accounts.models import Role
from tests import factories
from tests.dossiers import new_dossier


@pytest.fixture
def setting(cantho, criteria, make_user):
    """A Ninh Kiều officer's new dossier with its label line (the upload tests' arrangement)."""
    officer = make_user("canbo.nk", Role.LOCAL_OFFICER, cantho["ninhkieu"])
    round_ = factories.evaluation_round(cantho["ninhkieu"])
    dossier = new_dossier(officer, round_, cantho["ninhkieu"])
    return {"officer": officer, "dossier": dossier, "round": round_,
            "label": dossier.documents.get(item__code="label")}


@pytest.fixture
def recognition_world(cantho, criteria, make_user):
    """Department staff of current Cần Thơ, a commune of it and a 26/2026 provincial
    round (for recognised results: ``tests/dossiers/recognition.py``)."""
    from ocop.regions.models import AdministrativeUnit, Level
    from tests.dossiers.recognition import province_round

    staff = make_user("sonn", Role.DEPARTMENT_STAFF, cantho["province"])
    commune = AdministrativeUnit.objects.current().filter(
        province=cantho["province"], level=Level.COMMUNE).order_by("code").first()
    return {"staff": staff, "round": province_round(cantho), "commune": commune, **cantho}
