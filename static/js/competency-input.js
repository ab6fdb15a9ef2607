/*
 * Mentorship: suggestions from the shared skills vocabulary while people type, drawn by
 * Tom Select (static/vendor/tom-select.base.min.js, pinned in package-lock.json), which
 * follows the ARIA combobox pattern: arrow keys move, Enter picks, Escape closes.
 *
 * Markup: <input data-competency-input data-suggest-url="/competencies/suggest/"> holding
 * comma-separated terms ("Public speaking, Negotiation"); `suggest-url?q=<term>` answers
 * {"results": ["Public speaking", ...]}. A new term can be typed and kept (a coordinator
 * reviews it). With data-competency-input="single" the input holds one term.
 *
 * Without JavaScript the input is a plain comma-separated text field, and that still works.
 */
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;

  function suggest(url, query, callback) {
    var address = url + (url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(query);
    window
      .fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : { results: [] };
      })
      .then(function (data) {
        callback(data.results.map(function (name) {
          return { value: name, text: name };
        }));
      })
      .catch(function () {
        callback();
      });
  }

  function enhance(input) {
    var url = input.getAttribute("data-suggest-url");
    if (!url || input.tomselect || !window.TomSelect) {
      return;
    }
    // Tom Select splits the value on "," as it is; the server trims, so drop the spaces here.
    input.value = input.value.split(",").map(function (term) {
      return term.trim();
    }).filter(Boolean).join(",");
    var select = new window.TomSelect(input, {
      delimiter: ",",
      maxItems: input.getAttribute("data-competency-input") === "single" ? 1 : null,
      create: true,
      createOnBlur: true,
      persist: false,
      loadThrottle: DELAY_MS,
      shouldLoad: function (query) {
        return query.trim().length >= MIN_LENGTH;
      },
      load: function (query, callback) {
        suggest(url, query, callback);
      },
      // A picked term replaces what was typed; left in the box it would be added on blur too.
      onItemAdd: function () {
        this.setTextboxValue("");
      },
      render: {
        option_create: function (data, escape) {
          return '<div class="create">Add “' + escape(data.input) + "”</div>";
        },
        no_results: null,
      },
    });
    // Django binds help text and errors to the input; the input people type in now is Tom
    // Select's, so it carries them too.
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (input.hasAttribute(name)) {
        select.control_input.setAttribute(name, input.getAttribute(name));
      }
    });
  }

  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    Array.prototype.forEach.call(scope.querySelectorAll("input[data-competency-input]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }

  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt !== document.body) {
      init(event.detail.elt);
    }
  });
})();
