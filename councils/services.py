"""Council services: the only way councils, sessions, agendas, recusals and results change.

CONTRACT (pages, API, tasks and demo data call exactly these). Each checks permission and
preconditions, runs in one transaction, writes the audit event and raises
``CouncilError(message, code=…, details=…)`` with a Vietnamese message when refused.

    class CouncilError(Exception): .message, .code, .details

    create_council(user, *, data: dict, members: list[dict]) -> Council
    create_session(user, *, council, round, date, place="") -> EvaluationSession
    set_agenda(user, session, dossiers) -> EvaluationSession
        accepted / pre-assessed dossiers of the round; calls
        dossiers.services.start_evaluation for each
    open_scoring(user, session) -> EvaluationSession            preparing → open
    start_meeting(user, session, *, present: list[CouncilMember]) -> EvaluationSession
        open → meeting, records attendance
    declare_recusal(user, session, *, member, dossier, reason) -> Recusal
        by the member, or by the secretary for them
    item_result(session, dossier) -> ItemResult
        pure read: members counted, means per part, total, band, capped star with its
        reasons, divergence, outcome of the regime level (scoring.rules.evaluate)
    close_item(user, session, dossier) -> AgendaItem
        chair only; needs quorum; records the result and moves the dossier on via
        dossiers.services.record_result
    close_session(user, session) -> EvaluationSession
        chair only; every item closed → closed; queues the minutes PDF (Celery)

In councils/queries.py (the independence rule lives there, once):

    sheets_visible_to(user, session) -> QuerySet[Scoresheet]
        a member sees only their own sheets until they submitted theirs / the session is
        closed (per Council.peer_visibility); the chair and secretary see submission status
        (not choices) through the tracker; department staff see all after close
    can_see_choices(user, sheet) -> bool
"""
