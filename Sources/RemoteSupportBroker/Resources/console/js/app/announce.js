// Status messages read out by screen readers (the page's polite aria-live region).

/** Says `message` through the live region (cleared first so a repeated message is read again). */
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A new task so assistive technology notices the change.
  setTimeout(() => { region.textContent = message; }, 50);
}
