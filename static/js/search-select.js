// SearchSelect (vmgate/widgets.py): after htmx swaps new <option>s into a search-select's
// <select>, fire "change" if the selected value changed, so dependent fields (hx-trigger
// "change") and filter forms follow, exactly as if the operator had picked it.
(function () {
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.tagName === "SELECT" && target.closest("[data-search-select]")) {
      target.dataset.valueBeforeSwap = target.value;
    }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.tagName === "SELECT" && target.closest("[data-search-select]")) {
      if (target.dataset.valueBeforeSwap !== target.value) {
        target.dispatchEvent(new Event("change", { bubbles: true }));
      }
      delete target.dataset.valueBeforeSwap;
    }
  });
})();
