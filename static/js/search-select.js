// The portal's one searchable select (vmgate/widgets.py SearchSelect): every
// <select data-search-select> becomes one Tom Select control (static/vendor/tom-select.*):
// type to filter, arrow keys, Enter.
//
// - data-url: options come from that tenant-scoped endpoint (<option>s, at most 50), asked
//   with ?q=<typed text>, the select's own value and the data-include fields; without it
//   the options already in the page are filtered in the browser (countries).
// - data-reload-on: when one of those fields changes, reload the options; a chosen value
//   the new options do not hold is dropped; data-pick-single picks a lone option.
// - data-allow-empty="1": the empty choice ("All trunks", "Any …") stays pickable.
// - <select multiple>: several items, each with a remove button.
//
// Requests go through fetch(), never htmx, so the page's URL never changes; the control's
// own typing never reaches an enclosing filter form (its input/change events stop here).
// Tom Select styles through the CSSOM (element.style), which a CSP without
// 'unsafe-inline' allows; nothing here writes a style attribute.
(function () {
  "use strict";

  function fieldOf(select, name) {
    var scope = select.form || document;
    return scope.querySelector('[name="' + CSS.escape(name) + '"]');
  }

  function list(value) {
    return value ? value.split(",").filter(Boolean) : [];
  }

  function parseOptions(html) {
    // Inert parsing (DOMParser runs no scripts); <option>s must sit in a <select>.
    var doc = new DOMParser().parseFromString("<select>" + html + "</select>", "text/html");
    return Array.prototype.map.call(doc.querySelectorAll("option"), function (o) {
      return { value: o.value, text: o.textContent };
    });
  }

  function fetchOptions(select, query) {
    var ds = select.dataset;
    var url = new URL(ds.url, window.location.href);
    url.searchParams.set("q", query);
    if (select.name) url.searchParams.set(select.name, select.value);
    list(ds.include).forEach(function (name) {
      var other = fieldOf(select, name);
      if (other) url.searchParams.set(name, other.value);
    });
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("options: HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var allowEmpty = ds.allowEmpty === "1";
        return parseOptions(html).filter(function (o) {
          // "No match" and the required fields' "---------" are not choices to offer.
          return o.value !== "" || (allowEmpty && !query);
        });
      });
  }

  function busy(ts, on) {
    ts.wrapper.setAttribute("aria-busy", on ? "true" : "false");
  }

  function reload(ts, select) {
    var chosen = ts.getValue();
    busy(ts, true);
    fetchOptions(select, "").then(function (options) {
      var values = options.map(function (o) { return o.value; }).filter(Boolean);
      if (chosen && values.indexOf(chosen) < 0) ts.clear(); // fires "change": dependents follow
      ts.clearOptions();
      ts.addOptions(options);
      ts.wrapper.classList.add("preloaded");
      if (!ts.getValue() && select.dataset.pickSingle === "1" && values.length === 1) {
        ts.setValue(values[0]); // fires "change"
      }
      ts.refreshOptions(false);
      busy(ts, false);
    }, function () { busy(ts, false); });
  }

  function init(select) {
    if (select.tomselect || typeof TomSelect === "undefined") return;
    var ds = select.dataset;
    var remote = !!ds.url;
    var minChars = parseInt(ds.minChars || "0", 10);
    var settings = {
      allowEmptyOption: ds.allowEmpty === "1",
      placeholder: ds.placeholder || undefined,
      maxOptions: remote ? 50 : null,
      // Open on focus and on typing only; a click on the control opens it too.
      openOnFocus: true,
    };
    // A multiple select (SearchSelectMultiple: a trunk's number lists): each chosen item
    // gets its own × to remove it.
    if (select.multiple) settings.plugins = ["remove_button"];
    if (remote) {
      Object.assign(settings, {
        preload: "focus",
        loadThrottle: 250,
        shouldLoad: function (query) { return query.length >= minChars; },
        // The endpoint already searched (codes by prefix, labels, "gw-1 2"): keep its
        // rows and its order.
        score: function () { return function () { return 1; }; },
        sortField: [{ field: "$order" }],
        load: function (query, callback) {
          var ts = this;
          var done = false;
          // Tom Select counts loads in flight until each callback: call it exactly once,
          // whatever happens, or the control reads "loading" for good.
          function finish(options) {
            if (done) return;
            done = true;
            try { callback(options); } finally { busy(ts, false); }
          }
          fetchOptions(select, query).then(
            function (options) {
              try { ts.clearOptions(); } finally { finish(options); }
            },
            function () { finish(); }
          );
        },
      });
    }
    var ts = new TomSelect(select, settings);
    // Tom Select copies the select's classes to its wrapper; htmx's transient ones
    // (htmx-added while a swap settles) must not stay there for good.
    Array.prototype.slice.call(ts.wrapper.classList).forEach(function (name) {
      if (name.indexOf("htmx-") === 0) ts.wrapper.classList.remove(name);
    });
    if (remote) {
      // Every search asks the endpoint again (its answer depends on other fields too).
      ts.canLoad = function () { return true; };
      // Tom Select waits loadThrottle ms before it loads; the control reads busy from the
      // moment it is asked until the options arrive (assistive tech, and the browser tests).
      var throttledLoad = ts.load;
      ts.load = function (query) {
        busy(ts, true);
        return throttledLoad.apply(ts, arguments);
      };
      ts.on("blur", function () { ts.wrapper.classList.remove("preloaded"); });
    }
    ["input", "change"].forEach(function (type) {
      ts.control_input.addEventListener(type, function (event) { event.stopPropagation(); });
    });
    list(ds.reloadOn).forEach(function (name) {
      var other = fieldOf(select, name);
      if (other) other.addEventListener("change", function () { reload(ts, select); });
    });
  }

  function initAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-search-select]")) init(scope);
    scope.querySelectorAll("select[data-search-select]").forEach(init);
  }

  // The document once parsed, and every piece htmx swaps in later (target rows, …).
  document.addEventListener("htmx:load", function (event) { initAll(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(document); });
  } else {
    initAll(document);
  }
})();
