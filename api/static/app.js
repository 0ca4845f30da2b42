/* Sift's pages work without this file: every view is a server-rendered link or form.
 * It only makes them quicker: completions while typing, filters that apply on a click,
 * page changes without a full reload (history kept, so Back works), and match-by-match
 * navigation in a document. No dependencies, no inline script (the CSP forbids it). */
"use strict";

(() => {
  const root = document.documentElement;
  root.classList.add("js");

  const SUGGEST_DELAY_MS = 120; // wait for a pause in typing before asking
  const SUGGEST_LIMIT = 8;
  const NARROW = window.matchMedia("(max-width: 800px)");
  // Pages that share the layout and can be swapped in place.
  const SWAPPABLE = /^\/(documents\/[^/]+|help)?$/;

  /* -- page changes without a reload ---------------------------------------------- */

  function swappable(url) {
    return url.origin === location.origin && SWAPPABLE.test(url.pathname);
  }

  async function navigate(href, { push = true, focus = "heading", scroll = "top" } = {}) {
    const url = new URL(href, location.href);
    const main = document.getElementById("content");
    const filtersWereOpen = document.getElementById("filters")?.open;
    main.setAttribute("aria-busy", "true");
    document.body.classList.add("loading");
    let page;
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      page = new DOMParser().parseFromString(await response.text(), "text/html");
      if (response.redirected) url.href = response.url;
    } catch {
      location.assign(url);
      return;
    }
    const fresh = page.getElementById("content");
    if (!fresh) {
      location.assign(url);
      return;
    }
    if (push) {
      history.replaceState({ scroll: window.scrollY }, "");
      history.pushState({ scroll: 0 }, "", url);
    }
    main.replaceWith(fresh);
    document.title = page.title;
    document.body.className = page.body.className;
    document.body.classList.remove("loading");
    syncHeader(page);
    const filters = document.getElementById("filters");
    if (filters && filtersWereOpen !== undefined && NARROW.matches) filters.open = filtersWereOpen;
    enhance(fresh);
    // The page changed without a load: say so to screen readers ("3 results for NATO").
    const announce = document.getElementById("announce");
    if (announce) announce.textContent = fresh.querySelector("h1")?.textContent.trim() ?? "";
    if (typeof scroll === "number") window.scrollTo(0, scroll);
    else if (scroll === "top") window.scrollTo(0, 0);
    if (focus === "heading") {
      const heading = fresh.querySelector("#results, #doc-title, h1");
      heading?.setAttribute("tabindex", "-1");
      heading?.focus({ preventScroll: true });
    } else if (typeof focus === "function") {
      focus(fresh);
    }
  }

  function syncHeader(page) {
    const form = document.getElementById("search-form");
    const next = page.getElementById("search-form");
    if (!form || !next) return;
    form.querySelectorAll("input[type=hidden]").forEach((input) => input.remove());
    next.querySelectorAll("input[type=hidden]").forEach((input) => form.append(input));
    const q = document.getElementById("q");
    if (document.activeElement !== q) q.value = next.querySelector("#q").value;
    const skip = document.querySelector(".skip-link");
    const nextSkip = page.querySelector(".skip-link");
    if (skip && nextSkip) skip.replaceWith(nextSkip);
  }

  /* Skip links move focus, not only the view, whatever the browser does with fragments. */
  document.addEventListener("click", (event) => {
    const skip = event.target.closest(".skip-link");
    const target = skip && document.querySelector(skip.getAttribute("href"));
    if (!target) return;
    event.preventDefault();
    target.setAttribute("tabindex", "-1");
    target.focus();
  });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (link.hasAttribute("download") || link.target) return;
    const url = new URL(link.href, location.href);
    if (!swappable(url)) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    const keepPlace = link.closest(".active-filters, .facet, .timeline, .toolbar");
    navigate(url, { scroll: keepPlace ? "keep" : "top" });
  });

  window.addEventListener("popstate", (event) => {
    navigate(location.href, { push: false, focus: null, scroll: event.state?.scroll ?? 0 });
  });

  /* The search form: empty fields are left out of the address, so links stay short. */
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "search-form") return;
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim()) params.append(name, value);
    }
    const url = new URL(form.action);
    url.search = params.toString();
    const fromBox = document.activeElement === document.getElementById("q");
    navigate(url, { focus: fromBox ? null : "heading", scroll: fromBox ? "top" : "keep" });
  });

  /* -- filters apply as soon as a box is ticked ----------------------------------- */

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.dataset.href) return;
    const { name, value } = box;
    navigate(box.dataset.href, {
      scroll: "keep",
      focus: (page) => {
        const same = [...page.querySelectorAll(`input[type=checkbox][name="${CSS.escape(name)}"]`)]
          .find((input) => input.value === value);
        same?.focus({ preventScroll: true });
      },
    });
  });

  /* -- completions while typing (ARIA 1.2 combobox) -------------------------------- */

  function setupSuggest() {
    const input = document.getElementById("q");
    const list = document.getElementById("q-suggestions");
    if (!input || !list || !input.dataset.suggest) return;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    let items = [];
    let active = -1;
    let timer;
    let pending;

    function close() {
      list.hidden = true;
      list.replaceChildren();
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
      if (index >= 0) input.setAttribute("aria-activedescendant", list.children[index].id);
      else input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      input.value = items[index].text;
      close();
      input.form.requestSubmit();
    }

    function show(suggestions) {
      items = suggestions;
      if (!items.length) return close();
      list.replaceChildren(
        ...items.map((item, i) => {
          const li = document.createElement("li");
          li.id = `q-option-${i}`;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          // What was typed stays plain; the completion is bold, as people expect.
          const text = document.createElement("span");
          const typed = item.text.toLowerCase().startsWith(input.value.toLowerCase())
            ? input.value.length
            : 0;
          const rest = document.createElement("strong");
          rest.textContent = item.text.slice(typed);
          text.append(item.text.slice(0, typed), rest);
          const kind = document.createElement("span");
          kind.className = "kind";
          const docs = `${item.count.toLocaleString()} ${item.count === 1 ? "document" : "documents"}`;
          kind.textContent = item.kind === "actor" ? `actor · ${docs}` : docs;
          li.append(text, kind);
          li.addEventListener("mousedown", (event) => {
            event.preventDefault();
            choose(i);
          });
          return li;
        }),
      );
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    async function load() {
      const text = input.value;
      if (text.trim().length < 2 || text.length > 200) return close();
      pending?.abort();
      pending = new AbortController();
      try {
        const params = new URLSearchParams({ q: text, limit: String(SUGGEST_LIMIT) });
        const response = await fetch(`${input.dataset.suggest}?${params}`, { signal: pending.signal });
        if (!response.ok || input.value !== text) return;
        show((await response.json()).suggestions);
      } catch {
        /* aborted by newer typing, or offline: no completions, the search still works */
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(load, SUGGEST_DELAY_MS);
    });
    input.addEventListener("keydown", (event) => {
      if (list.hidden) {
        if (event.key === "ArrowDown" && input.value.trim()) load();
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        // -1 is the text box itself: the options and the box form one cycle.
        let index = active + (event.key === "ArrowDown" ? 1 : -1);
        if (index >= items.length) index = -1;
        else if (index < -1) index = items.length - 1;
        highlight(index);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 100));
    input.form.addEventListener("submit", () => {
      clearTimeout(timer);
      pending?.abort();
      close();
    });
  }

  /* -- a document's matches, one after another ------------------------------------- */

  function setupMatches(scope) {
    const bar = scope.querySelector("#match-bar");
    const marks = [...scope.querySelectorAll("#doc-text mark")];
    const first = bar?.querySelector("[data-match-nav]");
    if (!bar || !first || !marks.length) return;
    let current = -1;
    const status = document.createElement("span");
    status.className = "match-status";
    status.setAttribute("aria-live", "polite");
    const prev = button("Previous match", "↑ Previous");
    const next = button("Next match", "↓ Next");
    first.replaceWith(status, prev, next);

    function button(label, text) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "button-secondary";
      b.setAttribute("aria-label", label);
      b.textContent = text;
      return b;
    }
    function go(index) {
      marks[current]?.classList.remove("current");
      current = (index + marks.length) % marks.length;
      const mark = marks[current];
      mark.classList.add("current");
      mark.scrollIntoView({ block: "center", behavior: "smooth" });
      status.textContent = `${current + 1} of ${marks.length}`;
    }
    prev.addEventListener("click", () => go(current - 1));
    next.addEventListener("click", () => go(current + 1));
  }

  /* -- per view ---------------------------------------------------------------------- */

  function enhance(scope) {
    setupMatches(scope);
  }

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      document.getElementById("q")?.focus();
    }
  });

  const filters = document.getElementById("filters");
  if (filters && NARROW.matches) filters.open = false;
  setupSuggest();
  enhance(document);
})();
