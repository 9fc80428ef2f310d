// Free-slot buttons of a booking conflict (button[data-slot-for]): a click fills the time
// field named by data-slot-for with the slot (data-slot-value), for the clinician to save.
// Without JavaScript the buttons still show the free times to type in.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-slot-for]")) {
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.slotFor);
      if (!input) return;
      input.value = button.dataset.slotValue;
      input.focus();
      const status = document.getElementById("slot-status");
      if (status) status.textContent = `Time set to ${button.textContent.trim()}. Save to book it.`;
    });
  }
});
