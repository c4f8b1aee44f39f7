// Building DOM without markup strings: every piece of data becomes text (textContent / text nodes),
// never HTML, so names and tickets typed by end users cannot inject elements.

/**
 * Creates an element.
 *   h("button", { class: "btn", type: "button", onClick: fn, "aria-expanded": "false" }, "Text", child)
 * Props: `class`, `text`, `dataset` (object), `on<Event>` (listeners), `hidden`/`disabled`/... (boolean
 * properties), anything else as an attribute (null/undefined/false leave it out). Children: nodes, strings
 * (as text), numbers, arrays of those; null, undefined and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children (nodes, strings as text, arrays; skips null/undefined/false). */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let nextID = 0;
/** A document-unique id for label/aria wiring. */
export function uniqueID(prefix = "id") {
  nextID += 1;
  return `${prefix}-${nextID}`;
}
