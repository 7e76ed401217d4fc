// A few DOM helpers. Everything the node sends is put on the page as text, never as HTML.

type Child = Node | string | number | bigint | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Creates an element: `h("a", {href: "#/x"}, "text", child)`. */
export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: HTMLElement, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's content. */
export function replace(el: HTMLElement, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

export const link = (href: string, ...children: Child[]) => h("a", { href }, ...children);

/** A two-column table of label/value rows. */
export function facts(rows: [string, Child | Child[]][]): HTMLElement {
  return h(
    "table",
    { class: "facts" },
    rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, ...(Array.isArray(v) ? v : [v])))),
  );
}

/** A table with a header row. */
export function table(head: string[], rows: (Child | Child[])[][], attrs: Attrs = {}): HTMLElement {
  return h(
    "table",
    { class: "list", ...attrs },
    h("thead", {}, h("tr", {}, head.map((x) => h("th", {}, x)))),
    h(
      "tbody",
      {},
      rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, ...(Array.isArray(c) ? c : [c]))))),
    ),
  );
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

/** A message box: `note`, `error` or `ok`. */
export function notice(kind: "note" | "error" | "ok", ...children: Child[]): HTMLElement {
  return h("p", { class: `notice ${kind}` }, ...children);
}
