// Payout Desk progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  // "Copy" buttons: <button data-copy="text"> copies its text to the clipboard.
  // The button's own label is kept once, so that a second click while it
  // says "Copied" does not make "Copied" its label for good.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn || !navigator.clipboard) return;
    ev.preventDefault();
    if (!btn.dataset.label) btn.dataset.label = btn.textContent;
    navigator.clipboard.writeText(btn.getAttribute("data-copy")).then(function () {
      btn.textContent = "Copied";
      clearTimeout(btn.copiedTimer);
      btn.copiedTimer = setTimeout(function () { btn.textContent = btn.dataset.label; }, 1500);
    });
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
  // A message passed in the address (?notice=created) is for the page it
  // led to, once: the address drops it, so that a reload, or the page
  // bookmarked or shared, does not say "created" again hours later.
  if (window.URL && history.replaceState && /[?&]notice=/.test(location.search)) {
    var url = new URL(location.href);
    url.searchParams.delete("notice");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
})();
