// @ts-check
/**
 * "Export profiles…" and "Import profiles…": profiles with their keys,
 * moved to another machine in a file encrypted under a passphrase
 * (`profiles:export-bundle`, `profiles:import-bundle`). The host opens the
 * keys, seals them under the passphrase and writes the file where the user
 * says in its own dialog (and back); this page gives the passphrase and
 * sees names and counts only, never a key or where the file is.
 */
import { asShownError, bridge } from "../bridge.js";
import { byId } from "../dom.js";

const dom = {
  openExport: byId("bundle-export-open", HTMLButtonElement),
  openImport: byId("bundle-import-open", HTMLButtonElement),
  panel: byId("bundle-panel", HTMLFormElement),
  intro: byId("bundle-intro", HTMLElement),
  passphrase: byId("bundle-passphrase", HTMLInputElement),
  confirm: byId("bundle-confirm", HTMLInputElement),
  confirmLabel: byId("bundle-confirm-label", HTMLElement),
  go: byId("bundle-go", HTMLButtonElement),
  cancel: byId("bundle-cancel", HTMLButtonElement),
  status: byId("bundle-status", HTMLElement),
};

/** The shortest passphrase the host seals under. */
const MIN_PASSPHRASE = 12;

/** @type {"export" | "import"} */
let mode = "export";

/**
 * @param {string} text
 * @param {"ok" | "error" | ""} tone
 */
function say(text, tone) {
  dom.status.textContent = text;
  if (tone === "") delete dom.status.dataset.tone;
  else dom.status.dataset.tone = tone;
}

/** @param {"export" | "import"} next */
function open(next) {
  mode = next;
  const exporting = mode === "export";
  dom.intro.textContent = exporting
    ? "Every profile and its key, encrypted under this passphrase (Argon2id, XChaCha20-Poly1305). Tollgate asks where to save the file. Keep the passphrase apart from the file."
    : "The profiles of a bundle exported by Tollgate, added here with their keys sealed by this machine's keychain. Tollgate asks which file.";
  dom.go.textContent = exporting ? "Export…" : "Choose bundle…";
  dom.confirm.hidden = !exporting;
  dom.confirmLabel.hidden = !exporting;
  dom.passphrase.value = "";
  dom.confirm.value = "";
  say("", "");
  dom.panel.hidden = false;
  dom.passphrase.focus();
}

function close() {
  dom.passphrase.value = "";
  dom.confirm.value = "";
  dom.panel.hidden = true;
}

/** @param {() => void} reload called after profiles were added */
async function run(reload) {
  const passphrase = dom.passphrase.value;
  if (mode === "export") {
    if ([...passphrase].length < MIN_PASSPHRASE) {
      say(`Use a passphrase of at least ${MIN_PASSPHRASE} characters.`, "error");
      return;
    }
    if (passphrase !== dom.confirm.value) {
      say("The two passphrases differ.", "error");
      return;
    }
  }
  dom.go.disabled = true;
  say(mode === "export" ? "Sealing…" : "Waiting for a file…", "");
  try {
    if (mode === "export") {
      const done = await bridge().invoke("profiles:export-bundle", { passphrase });
      if (!done.saved) say("Not saved.", "");
      else {
        say(`Saved ${done.profiles} profile${done.profiles === 1 ? "" : "s"}.`, "ok");
        dom.passphrase.value = "";
        dom.confirm.value = "";
      }
    } else {
      const done = await bridge().invoke("profiles:import-bundle", { passphrase });
      if (done === null) say("No file chosen.", "");
      else {
        const added = done.imported.map((p) => p.name).join(", ");
        const skipped = done.skipped.map((p) => `${p.name} (${p.reason})`).join("; ");
        say([added ? `Added ${added}.` : "Nothing added.", skipped ? `Skipped ${skipped}.` : ""].filter((s) => s !== "").join(" "), done.imported.length > 0 ? "ok" : "error");
        dom.passphrase.value = "";
        if (done.imported.length > 0) reload();
      }
    }
  } catch (reason) {
    const error = asShownError(reason);
    say(error.code === "DECRYPTION_FAILED" ? "Wrong passphrase, or the file was changed." : error.message, "error");
  } finally {
    dom.go.disabled = false;
  }
}

/** @param {() => void} reload called after profiles were added */
export function wireBundles(reload) {
  dom.openExport.addEventListener("click", () => open("export"));
  dom.openImport.addEventListener("click", () => open("import"));
  dom.cancel.addEventListener("click", close);
  dom.panel.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(reload);
  });
}
