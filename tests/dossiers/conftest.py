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
