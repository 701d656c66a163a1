"""Dossier services: the only way producers, products, dossiers, their documents and files
are created or changed. Each function checks permission (``dossiers.rules``) and
preconditions, runs in one transaction, appends to the dossier's timeline (``Transition``)
for state changes and writes the audit event. A refused action raises :class:`DossierError`
with a Vietnamese message (gettext) and changes nothing.

CONTRACT (views, API, demo data and councils call exactly these):

    class DossierError(Exception): .message, .code, .fields (dict field → [messages])

    create_producer(user, *, data: dict) -> Producer
    create_product(user, *, producer, name, criteria_set) -> Product
    create_dossier(user, *, round, product, registration_type="first", current_rating=None,
                   registration=None) -> Dossier        # state draft, checklist lines created
    update_dossier(user, dossier, *, registration=None, samples_count=None,
                   samples_received_on=None) -> Dossier
    upload_file(user, dossier, uploaded_file, *, document=None) -> DocumentFile
    remove_file(user, file) -> None
    set_self_assessment(user, dossier, *, criterion, option, note="", evidence=None)
        -> SelfAssessmentEntry
    review_document(user, document, *, state, reason="") -> DossierDocument  # verified/rejected

    # workflow (each appends a Transition and an audit event):
    submit(user, dossier) -> Dossier                      # draft → submitted
    return_for_completion(user, dossier, *, reasons: dict[int, str], note="") -> Dossier
        # submitted/resubmitted → returned; reasons: {DossierDocument id: reason}
    resubmit(user, dossier) -> Dossier                    # returned → resubmitted
    accept(user, dossier) -> Dossier                      # submitted/resubmitted → accepted
    record_pre_assessment(user, dossier, *, data: dict) -> Dossier   # accepted → pre_assessed
    start_evaluation(user, dossier) -> Dossier            # accepted/pre_assessed → in_evaluation
    record_result(user, dossier, *, outcome, result: dict) -> Dossier
        # in_evaluation → result_recorded → forwarded / recognised / not_recognised
    withdraw(user, dossier, *, reason) -> Dossier         # any open state → withdrawn

    TRANSITIONS: dict action → function, for the API's transition endpoint
    available_actions(user, dossier) -> list[str]          # buttons the user may press
"""
