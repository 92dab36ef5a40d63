// Progressive enhancement of the booking form. Without it the form works the same:
// every question is shown, days are links and times are plain radio buttons.
(function () {
  "use strict";
  var form = document.querySelector("form[data-times]");
  if (!form) { return; }
  // The first error, when the page comes back with errors, takes the focus.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // 1. Show the times in the patient's own zone, detected from the device. The first page
  // asks the server once with the detected zone (a GET, nothing typed yet); the server knows
  // old names ("Asia/Calcutta") under their current ones.
  var zoneForm = document.querySelector("form[data-zone-form]");
  var detected = "";
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { detected = ""; }
  var params = new URLSearchParams(window.location.search);
  if (form.hasAttribute("data-detect-zone") && zoneForm && detected && !params.has("tz") && !document.querySelector(".error-summary")) {
    params.set("tz", detected);
    window.location.replace(window.location.pathname + "?" + params.toString());
    return;
  }
  document.querySelectorAll("[data-hide-with-script]").forEach(function (el) { el.hidden = true; });
  document.querySelectorAll("select[data-zone]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (zoneForm && zoneForm.contains(select)) { zoneForm.submit(); return; }
      // Inside the details form: ask for the times again with every answer kept.
      var show = form.querySelector('button[value="show_times"]');
      if (show) { show.hidden = false; show.click(); }
    });
  });

  // 1b. A day link shows that day's times without reloading the page.
  var picker = document.getElementById("picker");
  if (picker && window.fetch && window.DOMParser) {
    picker.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-day]");
      if (!link) { return; }
      event.preventDefault();
      fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        return response.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("picker");
        if (!fresh) { window.location.href = link.href; return; }
        picker.innerHTML = fresh.innerHTML;
        history.replaceState(null, "", link.href);
        var current = picker.querySelector("[aria-current]");
        if (current) { current.focus(); }
      }).catch(function () { window.location.href = link.href; });
    });
  }

  // 1c. The line above the button says which time is chosen.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "slot" || !radio.checked) { return; }
    var owner = radio.form || document;
    var line = owner.querySelector("[data-summary-line]");
    if (line) {
      var lead = line.getAttribute("data-summary-line") || "You are booking:";
      line.textContent = lead + " " + radio.getAttribute("data-summary") + ".";
    }
  });

  // 2. Hide the questions that do not apply to the answers given so far.
  function currentValues(name) {
    var values = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
      if (el.closest("[hidden]")) { return; }  // a question not asked has no answer
      if ((el.type === "radio" || el.type === "checkbox") ? el.checked : true) { values.push(el.value); }
    });
    return values;
  }
  var conditionals = form.querySelectorAll("[data-show-when]");
  function update() {
    conditionals.forEach(function (block) {
      var rule = block.getAttribute("data-show-when").split("=");
      var wanted = rule[1].split(",");
      var show = currentValues(rule[0]).some(function (v) { return wanted.indexOf(v) !== -1; });
      block.hidden = !show;
      block.querySelectorAll(".hint").forEach(function (hint) {
        if (/^Only (if|for)/.test(hint.textContent)) { hint.hidden = true; }
      });
    });
  }
  // Twice: a question hidden by the first pass no longer shows the ones that follow from it.
  function updateAll() { update(); update(); }
  form.addEventListener("change", updateAll);
  updateAll();

  // 3. The questions speak to whoever is filling in the form (on the booking form, the one
  // booking; on the questionnaire, the one answering), and "None of these" excludes the rest.
  var voice = (form.getAttribute("data-voice") || "booked_by=caregiver").split("=");
  var worded = form.querySelectorAll("[data-caregiver]");
  function wording() {
    var caregiver = currentValues(voice[0]).indexOf(voice[1]) !== -1;
    worded.forEach(function (el) {
      el.textContent = el.getAttribute(caregiver ? "data-caregiver" : "data-self");
    });
  }
  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name === voice[0]) { wording(); }
    if (box.name !== "red_flags" || !box.checked) { return; }
    form.querySelectorAll('input[name="red_flags"]').forEach(function (other) {
      if (other !== box && (box.value === "none" || other.value === "none")) { other.checked = false; }
    });
    update();
  });
  wording();
})();
