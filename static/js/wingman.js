/* WingmanMatch pages: small progressive enhancements on top of htmx.
 * Everything here is optional: without JavaScript every form still posts and redirects. */
(function () {
  "use strict";

  // 304 means "nothing changed": keep what is on the page. 409 (notes conflict) and
  // 422 (refused input) carry a fragment meant to be shown.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "304", swap: false },
      { code: "409", swap: true },
      { code: "422", swap: true },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  // --- live countdowns ------------------------------------------------------------
  function part(n, unit) { return n ? n + " " + unit : ""; }
  function spell(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    const m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    if (d) return [part(d, "d"), part(h, "h")].join(" ").trim();
    if (h) return [part(h, "h"), part(m, "min")].join(" ").trim();
    return (m ? m + " min " : "") + s + " s";
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      const at = Date.parse(el.dataset.countdown);
      if (isNaN(at)) return;
      const diff = Math.round((at - Date.now()) / 1000);
      el.textContent = diff > 0 ? "starts in " + spell(diff) : "scheduled " + spell(-diff) + " ago";
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  // --- polling the session panel with If-None-Match ----------------------------------
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "poller") return;
    const panel = document.getElementById("session-panel");
    if (panel && panel.dataset.etag) event.detail.headers["If-None-Match"] = panel.dataset.etag;
  });

  // --- notes: saving state, and the buddy's edits when the editor is clean ---------------
  let savedText = null;     // the text the server holds, as far as this page knows
  let sending = null;       // the text of the save in flight

  function notesParts() {
    const form = document.getElementById("notes-form");
    if (!form) return null;
    return {
      form: form,
      textarea: form.querySelector("textarea[name=notes]"),
      version: form.querySelector("input[name=expected_version]"),
      digest: form.querySelector("input[name=base_digest]"),
      feedback: document.getElementById("notes-feedback"),
    };
  }
  function say(feedback, state, text) {
    feedback.innerHTML = "";
    const span = document.createElement("span");
    span.className = "state " + state;
    span.dataset.state = state;
    span.textContent = text;
    feedback.appendChild(span);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const n = notesParts();
    if (!n) return;
    savedText = n.textarea.value;
    n.textarea.addEventListener("input", function () {
      if (n.textarea.value !== savedText) say(n.feedback, "pending", "Unsaved changes…");
    });
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    const n = notesParts();
    if (!n || event.detail.elt !== n.form) return;
    sending = n.textarea.value;
    say(n.feedback, "saving", "Saving…");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const n = notesParts();
    if (!n) return;
    const fromNotes = event.detail.elt === n.form || n.feedback.contains(event.detail.elt);
    if (!fromNotes) return;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 200 && event.detail.elt === n.form) savedText = sending;
    if (status === 0 || status >= 500) {
      say(n.feedback, "failed", "Failed to save. Your text is still here; press Save notes to try again.");
    }
  });

  // A form of the conflict box replaced the editor ("Use theirs"): that text is now saved.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const n = notesParts();
    if (n && event.detail.target && event.detail.target.id === "notes-editor") savedText = n.textarea.value;
  });

  // The panel came back (poll or action): take the buddy's notes if this editor has nothing unsaved.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "session-panel") return;
    tick();
    const n = notesParts();
    const remote = document.getElementById("remote-notes");
    if (!n || !remote || n.textarea.value !== savedText || sending !== null && n.form.classList.contains("htmx-request")) return;
    if (Number(remote.dataset.version) <= Number(n.version.value)) return;
    if (remote.dataset.digest !== n.digest.value) {
      n.textarea.value = remote.textContent;
      savedText = n.textarea.value;
    }
    n.version.value = remote.dataset.version;
    n.digest.value = remote.dataset.digest;
  });
})();
