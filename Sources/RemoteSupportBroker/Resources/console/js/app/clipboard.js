// Copying with a visible confirmation; when the clipboard API is refused (no permission, not a
// secure context), the text is selected instead so the user can press Ctrl+C.

import { announce } from "./announce.js";
import { h } from "./dom.js";

/**
 * A "Copy" button for what `text()` returns. `select()` selects the text on screen for the fallback.
 * Its confirmation ("Copied", or how to copy by hand) shows beside it and is announced.
 */
export function copyButton({ text, select, label = "Copy", describedBy }) {
  const confirmation = h("span", { class: "copy-confirmation", role: "status" });
  let timer = null;
  const button = h("button", { type: "button", class: "btn btn-secondary", "aria-describedby": describedBy, onClick: copy }, label);

  async function copy() {
    const value = text();
    if (!value) return;
    let message;
    try {
      if (!navigator.clipboard?.writeText) throw new Error("no clipboard API");
      await navigator.clipboard.writeText(value);
      message = "Copied";
    } catch {
      select?.();
      message = "Selected: press Ctrl+C (⌘C) to copy";
    }
    confirmation.textContent = message;
    announce(message);
    clearTimeout(timer);
    timer = setTimeout(() => { confirmation.textContent = ""; }, 4000);
  }

  return h("span", { class: "copy-group" }, button, confirmation);
}

/** Selects the contents of an element (an input's text, or a node's). */
export function selectContents(element) {
  if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
    element.focus();
    element.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}
