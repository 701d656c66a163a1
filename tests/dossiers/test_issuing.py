"""The background rendering of an issued decision (dossiers.issuing): idempotent, shared
by workers, failures recorded and retried, stale rows woken by the sweep."""

import datetime

import pytest
from django.utils import timezone

from dossiers import decisions, issuing
from dossiers.models import Decision, JobStatus, Rating
from tests.dossiers.recognition import recognised


def _issue(world, n=3):
    dossiers = [recognised(world["round"], stars=3 + i % 2, unit=world["commune"])
                for i in range(n)]
    draft = decisions.draft_decision(world["staff"], dossiers)
    return decisions.issue_decision(world["staff"], draft, number=1,
                                    date=timezone.localdate(), signer_name="A")


def _files(decision):
    decision.refresh_from_db()
    return (decision.file.name, decision.bundle.name,
            sorted(Rating.objects.filter(decision=decision).values_list("certificate",
                                                                        flat=True)))


def test_generate_makes_every_document_once_and_a_second_run_changes_nothing(recognition_world):
    decision = _issue(recognition_world)
    assert decision.job_status == JobStatus.QUEUED  # on-commit callbacks not run here
    issuing.generate(decision.pk)
    first = _files(decision)
    assert decision.job_status == JobStatus.DONE and all(first[2]) and first[1]
    assert (decision.job_done, decision.job_total) == (4, 4)
    issuing.generate(decision.pk)
    assert _files(decision) == first
    decision.refresh_from_db()
    assert decision.job_attempts == 1


def test_a_failed_render_is_recorded_then_the_retry_keeps_what_was_made(recognition_world,
                                                                        monkeypatch):
    decision = _issue(recognition_world)
    from dossiers import certificates

    real = certificates.render_certificate
    calls = {"n": 0}

    def flaky(rating):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("font missing")
        return real(rating)

    monkeypatch.setattr(certificates, "render_certificate", flaky)
    with pytest.raises(issuing.RenderFailed):
        issuing.generate(decision.pk)
    decision.refresh_from_db()
    assert decision.job_status == JobStatus.FAILED and "font missing" in decision.job_reason
    made = list(Rating.objects.filter(decision=decision).exclude(certificate="")
                .values_list("pk", "certificate"))
    assert len(made) == 1 and decision.file
    issuing.requeue(decision)  # "Try again now": what was made is counted, not redone
    decision.refresh_from_db()
    assert (decision.job_status, decision.job_done, decision.job_total) == (
        JobStatus.QUEUED, 2, 4)
    issuing.generate(decision.pk)
    decision.refresh_from_db()
    assert decision.job_status == JobStatus.DONE and decision.job_attempts == 1
    kept = dict(Rating.objects.filter(decision=decision).values_list("pk", "certificate"))
    assert all(kept[pk] == name for pk, name in made)  # nothing made twice
    assert calls["n"] == 4


def test_sweep_wakes_rows_left_queued_or_running_and_not_fresh_ones(recognition_world, monkeypatch):
    decision = _issue(recognition_world, n=1)
    woken = []
    monkeypatch.setattr(issuing.jobs, "wake", lambda task, pk: woken.append(pk) or True)
    assert issuing.sweep_stale() == []  # just queued: its wake-up may still come
    later = timezone.now() + issuing.QUEUED_STALE + datetime.timedelta(seconds=5)
    assert issuing.sweep_stale(now=later) == [decision.pk]
    assert woken == [decision.pk]
    Decision.objects.filter(pk=decision.pk).update(
        job_status=JobStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(hours=1))
    assert issuing.sweep_stale(now=later + datetime.timedelta(minutes=5)) == [decision.pk]
    issuing.generate(decision.pk)
    assert issuing.sweep_stale(now=later + datetime.timedelta(hours=2)) == []


def test_a_worker_that_died_is_taken_over_until_the_attempts_run_out(recognition_world):
    decision = _issue(recognition_world, n=1)
    Decision.objects.filter(pk=decision.pk).update(
        job_status=JobStatus.RUNNING, job_attempts=issuing.MAX_ATTEMPTS,
        started_at=timezone.now() - datetime.timedelta(hours=1))
    issuing.generate(decision.pk)
    decision.refresh_from_db()
    assert decision.job_status == JobStatus.FAILED and not decision.file
    issuing.requeue(decision)
    decision.refresh_from_db()
    assert decision.job_status == JobStatus.QUEUED and decision.job_attempts == 0
    assert (decision.job_done, decision.job_total) == (0, 2)
    issuing.generate(decision.pk)
    decision.refresh_from_db()
    assert decision.job_status == JobStatus.DONE


def test_draft_is_never_rendered_by_the_job(recognition_world):
    world = recognition_world
    draft = decisions.draft_decision(world["staff"], [recognised(world["round"],
                                                                 unit=world["commune"])])
    issuing.generate(draft.pk)
    draft.refresh_from_db()
    assert draft.job_status == JobStatus.IDLE and not draft.file

