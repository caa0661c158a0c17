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
      // data-ahead / data-behind word the clock before and after its time ("%s" is the span).
      const diff = Math.round((at - Date.now()) / 1000);
      const words = diff > 0 ? el.dataset.ahead || "starts in %s" : el.dataset.behind || "was due %s ago";
      el.textContent = words.replace("%s", spell(Math.abs(diff)));
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
  let sending = null;       // the text of the save in flight, if any

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

  // A save starts: from the editor, or from "Keep mine" / "Use theirs" in the conflict box.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const n = notesParts();
    if (!n) return;
    if (event.detail.elt === n.form) {
      sending = n.textarea.value;
      say(n.feedback, "saving", "Saving…");
    } else if (n.feedback.contains(event.detail.elt)) {
      const sent = event.detail.elt.querySelector("input[name=notes]");
      if (sent) sending = sent.value.replace(/\r\n/g, "\n");
    }
  });

  // The network or the server failed: say so; the text stays in the editor.
  document.addEventListener("htmx:afterRequest", function (event) {
    const n = notesParts();
    if (!n || event.detail.elt !== n.form) return;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 0 || status >= 500) {
      say(n.feedback, "failed", "Failed to save. Your text is still here; press Save notes to try again.");
    }
  });

  // A save succeeded: its answer carries the new version (and, for "Use theirs", the new editor).
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const n = notesParts();
    const id = event.detail.target && event.detail.target.id;
    if (!n || (id !== "notes-meta" && id !== "notes-editor")) return;
    savedText = id === "notes-editor" ? n.textarea.value : sending;
  });

  // The panel came back (poll or action): take the buddy's notes if this editor has nothing unsaved.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "session-panel") return;
    tick();
    const n = notesParts();
    const remote = document.getElementById("remote-notes");
    if (!n || !remote || n.textarea.value !== savedText || n.form.classList.contains("htmx-request")) return;
    if (Number(remote.dataset.version) <= Number(n.version.value)) return;
    if (remote.dataset.digest !== n.digest.value) {
      n.textarea.value = remote.textContent;
      savedText = n.textarea.value;
    }
    n.version.value = remote.dataset.version;
    n.digest.value = remote.dataset.digest;
  });
})();
