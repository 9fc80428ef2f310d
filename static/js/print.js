// "Print report" buttons (no inline handlers, so a strict CSP stays possible).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
