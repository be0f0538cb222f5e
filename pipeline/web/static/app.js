// newswire's only script (CSP: script-src 'self'). "/" focuses the search box.
"use strict";
document.documentElement.dataset.js = "on";
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("q");
  if (event.key === "/" && box && document.activeElement !== box) {
    event.preventDefault();
    box.focus();
  }
});
