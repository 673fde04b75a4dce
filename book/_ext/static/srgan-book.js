// The SRGAN book: a table wider than the text column (many numeric columns) is set in a smaller font,
// step by step down to 70 %, until it fits; nothing is cut off or needs sideways scrolling
// (tests/test_site.py measures the pages at 1,280 px).
function srganFitTables() {
  for (const table of document.querySelectorAll("article table")) {
    const box = table.parentElement;
    let size = 90;
    table.style.fontSize = "";
    while (table.scrollWidth > box.clientWidth + 1 && size > 70) {
      size -= 5;
      table.style.fontSize = size + "%";
    }
  }
}
window.addEventListener("load", srganFitTables);
window.addEventListener("resize", srganFitTables);
