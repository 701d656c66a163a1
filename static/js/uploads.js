/* The dossier's checklist (docs/documents.md, "Filing with few clicks"): drop files on a
   line, see each line's progress, and upload every line's chosen files with one button.
   Without JavaScript each line's own form uploads that line (several files at once). */
(function () {
  "use strict";

  function fileInputs(root) {
    return Array.prototype.slice.call(
      root.querySelectorAll("form.upload input[type=file]"));
  }

  function progressOf(form) { return form && form.querySelector("progress.upload-progress"); }

  function showProgress(form, percent) {
    var bar = progressOf(form);
    if (!bar) return;
    bar.hidden = false;
    bar.value = percent;
  }

  /* htmx sends a line's form: show its upload progress on the line. */
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form.upload");
    if (form && event.detail.lengthComputable) {
      showProgress(form, Math.round(100 * event.detail.loaded / event.detail.total));
    }
  });

  function setupDropZones(root) {
    root.querySelectorAll("form.upload[data-drop-zone]").forEach(function (form) {
      if (form.dataset.dropReady) return;
      form.dataset.dropReady = "1";
      var hint = form.querySelector(".drop-hint");
      if (hint) hint.hidden = false;
      var line = form.closest("li.doc") || form;
      line.addEventListener("dragover", function (event) {
        if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
        event.preventDefault();
        line.classList.add("drop-over");
      });
      line.addEventListener("dragleave", function () { line.classList.remove("drop-over"); });
      line.addEventListener("drop", function (event) {
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        event.preventDefault();
        line.classList.remove("drop-over");
        var input = form.querySelector("input[type=file]");
        input.files = event.dataTransfer.files;
        /* dropped files are sent at once, through htmx (the line is swapped) */
        if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.requestSubmit(); }
      });
    });
  }

  function setupUploadAll(root) {
    var form = root.querySelector("form#checklist-upload");
    if (!form) return;
    form.hidden = false;
    var status = form.querySelector(".checklist-upload-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var section = document.getElementById("checklist");
      var data = new FormData(form);
      var count = 0, lines = [];
      fileInputs(section).forEach(function (input) {
        if (!input.files.length) return;
        lines.push(input.closest("form.upload"));
        Array.prototype.forEach.call(input.files, function (file) {
          data.append(input.name, file);
          count += 1;
        });
      });
      if (!count) { status.textContent = form.dataset.noFiles; return; }
      function failed() {
        status.textContent = form.dataset.failed;
        form.querySelector("button").disabled = false;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        var percent = Math.round(100 * e.loaded / e.total);
        lines.forEach(function (line) { showProgress(line, percent); });
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 500 || !xhr.responseText) { failed(); return; }
        section.outerHTML = xhr.responseText;
        var fresh = document.getElementById("checklist");
        if (window.htmx) window.htmx.process(fresh);
        setup(fresh);
      });
      xhr.addEventListener("error", failed);
      form.querySelector("button").disabled = true;
      xhr.send(data);
    });
  }

  function setup(root) {
    setupDropZones(root);
    setupUploadAll(root);
  }

  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  /* a line swapped by htmx gets its drop zone again */
  document.addEventListener("htmx:afterSettle", function (event) { setupDropZones(event.target.parentNode || document); });
})();
