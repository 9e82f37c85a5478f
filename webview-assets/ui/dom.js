// @ts-check
/**
 * Element helpers both pages share: looking up the elements the markup must
 * contain, and creating new ones. Text is always set with `textContent`, so
 * nothing made here parses markup.
 *
 * Holds no state and touches no element when it loads, so any page can
 * import it.
 */

/** A chip's or a note's colour, by what it means. @typedef {"ok" | "warn" | "danger" | "neutral"} Tone */

/**
 * Looks up an element the page markup must contain.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
export function byId(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) {
    throw new Error(`the page has no <${type.name}> #${id}`);
  }
  return found;
}

/**
 * Creates an element with a class and text. Text is set with
 * `textContent`, so it is never parsed as markup.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Creates an SVG icon from path data the page itself defines.
 * @param {string} pathData
 * @param {string} className
 * @returns {SVGSVGElement}
 */
export function icon(pathData, className) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", className);
  const path = document.createElementNS(svgNs, "path");
  path.setAttribute("d", pathData);
  svg.append(path);
  return svg;
}

/** The warning triangle of the error banners and the plugins card's error. */
export const ICON_ALERT = "M10 2.5 1.8 16.8h16.4L10 2.5zM10 8v4M10 14.4v.1";
