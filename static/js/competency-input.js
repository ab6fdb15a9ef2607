/*
 * Mentorship: suggestions from the shared skills vocabulary while people type.
 *
 * Markup: <input data-competency-input data-suggest-url="/competencies/suggest/">
 * holding comma-separated terms ("Public speaking, Negotiation"). As the person types the
 * last term (2 characters or more, 150 ms after the last key), we fetch
 * `suggest-url?q=<term>` ({"results": ["Public speaking", ...]}) and show a listbox under
 * the input, following the ARIA combobox pattern: arrow keys move, Enter picks, Escape
 * closes, a click picks. Picking replaces the last term and adds ", " for the next one.
 * With data-competency-input="single" the input holds one term and picking just sets it.
 *
 * Without JavaScript the input is a plain comma-separated text field, and that still works.
 */
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;
  var counter = 0;

  function splitTerms(value) {
    var parts = value.split(",");
    return {
      earlier: parts.slice(0, -1).map(function (part) {
        return part.trim();
      }).filter(Boolean),
      last: parts[parts.length - 1].trim(),
    };
  }

  function enhance(input) {
    if (input.getAttribute("data-competency-ready") === "true") {
      return;
    }
    input.setAttribute("data-competency-ready", "true");
    var single = input.getAttribute("data-competency-input") === "single";
    var url = input.getAttribute("data-suggest-url");
    if (!url) {
      return;
    }
    counter += 1;
    var listId = "competency-suggestions-" + counter;

    var wrapper = document.createElement("div");
    wrapper.className = "competency-input";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);

    var list = document.createElement("ul");
    list.id = listId;
    list.className = "competency-input__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Suggestions");
    list.hidden = true;
    wrapper.appendChild(list);

    // Announces how many suggestions there are; the listbox itself is not a live region.
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrapper.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    var timer = null;
    var request = 0;
    var controller = null;
    var active = -1;
    var options = [];

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      options = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(index) {
      if (!options.length) {
        return;
      }
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = (index + options.length) % options.length;
      var option = options[active];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      if (option.scrollIntoView) {
        option.scrollIntoView({ block: "nearest" });
      }
    }

    function pick(name) {
      if (single) {
        input.value = name;
      } else {
        var terms = splitTerms(input.value).earlier;
        terms.push(name);
        input.value = terms.join(", ") + ", ";
      }
      close();
      input.focus();
      var end = input.value.length;
      if (input.setSelectionRange) {
        input.setSelectionRange(end, end);
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(names) {
      list.innerHTML = "";
      options = [];
      active = -1;
      input.removeAttribute("aria-activedescendant");
      names.forEach(function (name, index) {
        var option = document.createElement("li");
        option.id = listId + "-" + index;
        option.className = "competency-input__option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = name;
        // mousedown, not click: picking must happen before the input loses focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(name);
        });
        list.appendChild(option);
        options.push(option);
      });
      if (options.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent =
          options.length + (options.length === 1 ? " suggestion" : " suggestions") +
          ": use the arrow keys to choose.";
      } else {
        close();
        status.textContent = "";
      }
    }

    function fetchSuggestions() {
      var terms = single ? { earlier: [], last: input.value.trim() } : splitTerms(input.value);
      if (terms.last.length < MIN_LENGTH) {
        close();
        return;
      }
      var taken = terms.earlier.map(function (term) {
        return term.toLowerCase();
      });
      request += 1;
      var mine = request;
      if (controller) {
        controller.abort();
      }
      controller = window.AbortController ? new AbortController() : null;
      var address = url + (url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(terms.last);
      window
        .fetch(address, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          signal: controller ? controller.signal : undefined,
        })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          // An older answer arriving late must not replace a newer one.
          if (mine !== request || document.activeElement !== input) {
            return;
          }
          var names = (data.results || []).filter(function (name) {
            return taken.indexOf(name.toLowerCase()) === -1;
          });
          show(names);
        })
        .catch(function () {
          /* Offline or aborted: the field still takes typed terms. */
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(fetchSuggestions, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown") {
        if (open) {
          event.preventDefault();
          setActive(active + 1);
        } else if (input.value.trim()) {
          event.preventDefault();
          fetchSuggestions();
        }
      } else if (event.key === "ArrowUp" && open) {
        event.preventDefault();
        setActive(active - 1);
      } else if (event.key === "Enter" && open && active >= 0) {
        // Picks the suggestion instead of submitting the form.
        event.preventDefault();
        pick(options[active].textContent);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        event.stopPropagation();
        close();
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      window.clearTimeout(timer);
      close();
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
