// Portal-wide behaviour, loaded by base.html. The Content-Security-Policy allows no inline
// script or on…= handler attributes, so pages mark elements with data- attributes instead.
(function () {
  // <form data-confirm="Really?">: ask before submitting.
  document.addEventListener("submit", function (evt) {
    var form = evt.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  // <input type=checkbox data-select-all> in a table header ticks every row's pk box
  // (the table is swapped by htmx: delegate).
  document.addEventListener("change", function (evt) {
    var all = evt.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll("#object-table input[name='pk']").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // <button data-formset-add="PREFIX" data-formset-max="N">: append a copy of the
  // <template id="PREFIX-empty"> row to #PREFIX-rows and count it in TOTAL_FORMS.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-formset-add]");
    if (!button) return;
    var prefix = button.dataset.formsetAdd;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var n = parseInt(total.value, 10);
    var max = parseInt(button.dataset.formsetMax || "1000", 10);
    if (n >= max) return;
    var html = document.getElementById(prefix + "-empty").innerHTML.replace(/__prefix__/g, n);
    document.getElementById(prefix + "-rows").insertAdjacentHTML("beforeend", html);
    total.value = n + 1;
  });
})();
