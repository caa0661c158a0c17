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

  // --- one polite live region for what changed while the page stayed put ---------------
  // Screen readers hear each real change once: the buddy's check-in arriving with a poll, an action's
  // outcome, a save. Polls that change nothing (304, or the same texts) say nothing.
  let announcer = null;
  function announce(text) {
    text = (text || "").replace(/\s+/g, " ").trim();
    if (!announcer || !text || announcer.textContent === text) return;
    announcer.textContent = text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    announcer = document.createElement("div");
    announcer.id = "announcer";
    announcer.className = "sr-only";
    announcer.setAttribute("role", "status");
    announcer.setAttribute("aria-live", "polite");
    announcer.setAttribute("aria-atomic", "true");
    (document.getElementById("main") || document.body).appendChild(announcer);
  });

  // Move keyboard focus to `el`; headings and regions become focusable from script only.
  function focusOn(el) {
    if (!el) return;
    if (!el.matches("a[href], button, input, select, textarea, summary, [tabindex]")) el.tabIndex = -1;
    el.focus();
  }
  function focusLost() {
    return !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
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
  const NOTES_SAVED = "Notes saved.";
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
    const shown = feedback.querySelector("[data-state]");
    if (shown && shown.dataset.state === state && shown.textContent === text) return;
    if (state === "failed") announce(text);
    if (state === "pending" && announcer && announcer.textContent === NOTES_SAVED) announcer.textContent = "";
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

  // The save's answer is in: say it once (a conflict box speaks for itself, as an alert); when the
  // button pressed went away with the old answer ("Keep mine", "Use theirs"), the editor takes focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    const n = notesParts();
    if (!n || !event.detail.target || event.detail.target.id !== "notes-feedback") return;
    const shown = n.feedback.querySelector("[data-state]");
    if (shown && shown.dataset.state === "saved") announce(NOTES_SAVED);
    if (shown && shown.dataset.state === "failed") announce(shown.textContent);
    if (focusLost()) focusOn(n.textarea);
  });

  // --- the session panel: what a swap changed, and where focus goes ---------------------------
  // Texts whose change is worth saying, each with how to say it (the buddy's name where it is needed).
  const WATCHED = [
    ["[data-testid=status]", function (t) { return "Status: " + t + "."; }],
    ["h1", function (t) { return "Venue: " + t + "."; }],
    [".when time", function (t) { return "Time: " + t + "."; }],
    ["[data-testid=participant-buddy] [data-testid=checkin]", function (t, buddy) { return buddy + ": " + t + "."; }],
    ["[data-testid=participant-me] [data-testid=confirmed]", function (t) { return t + "."; }],
    ["[data-testid=participant-buddy] [data-testid=confirmed]", function (t) { return t + "."; }],
    ["[data-testid=reschedule-proposal]", function (t) { return t; }],
    ["[data-testid=dispute-state]", function (t) { return t; }],
  ];
  function textOf(el) { return el ? el.textContent.replace(/\s+/g, " ").trim() : ""; }
  function buddyName(panel) {
    const heading = panel.querySelector("[data-testid=participant-buddy] h2");
    return heading && heading.firstChild ? heading.firstChild.textContent.trim() : "Your buddy";
  }
  function snapshot(panel) {
    return WATCHED.map(function (w) { return textOf(panel.querySelector(w[0])); });
  }
  function changes(before, panel) {
    const after = snapshot(panel), buddy = buddyName(panel), said = [];
    WATCHED.forEach(function (w, i) {
      if (after[i] && after[i] !== before[i]) said.push(w[1](after[i], buddy));
    });
    return said;
  }

  // Where focus was in the old panel, named so that the same control can be found in the new one.
  function keyOf(el) {
    if (el.dataset && el.dataset.action) return '[data-action="' + el.dataset.action + '"]';
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.name && el.form) return 'form[action="' + el.form.getAttribute("action") + '"] [name="' + el.name + '"]';
    const owner = el.closest("[data-testid]");
    if (el.tagName === "SUMMARY" && owner) return '[data-testid="' + owner.dataset.testid + '"] > summary';
    if (el.tagName === "H1") return "h1";  // where focus was put after an action
    return null;
  }
  // What the viewer had typed, ticked or opened in the old panel (a poll must not throw it away).
  function inputsOf(panel) {
    const kept = [];
    panel.querySelectorAll("input, textarea, details[data-testid]").forEach(function (el) {
      if (el.tagName === "DETAILS") {
        if (el.open) kept.push(['[data-testid="' + el.dataset.testid + '"]', "open", true]);
      } else if (el.type === "checkbox") {
        if (el.checked !== el.defaultChecked) kept.push([keyOf(el), "checked", el.checked]);
      } else if (el.type !== "hidden" && el.value !== el.defaultValue) {
        kept.push([keyOf(el), "value", el.value]);
      }
    });
    return kept.filter(function (k) { return k[0]; });
  }

  let swapping = null;  // what the panel was before the swap now in progress
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.shouldSwap || !event.detail.target || event.detail.target.id !== "session-panel") return;
    const panel = event.detail.target, active = document.activeElement;
    const focused = panel.contains(active) ? active : null;
    swapping = {
      byPoll: event.detail.requestConfig && event.detail.requestConfig.elt.id === "poller",
      texts: snapshot(panel),
      inputs: inputsOf(panel),
      focus: focused && keyOf(focused),
      selection: focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null,
    };
  });

  // The buddy's notes flow into the editor if it holds nothing unsaved; true when they did.
  function takeRemoteNotes() {
    const n = notesParts();
    const remote = document.getElementById("remote-notes");
    if (!n || !remote || n.textarea.value !== savedText || n.form.classList.contains("htmx-request")) return false;
    if (Number(remote.dataset.version) <= Number(n.version.value)) return false;
    const changed = remote.dataset.digest !== n.digest.value;
    if (changed) {
      n.textarea.value = remote.textContent;
      savedText = n.textarea.value;
    }
    n.version.value = remote.dataset.version;
    n.digest.value = remote.dataset.digest;
    return changed;
  }

  // The panel came back (poll or action).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "session-panel") return;
    tick();
    const panel = document.getElementById("session-panel");
    const notesChanged = takeRemoteNotes();
    const was = swapping;
    swapping = null;
    if (!panel || !was) return;
    // The announcer speaks for the panel: a status message inside the new panel would say it twice.
    panel.querySelectorAll("[role=status]").forEach(function (el) { el.removeAttribute("role"); });
    was.inputs.forEach(function (k) {
      const el = panel.querySelector(k[0]);
      if (el && !el.disabled) el[k[1]] = k[2];
    });
    const said = changes(was.texts, panel);
    if (notesChanged) said.push(buddyName(panel) + " changed the shared notes.");
    if (was.byPoll) {
      // The buddy did something: say what, and leave focus where it was (on the same control).
      announce(said.join(" "));
      if (!was.focus) return;
      const same = panel.querySelector(was.focus);
      if (same && !same.disabled) {
        focusOn(same);
        if (was.selection && same.setSelectionRange) same.setSelectionRange(was.selection[0], was.selection[1]);
      } else {
        focusOn(panel.querySelector("h1"));
      }
    } else {
      // The viewer's own action: its outcome, then focus on what comes next (else the heading).
      announce([textOf(panel.querySelector(".msg"))].concat(said).join(" "));
      focusOn(panel.querySelector(".btn.primary:not(:disabled)") || panel.querySelector("h1"));
    }
  });

  // --- history: a new page of results ---------------------------------------------------------
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "history-results") return;
    const results = document.getElementById("history-results");
    if (!results) return;
    announce(textOf(results.querySelector(".errors, p")));
    if (focusLost()) focusOn(results);  // the pager link pressed is gone: continue from the new page's top
  });
})();
