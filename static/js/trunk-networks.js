// Trunk form, Authorized IPs: add a row (from the formset's empty form) or remove one
// (ticks its DELETE box and hides it, so the server deletes a saved row on submit).
(function () {
  const rows = document.getElementById("network-rows");
  const tpl = document.getElementById("network-row-template");
  const total = document.getElementById("id_networks-TOTAL_FORMS");
  const add = document.getElementById("add-network");
  if (!rows || !tpl || !total || !add) return;
  add.addEventListener("click", () => {
    const index = parseInt(total.value, 10);
    const html = tpl.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const inputs = rows.querySelectorAll(".network-row:last-child input[type=text]");
    if (inputs.length) inputs[0].focus();
  });
  rows.addEventListener("click", (event) => {
    const button = event.target.closest(".remove-network");
    if (!button) return;
    const row = button.closest(".network-row");
    const del = row.querySelector("input[type=checkbox][name$='-DELETE']");
    if (del) del.checked = true;
    row.hidden = true;
  });
})();
