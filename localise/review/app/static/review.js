// Keyboard review: j/k move between items, a approves, e edits, r rejects, Ctrl+Enter saves the
// edit, Esc leaves the text box. While typing, the line is checked (length, reading speed,
// glossary) through /items/<id>/check and the result is shown under the text box.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("li.item"));
  var current = 0;

  function focusItem(n) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, n));
    items.forEach(function (el, i) { el.classList.toggle("current", i === current); });
    items[current].focus();
    items[current].scrollIntoView({ block: "nearest" });
  }

  function submit(selector) {
    var form = items[current] && items[current].querySelector(selector);
    if (form) form.submit();
  }

  function showCheck(output, flags) {
    output.textContent = "";
    if (!flags.length) { output.textContent = "Check passed."; output.className = "live-check ok"; return; }
    output.className = "live-check bad";
    flags.forEach(function (f) {
      var line = document.createElement("div");
      line.textContent = f.code + " (" + f.severity + "): " + f.reason;  // text, never HTML
      output.appendChild(line);
    });
  }

  items.forEach(function (item, i) {
    var area = item.querySelector("textarea");
    var output = item.querySelector("output.live-check");
    var timer = null;
    item.addEventListener("click", function () { current = i; focusItem(i); });
    if (!area) return;
    area.addEventListener("focus", function () { current = i; items.forEach(function (el, k) { el.classList.toggle("current", k === i); }); });
    area.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); area.form.submit(); }
      else if (ev.key === "Escape") { area.blur(); focusItem(i); }
    });
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var token = area.form.elements.csrf_token;
        var body = new URLSearchParams({ text: area.value, csrf_token: token ? token.value : "" });
        fetch("/items/" + item.dataset.id + "/check", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) {
            if (!r.ok) throw new Error("check refused: " + r.status);
            return r.json();
          })
          .then(function (data) { showCheck(output, data.check || []); })
          .catch(function () {  // never claim a pass the server did not give
            output.textContent = "Check unavailable (reload the page).";
            output.className = "live-check bad";
          });
      }, 400);
    });
  });

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "j") { focusItem(current + 1); }
    else if (ev.key === "k") { focusItem(current - 1); }
    else if (ev.key === "a") { submit("form.approve"); }
    else if (ev.key === "r") { submit("form.reject"); }
    else if (ev.key === "e") {
      var area = items[current] && items[current].querySelector("textarea");
      if (area) { ev.preventDefault(); area.focus(); area.setSelectionRange(area.value.length, area.value.length); }
    } else { return; }
  });

  focusItem(0);
})();
