// Form pieces shared by the pages: labelled fields, the error box next to a form, busy buttons.

import { describeError } from "./api.js";
import { h, uniqueID } from "./dom.js";

/**
 * A labelled input: `{ label, name, type = "text", value, hint, ...attributes }`.
 * Returns `{ element, input }`; the hint is tied to the input with aria-describedby.
 */
export function field({ label, name, type = "text", value, hint, options, ...attributes }) {
  const id = uniqueID(name ?? "field");
  const hintID = hint ? id + "-hint" : null;
  const input = options
    ? h("select", { id, name, "aria-describedby": hintID, ...attributes },
        options.map(([optionValue, text]) => h("option", { value: optionValue, selected: optionValue === value }, text)))
    : h("input", { id, name, type, "aria-describedby": hintID, ...attributes });
  if (!options && value !== undefined && value !== null) input.value = value;
  const element = h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: hintID }, hint) : null);
  return { element, input };
}

/**
 * The message box beside a form: `show(errorOrText)` as an error (role=alert), `success(text)` as a
 * polite status, `clear()`. Hidden while empty.
 */
export function messageBox() {
  const element = h("div", { class: "message", hidden: true });
  return {
    element,
    show(error) {
      element.className = "message message-error";
      element.setAttribute("role", "alert");
      element.textContent = typeof error === "string" ? error : describeError(error);
      element.hidden = false;
    },
    success(text) {
      element.className = "message message-success";
      element.setAttribute("role", "status");
      element.textContent = text;
      element.hidden = false;
    },
    clear() {
      element.hidden = true;
      element.textContent = "";
    },
  };
}

/** Runs `work` with `button` disabled and marked busy; returns its result. */
export async function whileBusy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A page heading with an optional lead paragraph. */
export function pageHeader(title, lead, ...actions) {
  return h("header", { class: "page-header" },
    h("div", {}, h("h1", {}, title), lead ? h("p", { class: "lead" }, lead) : null),
    actions.length ? h("div", { class: "page-actions" }, actions) : null);
}
