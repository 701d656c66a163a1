import time, pytest
from django.test.utils import CaptureQueriesContext
pytestmark = pytest.mark.django_db

def test_t(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    from ocop.demo import BASE_STEPS, seed_demo
    from dossiers.demo import seed_dossiers
    from councils.demo import seed_ninh_kieu, seed_can_tho
    with django_capture_on_commit_callbacks(execute=True):
      for step in [*BASE_STEPS, seed_dossiers, seed_ninh_kieu, seed_can_tho]:
        t=time.perf_counter(); step({}); print(step.__name__, round(time.perf_counter()-t,2))
    t=time.perf_counter(); seed_demo(); print("again", round(time.perf_counter()-t,2))
