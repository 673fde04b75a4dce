// The SRGAN book: a table wider than the text column (many numeric columns, long names) is set in a
// smaller font, step by step down to 70 %, until it fits; if it still does not, its cells may break
// words anywhere.  Nothing is cut off or needs sideways scrolling (tests/test_site.py measures the pages
// at 1,280 px).
function srganFitTables() {
  for (const table of document.querySelectorAll("article table")) {
    const box = table.parentElement;
    let size = 90;
    table.style.fontSize = "";
    table.classList.remove("srgan-squeeze");
    while (table.scrollWidth > box.clientWidth + 1 && size > 70) {
      size -= 5;
      table.style.fontSize = size + "%";
    }
    if (table.scrollWidth > box.clientWidth + 1) table.classList.add("srgan-squeeze");
  }
}
window.addEventListener("load", srganFitTables);
window.addEventListener("resize", srganFitTables);
