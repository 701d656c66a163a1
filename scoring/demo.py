"""Scoring's step of ``manage.py seed_demo`` (registered in ``ScoringConfig.ready`` at
order 30, a base step: most tests need it; see ``ocop.demo``)."""

from .loader import load_criteria_files
from .models import ProcessLevel, Regime, RoundWindow, StarBand
from .regimes import sync_regimes


def seed_regulations(ctx):
    """The regimes with their process levels and star bands (which ``migrate`` also writes;
    synced again so that a flushed database is seeded whole) and the 52 shipped criteria
    sets (``ctx["criteria"]``: the load report). Idempotent. The checklists of the regimes
    follow in ``dossiers.demo.seed_checklists``."""
    sync_regimes(Regime, ProcessLevel, StarBand, RoundWindow=RoundWindow)
    ctx["criteria"] = load_criteria_files()
