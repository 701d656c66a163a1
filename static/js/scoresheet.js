/* Scoresheet page: the autosave state in the status line (aria-live) and a warning before
   leaving with unsaved changes. Saving itself is htmx: each criterion's <fieldset> posts on
   "change" (a radio, or a note when it loses focus), queued per form so that every request
   carries the version the previous answer returned. Without JavaScript the form posts
   every choice at once. */
(function () {
  "use strict";
  var labels = {};
  var pending = 0;      /* changes sent or queued, not answered yet */
  var leaving = false;
  var deferred = null;  /* a Save/Submit press waiting for the autosaves in flight */
  try { labels = JSON.parse(document.getElementById("sheet-labels").textContent); } catch (e) { /* none */ }

  function statusLine() { return document.getElementById("save-status"); }
  function inSheet(el) { return !!(el && el.closest && el.closest("#sheet")); }
  function state() {
    var span = statusLine() && statusLine().querySelector("[data-state]");
    return span ? span.getAttribute("data-state") : "";
  }
  function show(name) {
    var line = statusLine();
    if (!line) { return; }
    var span = document.createElement("span");
    span.className = "save-state " + name;
    span.setAttribute("data-state", name);
    span.textContent = labels[name] || name;
    line.replaceChildren(span);
  }

  document.addEventListener("input", function (event) {
    if (inSheet(event.target) && event.target.tagName === "TEXTAREA") { show("unsaved"); }
  });
  document.addEventListener("change", function (event) {
    if (inSheet(event.target) && !event.target.disabled) { pending += 1; show("unsaved"); }
  }, true);
  /* Save / Submit posts the whole form with the page's version: wait until the autosaves
     in flight have answered (and updated that version), then send it. */
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "sheet") { return; }
    if (pending > 0) {
      event.preventDefault();
      deferred = {form: event.target, submitter: event.submitter || null};
      show("saving");
      return;
    }
    leaving = true;
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (inSheet(event.target)) { show("saving"); }
  });
  /* A 409 (changed in another tab) or 422 (refused) answer replaces the whole sheet with the
     values stored and the server's message; queued saves of the old page are dropped. The
     event is caught before the swap (htmx fires it on the swap target). */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var config = event.detail.requestConfig;
    var source = (config && config.elt) || event.target;
    if (inSheet(source) && event.detail.xhr && event.detail.xhr.status !== 200) {
      pending = 0;
      deferred = null;  /* the member reads the message first */
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!inSheet(event.target) || !event.detail.xhr || event.detail.xhr.status !== 200) { return; }
    pending = Math.max(0, pending - 1);
    if (pending > 0) { show("saving"); return; }
    if (deferred && document.body.contains(deferred.form)) {
      var next = deferred;
      deferred = null;
      next.form.requestSubmit(next.submitter);
    }
  });
  document.addEventListener("htmx:sendError", function () { pending = 0; deferred = null; show("offline"); });
  document.addEventListener("htmx:responseError", function () { pending = 0; deferred = null; show("error"); });
  document.addEventListener("htmx:timeout", function () { pending = 0; deferred = null; show("offline"); });

  /* "Next unanswered" and the lists of unanswered criteria: put the focus on the first
     option so that the arrow keys choose at once. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href^='#crit-']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var radio = target && (target.querySelector("input[type=radio]:checked") ||
                           target.querySelector("input[type=radio]"));
    if (radio && !radio.disabled) {
      event.preventDefault();
      target.scrollIntoView({block: "start"});
      radio.focus();
      history.replaceState(null, "", link.getAttribute("href"));
    }
  });

  window.addEventListener("beforeunload", function (event) {
    if (leaving) { return; }
    var now = state();
    if (now === "unsaved" || now === "saving" || now === "error" || now === "offline") {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
