// Countinghouse console: keyboard shortcuts, the command palette, bulk selection, upload progress,
// the review page's field boxes, and error display for htmx requests. Everything here improves pages that already work without it.
(function () {
  "use strict";

  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (_) { return ""; }
  };
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  // --- command palette -------------------------------------------------------------------------
  function openPalette() {
    const d = document.getElementById("palette");
    if (!d || d.open) return;
    d.showModal();
    const input = d.querySelector("input");
    input.value = "";
    input.focus();
  }
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-palette-open]")) openPalette();
  });
  // In the palette: Escape closes it (a search field would only clear itself), Enter opens the
  // first result, the arrow keys move through the results.
  document.addEventListener("keydown", (e) => {
    const d = document.getElementById("palette");
    if (!d || !d.open) return;
    const links = Array.from(d.querySelectorAll("#palette-results a"));
    const at = links.indexOf(document.activeElement);
    if (e.key === "Escape") { e.preventDefault(); d.close(); }
    else if (e.key === "Enter" && at === -1 && links.length) { e.preventDefault(); links[0].click(); }
    else if (e.key === "ArrowDown" && links.length) { e.preventDefault(); links[Math.min(at + 1, links.length - 1)].focus(); }
    else if (e.key === "ArrowUp" && at > 0) { e.preventDefault(); links[at - 1].focus(); }
    else if (e.key === "ArrowUp" && at === 0) { e.preventDefault(); d.querySelector("input").focus(); }
  }, true);

  // --- keyboard --------------------------------------------------------------------------------
  // "/" or Ctrl/Cmd+K: search; "g" then a letter: go to a section; single keys named by
  // data-key on the page (j/k/a in the review queue, n for a new client).
  const goKeys = { d: "/", c: "/clients", w: "/workflows", t: "/team", u: "/documents", r: "/review", q: "/quickbooks", m: "/marketplace" };
  let pendingG = false;
  document.addEventListener("keydown", (e) => {
    if (document.getElementById("palette")?.open) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") { e.preventDefault(); openPalette(); return; }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
    if (e.key === "/") {
      const field = document.querySelector("[data-focus-key='/']");
      e.preventDefault();
      if (field) { field.focus(); field.select(); } else { openPalette(); }
      return;
    }
    if (pendingG) {
      pendingG = false;
      const to = goKeys[e.key];
      if (to && document.querySelector(`.nav a[href='${to}']`)) { window.location.assign(to); }
      return;
    }
    if (e.key === "g") { pendingG = true; setTimeout(() => { pendingG = false; }, 1500); return; }
    const target = document.querySelector(`[data-key='${CSS.escape(e.key)}']`)
      || (e.key === "n" ? document.querySelector("a[aria-keyshortcuts='n']") : null);
    if (target) { e.preventDefault(); target.click(); }
  });

  // --- bulk selection --------------------------------------------------------------------------
  function updateBulk(form) {
    const boxes = form.querySelectorAll("input[name='ids']");
    const ticked = form.querySelectorAll("input[name='ids']:checked");
    const count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = `${ticked.length} selected`;
    boxes.forEach((b) => b.closest("tr").setAttribute("aria-selected", b.checked ? "true" : "false"));
    const all = form.querySelector("[data-select-all]");
    if (all) { all.checked = ticked.length > 0 && ticked.length === boxes.length; all.indeterminate = ticked.length > 0 && ticked.length < boxes.length; }
    form.querySelectorAll("[data-bulkbar] button").forEach((b) => { b.disabled = ticked.length === 0; });
  }
  document.addEventListener("change", (e) => {
    const form = e.target.closest("#bulk-form");
    if (!form) return;
    if (e.target.matches("[data-select-all]")) {
      form.querySelectorAll("input[name='ids']").forEach((b) => { b.checked = e.target.checked; });
    }
    updateBulk(form);
  });
  const initBulk = () => { const f = document.getElementById("bulk-form"); if (f) updateBulk(f); };
  document.addEventListener("DOMContentLoaded", initBulk);
  document.addEventListener("htmx:afterSettle", initBulk);

  // --- uploads with per-file progress ----------------------------------------------------------
  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form[data-upload]");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    const input = form.querySelector("input[type='file']");
    if (!input.files.length) return;
    e.preventDefault();
    const list = form.querySelector("[data-upload-progress]");
    list.textContent = "";
    const files = Array.from(input.files);
    const bars = files.map((f) => {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = f.name;
      const bar = document.createElement("progress");
      bar.max = f.size || 1; bar.value = 0;
      bar.setAttribute("aria-label", `Uploading ${f.name}`);
      li.append(name, bar);
      list.append(li);
      return bar;
    });
    const data = new FormData(form);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.upload.addEventListener("progress", (p) => {
      // Parts go in order, so the bytes sent so far fill the files one after another.
      let left = p.loaded;
      files.forEach((f, i) => { const v = Math.max(0, Math.min(f.size, left)); bars[i].value = v; left -= f.size; });
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 400) { window.location.assign(xhr.responseURL || window.location.href); return; }
      showProblem(xhr.responseText, `The upload failed (${xhr.status}).`);
    });
    xhr.addEventListener("error", () => showProblem("", "The upload was interrupted; check the connection and try again."));
    form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    xhr.send(data);
  });

  // --- review: a field and its box on the page ----------------------------------------------
  // Hovering or focusing a field's input lights its box up, and hovering a box lights its field
  // up; clicking a box focuses its input. The boxes are drawn by the server (no JS needed).
  let hovered = null;
  const fieldOf = (el) => el && el.closest && el.closest(".field-row[data-field], .field-box[data-field]");
  function lightFields() {
    const focused = fieldOf(document.activeElement);
    const on = new Set([hovered, focused && focused.getAttribute("data-field")].filter(Boolean));
    document.querySelectorAll(".field-row[data-field], .field-box[data-field]").forEach((el) => {
      el.classList.toggle("active", on.has(el.getAttribute("data-field")));
    });
  }
  document.addEventListener("mouseover", (e) => {
    const el = fieldOf(e.target);
    const key = el ? el.getAttribute("data-field") : null;
    if (key !== hovered) { hovered = key; lightFields(); }
  });
  document.addEventListener("focusin", (e) => { if (fieldOf(e.target)) lightFields(); });
  // During focusout the focus has already left (activeElement is the body).
  document.addEventListener("focusout", (e) => { if (fieldOf(e.target)) lightFields(); });
  document.addEventListener("click", (e) => {
    const box = e.target.closest && e.target.closest(".field-box[data-field]");
    if (!box) return;
    const row = document.querySelector(`.field-row[data-field="${CSS.escape(box.getAttribute("data-field"))}"]`);
    const input = row && row.querySelector("input[name='value']");
    if (input && !input.disabled) { input.focus(); input.select(); }
  });

  // --- errors of htmx requests -----------------------------------------------------------------
  function showProblem(html, fallback) {
    const flash = document.getElementById("flash");
    if (!flash) return;
    let text = fallback;
    if (html) {
      const doc = new DOMParser().parseFromString(html, "text/html");
      const p = doc.getElementById("problem");
      if (p) text = p.textContent;
    }
    const div = document.createElement("div");
    div.className = "alert error";
    div.setAttribute("role", "alert");
    div.textContent = text;
    flash.replaceChildren(div);
  }
  document.addEventListener("htmx:responseError", (e) => {
    showProblem(e.detail.xhr.responseText, `The request failed (${e.detail.xhr.status}).`);
  });
})();
