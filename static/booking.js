// Progressive enhancement of the booking form. Without it the form works the same:
// every question is shown and the times are listed in the clinic's time zone.
(function () {
  "use strict";
  var form = document.querySelector("form[data-times]");
  if (!form) { return; }

  // 1. Show the times in the patient's own zone, detected from the device.
  var zoneSelect = document.getElementById("timezone");
  var detected = "";
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { detected = ""; }
  var params = new URLSearchParams(window.location.search);
  var freshPage = !form.querySelector(".has-error") && !document.querySelector(".notice");
  // The server knows old zone names (Chrome still reports "Asia/Calcutta") under their current
  // ones, so the detected name is sent as it is, once.
  if (form.hasAttribute("data-detect-zone") && zoneSelect && detected && !params.has("tz") && freshPage && zoneSelect.value !== detected) {
    params.set("tz", detected);
    window.location.replace(window.location.pathname + "?" + params.toString());
    return;
  }
  if (zoneSelect) {
    zoneSelect.addEventListener("change", function () {
      var refresh = document.createElement("input");
      refresh.type = "hidden";
      refresh.name = "refresh";
      refresh.value = "1";
      form.appendChild(refresh);
      form.submit();
    });
  }

  // 2. Hide the questions that do not apply to the answers given so far.
  function currentValues(name) {
    var values = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
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
  form.addEventListener("change", update);
  update();

  // 3. The safety question speaks to whoever is booking, and "None of these" excludes the rest.
  var legend = form.querySelector("legend[data-caregiver]");
  function wording() {
    if (!legend) { return; }
    var caregiver = currentValues("booked_by").indexOf("caregiver") !== -1;
    legend.textContent = legend.getAttribute(caregiver ? "data-caregiver" : "data-self");
  }
  form.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name === "booked_by") { wording(); }
    if (box.name !== "red_flags" || !box.checked) { return; }
    form.querySelectorAll('input[name="red_flags"]').forEach(function (other) {
      if (other !== box && (box.value === "none" || other.value === "none")) { other.checked = false; }
    });
    update();
  });
  wording();
})();
