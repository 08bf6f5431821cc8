// A filter box above every <select data-searchable>: typing narrows the visible options
// (client-side; for short fixed lists such as countries).
(function () {
  document.querySelectorAll("select[data-searchable]").forEach((select) => {
    const box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = "Type to filter…";
    box.setAttribute("aria-label", "Filter " + (select.name || "options"));
    box.dataset.filterFor = select.id;
    select.before(box);
    box.addEventListener("input", () => {
      const q = box.value.trim().toLowerCase();
      let first = null;
      for (const opt of select.options) {
        const show = !q || opt.text.toLowerCase().includes(q) || opt.value.toLowerCase() === q;
        opt.hidden = !show;
        if (show && opt.value && !first) first = opt;
      }
      if (q && first && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
})();
