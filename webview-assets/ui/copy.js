// @ts-check
/**
 * Copy buttons: each `button[data-copy-from]` copies the text of the element
 * it names, then says "Copied" (or "Copy failed") for a moment.
 */

/** How long a copy button says "Copied" before it reads "Copy" again. */
const COPY_FEEDBACK_MS = 1_500;

/** @param {HTMLButtonElement} button */
async function copyFrom(button) {
  const source = button.dataset.copyFrom ? document.getElementById(button.dataset.copyFrom) : null;
  const text = source?.textContent ?? "";
  if (text === "") return;
  let label = "Copied";
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    label = "Copy failed";
  }
  button.textContent = label;
  button.dataset.state = label === "Copied" ? "done" : "failed";
  setTimeout(() => {
    button.textContent = "Copy";
    delete button.dataset.state;
  }, COPY_FEEDBACK_MS);
}

/** Wires every copy button in the markup (the page creates none later). */
export function wireCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy-from]")) {
    if (button instanceof HTMLButtonElement) button.addEventListener("click", () => void copyFrom(button));
  }
}
