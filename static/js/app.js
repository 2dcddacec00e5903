// Payout Desk progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  // "Copy" buttons: <button data-copy="text"> copies its text to the clipboard.
  // The button's own label is kept once, so that a second click while it
  // says "Copied" does not make "Copied" its label for good. Where the
  // clipboard cannot be written (a plain-http address, a refusal), the text
  // next to the button is selected and the button says how to copy it.
  // What it says is told to screen readers once, through the live region
  // beside it (data-copy-said), not again when the label comes back.
  function say(btn, msg) {
    if (!btn.dataset.label) btn.dataset.label = btn.textContent;
    btn.textContent = msg;
    var said = btn.parentElement && btn.parentElement.querySelector("[data-copy-said]");
    if (said) said.textContent = msg;
    clearTimeout(btn.copiedTimer);
    btn.copiedTimer = setTimeout(function () {
      btn.textContent = btn.dataset.label;
      if (said) said.textContent = "";
    }, 2500);
  }
  function selectNear(btn) {
    var box = btn.parentElement;
    var field = box && box.querySelector("input[readonly]");
    if (field) {
      field.focus();
      field.select();
      return true;
    }
    var code = box && box.querySelector("code");
    if (code && window.getSelection) {
      var range = document.createRange();
      range.selectNodeContents(code);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      return true;
    }
    return false;
  }
  // They are drawn hidden, as they do nothing without this file.
  function showCopyButtons(root) {
    root.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }
  showCopyButtons(document);
  document.addEventListener("htmx:load", function (ev) { showCopyButtons(ev.target); });
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    ev.preventDefault();
    var fallback = function () {
      say(btn, selectNear(btn) ? "Selected: press Ctrl+C (⌘C)" : "Could not copy");
    };
    if (!navigator.clipboard || !window.isSecureContext) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(btn.getAttribute("data-copy")).then(function () { say(btn, "Copied"); }, fallback);
  });
  // Fields that apply only for some values of another field (data-when,
  // data-when-values) are shown only then: a Smart Glocal payout to a card
  // does not ask for an IBAN. The server ignores fields that do not apply.
  function applyWhen(form) {
    form.querySelectorAll("[data-when]").forEach(function (box) {
      var other = form.elements.namedItem(box.getAttribute("data-when"));
      if (!other || other.value === undefined) return;
      var values = box.getAttribute("data-when-values").split(" ");
      box.hidden = values.indexOf(other.value) < 0;
    });
  }
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("[data-when]")) applyWhen(form);
  });
  document.addEventListener("change", function (ev) {
    var form = ev.target.form;
    if (form && form.querySelector("[data-when]")) applyWhen(form);
  });
  // Forms marked data-once disable their submit buttons after the first
  // submit, so a double click sends one request (the server is idempotent
  // anyway).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.submitted) { ev.preventDefault(); return; }
    form.dataset.submitted = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });
  // A page restored by Back comes with its forms as they were when left,
  // submitted included: they are made usable again.
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) return;
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.removeAttribute("aria-disabled"); });
    });
  });
  // A poll of a payout's page that found nothing new is answered with no
  // content, so the page is left as it is; it still says when the status
  // was last read, from the answer's X-Status-As-Of (RFC 3339, UTC).
  document.addEventListener("htmx:afterRequest", function (ev) {
    var xhr = ev.detail && ev.detail.xhr;
    var at = xhr && xhr.status === 204 && xhr.getResponseHeader("X-Status-As-Of");
    if (!at) return;
    document.querySelectorAll("[data-testid=as-of] time").forEach(function (t) {
      t.setAttribute("datetime", at);
      t.textContent = at.substring(11, 19) + " UTC";
    });
  });
  // A poll keeps the focus where it was when the new content has the
  // focused element's id (htmx's own doing). When it has not, as when the
  // payout became final and "Refresh status" went, the focus would fall
  // back to the start of the page: it goes to the status, what changed.
  var focusInLive = false;
  document.addEventListener("htmx:beforeSwap", function () {
    var live = document.getElementById("live");
    focusInLive = !!live && live.contains(document.activeElement);
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusInLive) return;
    focusInLive = false;
    var now = document.activeElement;
    if (now && now !== document.body && document.contains(now)) return;
    var status = document.getElementById("status-heading");
    if (status) status.focus({ preventScroll: true });
  });
  // A message passed in the address (?notice=created) is for the page it
  // led to, once: the address drops it, so that a reload, or the page
  // bookmarked or shared, does not say "created" again hours later.
  if (window.URL && history.replaceState && /[?&]notice=/.test(location.search)) {
    var url = new URL(location.href);
    url.searchParams.delete("notice");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
})();
