// A search box over a time-zone picker (select[data-zone-filter]): typing a city, country or
// zone name hides the options and countries that do not match. Without JavaScript the
// picker still works: its zones are grouped by country, the clinic's own first.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-zone-filter]")) {
    const input = document.createElement("input");
    input.type = "search";
    input.id = `${select.id}_search`;
    input.className = "zone-search";
    input.placeholder = "City, country or zone";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.className = "zone-search-label";
    label.textContent = "Find a time zone";
    select.before(label, input);
    input.addEventListener("input", () => {
      const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      const matches = (text) => words.every((word) => text.toLowerCase().includes(word));
      let first = null;
      for (const group of select.querySelectorAll("optgroup")) {
        let shown = 0;
        for (const option of group.querySelectorAll("option")) {
          option.hidden = !matches(`${group.label} ${option.text} ${option.value}`);
          if (!option.hidden) {
            shown += 1;
            first = first || option;
          }
        }
        group.hidden = shown === 0;
      }
      // The first match is chosen, as a list box would; the selection is what is saved.
      const current = select.options[select.selectedIndex];
      if (first && (!current || current.hidden)) first.selected = true;
    });
  }
});
