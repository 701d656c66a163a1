/* Self-assessment page (Mẫu 02): the autosave state in the status line (aria-live) and a
   warning before leaving with unsaved changes. Saving itself is htmx: each criterion's
   <fieldset> posts its option and note on "change" (a radio, or the note when it loses
   focus), queued per form; the answer updates the criterion's result line and, out of band,
   the status line and the running total. A refusal (4xx) carries its message for the
   criterion and is shown too; the inputs are never replaced, so what was typed stays.
   Evidence files are sent by the "Save" button with the whole form, which is also all
   there is without JavaScript. */
(function () {
  "use strict";
  var form = document.getElementById("self-assessment");
  var labelsEl = document.getElementById("sa-labels");
  if (!form || !labelsEl) { return; }
  var labels = labelsEl.dataset;
  var pending = 0;        /* autosaves sent or queued, not answered yet */
  var dirty = new Set();  /* notes typed and not sent yet */
  var failed = new Set(); /* criteria whose last autosave was refused or not delivered */
  var leaving = false;

  function inForm(el) { return !!(el && el.closest && el.closest("#self-assessment")); }
  function isNote(el) { return el && el.tagName === "INPUT" && el.type === "text"; }
  function filesChosen() {
    return Array.prototype.some.call(form.querySelectorAll("input[type=file]"),
                                     function (input) { return input.files && input.files.length > 0; });
  }
  function show(name) {
    var line = document.getElementById("save-status");
    if (!line) { return; }
    var span = document.createElement("span");
    span.className = "save-state " + name;
    span.setAttribute("data-state", name);
    span.textContent = labels[name] || name;
    line.replaceChildren(span);
  }
  /* After an answer: what is still not saved wins over the server's "saved". */
  function settle() {
    if (pending > 0) { show("saving"); } else if (dirty.size > 0) { show("unsaved"); } else if (filesChosen()) { show("files"); }
  }

  document.addEventListener("input", function (event) {
    if (inForm(event.target) && isNote(event.target)) { dirty.add(event.target); show("unsaved"); }
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!inForm(el) || el.disabled) { return; }
    if (el.type === "file") { show(filesChosen() ? "files" : "unsaved"); settle(); return; }
    dirty.delete(el);
    pending += 1;
    show("saving");
  }, true);
  /* The whole form carries every value (files included): nothing more to wait for. */
  form.addEventListener("submit", function () { leaving = true; });

  /* The answers to refused autosaves (403, 404, 409, 422) carry the message for the
     criterion (the server marks them with HX-Reswap): shown, never treated as saved. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!inForm(event.detail.elt || event.target) || !xhr || xhr.status < 400) { return; }
    if (xhr.getResponseHeader("HX-Reswap")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!inForm(event.target)) { return; }
    pending = Math.max(0, pending - 1);
    var xhr = event.detail.xhr;
    var ok = !!(xhr && xhr.status >= 200 && xhr.status < 300);
    var fieldset = event.target.closest("fieldset");
    if (fieldset) { fieldset.classList.toggle("has-error", !ok); }
    if (!ok) {
      failed.add(event.target);
      if (!(xhr && xhr.getResponseHeader("HX-Reswap"))) { show(xhr && xhr.status ? "error" : "offline"); }
      return;
    }
    failed.delete(event.target);
    settle();
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (inForm(event.target)) { failed.add(event.target); show("offline"); }
  });

  window.addEventListener("beforeunload", function (event) {
    if (leaving) { return; }
    if (pending > 0 || dirty.size > 0 || failed.size > 0 || filesChosen()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
