/*
 * Mentorship: small progressive enhancements. No dependencies; loaded with `defer`.
 * Everything here is optional: every page works without it.
 *
 * 1. <select data-detect-time-zone="true"> still at "UTC" is set to the browser's time
 *    zone, when that zone is one of its options.
 * 2. A form or button with data-confirm="message" asks window.confirm(message) before
 *    submitting, and cancels when declined (also stops htmx from sending the request).
 * 3. The mobile menu (<details class="nav-menu">) closes on Escape.
 * 4. A create form's one-time token (input[name=submission_token]) is remembered in the history
 *    entry of the page it was sent from; back on that page (the back button), the form gets
 *    that token again, whether the browser kept the page or fetched a new one, so sending it
 *    again creates nothing twice. A new visit to the form keeps its own fresh token.
 * 5. A button with data-print prints the page (the print stylesheet leaves the menus out).
 *
 * Content that htmx swaps in later is enhanced too (htmx:load), when htmx is present.
 */
(function () {
  "use strict";

  function browserTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  function detectTimeZones(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var selects = Array.prototype.slice.call(
      scope.querySelectorAll('select[data-detect-time-zone="true"]')
    );
    if (scope.matches && scope.matches('select[data-detect-time-zone="true"]')) {
      selects.push(scope);
    }
    if (!selects.length) {
      return;
    }
    var zone = browserTimeZone();
    if (!zone || zone === "UTC") {
      return;
    }
    selects.forEach(function (select) {
      if (select.value !== "UTC") {
        return;
      }
      var hasOption = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      if (hasOption) {
        select.value = zone;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function confirmed(element) {
    var message = element && element.getAttribute("data-confirm");
    if (!message) {
      return true;
    }
    return window.confirm(message);
  }

  function cancel(event) {
    event.preventDefault();
    event.stopPropagation();
    if (event.stopImmediatePropagation) {
      event.stopImmediatePropagation();
    }
  }

  // Buttons (and links styled as buttons) with data-confirm. Capture phase on the document
  // runs before htmx's own listeners on the element, so a refusal stops them as well.
  document.addEventListener(
    "click",
    function (event) {
      var target = event.target;
      if (!target || !target.closest) {
        return;
      }
      var trigger = target.closest("button[data-confirm], input[type='submit'][data-confirm], a[data-confirm]");
      if (!trigger || trigger.disabled) {
        return;
      }
      if (!confirmed(trigger)) {
        cancel(event);
        return;
      }
      // Remember the answer so the form's own data-confirm (if any) does not ask twice.
      // The submit event follows synchronously; the timeout clears the flag if it never comes
      // (e.g. the browser's own validation stopped the submission).
      var form = trigger.form;
      if (form && form.hasAttribute("data-confirm")) {
        form.setAttribute("data-confirmed-once", "true");
        window.setTimeout(function () {
          form.removeAttribute("data-confirmed-once");
        }, 0);
      }
    },
    true
  );

  // Forms with data-confirm.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form || form.nodeName !== "FORM" || !form.hasAttribute("data-confirm")) {
        return;
      }
      if (form.getAttribute("data-confirmed-once") === "true") {
        form.removeAttribute("data-confirmed-once");
        return;
      }
      if (!confirmed(form)) {
        cancel(event);
      }
    },
    true
  );

  // Close the mobile menu with Escape and return focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var openMenu = document.querySelector("details.nav-menu[open]");
    if (openMenu) {
      openMenu.removeAttribute("open");
      var summary = openMenu.querySelector("summary");
      if (summary) {
        summary.focus();
      }
    }
  });

  // A checkbox with data-select-all="<name>" ticks or clears every checkbox of that name in
  // its form, and shows "some" as indeterminate. Without JavaScript rows are ticked one by one.
  function wireSelectAll(root) {
    root.querySelectorAll("input[type=checkbox][data-select-all]").forEach(function (all) {
      var scope = all.form || document;
      var boxes = scope.querySelectorAll(
        'input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]'
      );
      all.addEventListener("change", function () {
        boxes.forEach(function (box) {
          box.checked = all.checked;
        });
      });
      boxes.forEach(function (box) {
        box.addEventListener("change", function () {
          var ticked = Array.prototype.filter.call(boxes, function (b) {
            return b.checked;
          }).length;
          all.checked = ticked === boxes.length;
          all.indeterminate = ticked > 0 && ticked < boxes.length;
        });
      });
    });
  }

  // A form with a kind choice (radio buttons named "kind") and wrappers marked
  // data-kinds="<kind> <kind>": a wrapper shows only while one of its kinds is chosen. Without
  // JavaScript every wrapper shows and the server ignores the fields a kind does not use.
  function wireKindScoped(root) {
    root.querySelectorAll("form").forEach(function (form) {
      var scoped = form.querySelectorAll("[data-kinds]");
      var radios = form.querySelectorAll("input[type=radio][name=kind]");
      if (!scoped.length || !radios.length) {
        return;
      }
      function update() {
        var chosen = form.querySelector("input[type=radio][name=kind]:checked");
        scoped.forEach(function (wrapper) {
          var kinds = wrapper.getAttribute("data-kinds").split(" ");
          wrapper.hidden = chosen ? kinds.indexOf(chosen.value) === -1 : false;
        });
      }
      radios.forEach(function (radio) {
        radio.addEventListener("change", update);
      });
      update();
    });
  }

  // An end date marked data-length-weeks follows its form's start date (starts_on) while it is
  // empty or still the one the program's length gave; once changed by hand it stays.
  function addWeeks(isoDate, weeks) {
    var parts = (isoDate || "").split("-").map(Number);
    if (parts.length !== 3 || parts.some(isNaN)) {
      return "";
    }
    var day = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2] + 7 * weeks));
    return day.toISOString().slice(0, 10);
  }

  function wireEndDates(root) {
    root.querySelectorAll("input[data-length-weeks]").forEach(function (end) {
      var start = end.form && end.form.elements.namedItem("starts_on");
      var weeks = Number(end.getAttribute("data-length-weeks"));
      if (!start || !weeks) {
        return;
      }
      var previous = start.value;
      start.addEventListener("change", function () {
        if (!end.value || end.value === addWeeks(previous, weeks)) {
          end.value = addWeeks(start.value, weeks);
        }
        previous = start.value;
      });
    });
  }

  var TOKEN = "submission_token";

  function tokenKey(form) {
    return form.getAttribute("action") || window.location.pathname;
  }

  // On submit: note the token in this page's history entry (its state survives going back).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form && form.elements ? form.elements.namedItem(TOKEN) : null;
    if (!input || !input.value || !window.history.replaceState) {
      return;
    }
    var state = Object.assign({}, window.history.state);
    state.submissionTokens = Object.assign({}, state.submissionTokens);
    state.submissionTokens[tokenKey(form)] = input.value;
    window.history.replaceState(state, "");
  });

  // Back on a page whose form was sent: give the form the token it was sent with.
  function restoreSubmissionTokens() {
    var sent = window.history.state && window.history.state.submissionTokens;
    if (!sent) {
      return;
    }
    var inputs = document.querySelectorAll("input[name='" + TOKEN + "']");
    Array.prototype.forEach.call(inputs, function (input) {
      var token = input.form && sent[tokenKey(input.form)];
      if (token) {
        input.value = token;
      }
    });
  }

  function init(root) {
    detectTimeZones(root || document);
    wireSelectAll(root || document);
    wireKindScoped(root || document);
    wireEndDates(root || document);
  }

  // Deferred, so the page is parsed. (A page the back-forward cache kept whole still has the
  // token it was sent with.)
  restoreSubmissionTokens();

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("button[data-print]")) {
      window.print();
    }
  });

  // htmx fires htmx:load for the body on start and for every swapped-in element.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt && event.detail.elt !== document.body) {
      init(event.detail.elt);
    }
  });
})();
