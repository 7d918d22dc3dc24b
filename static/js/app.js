// The site's one script: small enhancements on top of pages that work without it.
(function () {
  "use strict";

  // Sends the CSRF token with every htmx request that changes data.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && event.detail.verb !== "get") {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // --- active search: no request while an input method is composing ---------------------
  // Pinyin "l", "la", "lan" … are not queries: the box asks (event "search-input", which
  // its hx-trigger listens for) only for text the person has committed, and not for a
  // single character (the search needs two).
  function activeSearch(element) {
    return element && element.matches && element.matches("input[data-active-search]");
  }

  function askIfReady(input) {
    if (input.dataset.composing || input.value.trim().length === 1) {
      return;
    }
    input.dispatchEvent(new Event("search-input", { bubbles: true }));
  }

  document.addEventListener("compositionstart", function (event) {
    if (activeSearch(event.target)) {
      event.target.dataset.composing = "1";
    }
  }, true);

  document.addEventListener("compositionend", function (event) {
    if (activeSearch(event.target)) {
      delete event.target.dataset.composing;
      askIfReady(event.target);
    }
  }, true);

  document.addEventListener("input", function (event) {
    if (activeSearch(event.target) && !event.isComposing) {
      askIfReady(event.target);
    }
  }, true);

  // --- filter dropdowns: one request per choice, not per arrow key -------------------------
  // A choice made with the mouse or a phone's picker applies at once. Keys moving through
  // the options (arrows, letters) only take effect on Enter, when focus leaves, or after
  // a pause; the form's hx-trigger listens for "filters-change".
  var PAUSE_MS = 1000;

  function liveSelect(element) {
    return element && element.tagName === "SELECT" && element.form && element.form.matches("form[data-live-filters]");
  }

  function apply(select) {
    clearTimeout(select._filterTimer);
    delete select.dataset.keyed;
    if (select.value === select.dataset.applied) {
      return;
    }
    select.dataset.applied = select.value;
    select.form.dispatchEvent(new Event("filters-change", { bubbles: true }));
  }

  document.addEventListener("focusin", function (event) {
    var select = event.target;
    if (liveSelect(select) && !("applied" in select.dataset)) {
      select.dataset.applied = select.value;
    }
  });

  document.addEventListener("pointerdown", function (event) {
    if (liveSelect(event.target)) {
      delete event.target.dataset.keyed;
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var select = event.target;
    if (!liveSelect(select) || event.key === "Tab" || event.key === "Shift" || event.key === "Escape") {
      return;
    }
    if (event.key === "Enter") {
      if (select.value !== select.dataset.applied) {
        event.preventDefault();
        apply(select);
      }
      return;
    }
    select.dataset.keyed = "1";
  }, true);

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!liveSelect(select)) {
      return;
    }
    if (!("applied" in select.dataset)) { // changed before it had focus (a script, a test)
      var drawn = Array.prototype.find.call(select.options, function (option) { return option.defaultSelected; });
      select.dataset.applied = drawn ? drawn.value : "";
    }
    if (select.dataset.keyed) {
      clearTimeout(select._filterTimer);
      select._filterTimer = setTimeout(function () { apply(select); }, PAUSE_MS);
      return;
    }
    apply(select);
  }, true);

  document.addEventListener("focusout", function (event) {
    if (liveSelect(event.target) && event.target.dataset.keyed) {
      apply(event.target);
    }
  });

  // --- Back and Forward: every control shows the state of its URL --------------------------
  // htmx restores the page's HTML, which keeps the controls as they were first drawn, not
  // as they were when the person left; the address says what they were.
  function syncControls() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-sync-url]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (element) {
        if (!element.name || element.type === "hidden" || element.type === "submit") {
          return;
        }
        var value = params.get(element.name) || "";
        if (element.type === "checkbox" || element.type === "radio") {
          element.checked = params.getAll(element.name).indexOf(element.value) >= 0;
        } else {
          element.value = value;
          if (element.tagName === "SELECT" && element.value !== value) {
            element.value = "";
          }
        }
        if (element.tagName === "SELECT") {
          element.dataset.applied = element.value;
        }
      });
    });
  }

  document.addEventListener("htmx:historyRestore", syncControls);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      syncControls();
    }
  });

  // --- filters and facets: behind one button on a phone, open beside the list on a wide screen
  var wide = window.matchMedia("(min-width: 961px)");

  function openOnWideScreens() {
    document.querySelectorAll("details[data-open-wide]").forEach(function (details) {
      details.open = wide.matches;
    });
  }

  if (wide.addEventListener) {
    wide.addEventListener("change", openOnWideScreens);
  }
  document.addEventListener("DOMContentLoaded", openOnWideScreens);
  document.addEventListener("htmx:historyRestore", openOnWideScreens);
})();
