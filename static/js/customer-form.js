// Customer form: the postpaid terms are shown only while "Postpaid" is chosen.
(function () {
  const billing = document.getElementById("id_billing_type");
  const box = document.getElementById("postpaid-fields");
  if (!billing || !box) return;
  const sync = () => { box.hidden = billing.value !== "postpaid"; };
  billing.addEventListener("change", sync);
  sync();
})();
