// @ts-check
/**
 * The decoder's "Verify against a key set": the pasted token against a
 * pasted JSON Web Key Set, through `jwt:verify-key-set`, or against a key
 * set file the user picks in the host's own dialog
 * (`jwt:verify-key-set-file`; the page never learns the path), or
 * against one the host fetches from a URL on a host the user allowed in
 * the host's own dialog (`jwt:verify-key-set-url`). The host picks the
 * key by the token's `kid` and the algorithm by the key; this module shows
 * which key matched, or why none did.
 *
 * Does not trust: the key set and the host's echo of its `kid`; all of it
 * reaches the DOM through `textContent` only.
 */
import { asShownError, bridge, firstCall } from "../bridge.js";
import { byId } from "../dom.js";

const dom = {
  input: byId("keyset-input", HTMLTextAreaElement),
  verify: byId("keyset-verify", HTMLButtonElement),
  file: byId("keyset-file", HTMLButtonElement),
  url: byId("keyset-url", HTMLInputElement),
  urlVerify: byId("keyset-url-verify", HTMLButtonElement),
  hosts: byId("keyset-hosts", HTMLElement),
  result: byId("keyset-result", HTMLElement),
  detail: byId("keyset-detail", HTMLElement),
};

/** Increases with every verification and reset; an older answer is dropped. */
let seq = 0;

/** @type {Record<string, string>} */
const REASONS = {
  "no-matching-key": "No matching key",
  expired: "Signature valid, token expired",
  "not-yet-valid": "Signature valid, not yet valid",
  "bad-signature": "Bad signature",
  "wrong-algorithm": "Algorithm not allowed by the key",
  "invalid-claims": "Invalid time claims",
  malformed: "Malformed token",
};

/**
 * @param {string} text
 * @param {"ok" | "warn" | "danger" | "neutral"} tone
 * @param {string} detail
 */
function show(text, tone, detail) {
  dom.result.textContent = text;
  dom.result.dataset.tone = tone;
  dom.result.hidden = false;
  dom.detail.textContent = detail;
  dom.detail.hidden = detail === "";
}

/** Forgets the last verdict (the token or the key set changed). */
export function resetKeySet() {
  seq++;
  dom.result.hidden = true;
  dom.detail.hidden = true;
  dom.verify.disabled = false;
  dom.file.disabled = false;
  dom.urlVerify.disabled = false;
}

/**
 * Shows the hosts key sets may be fetched from, each with Forget.
 * @param {string[]} hosts
 */
function showHosts(hosts) {
  dom.hosts.replaceChildren();
  if (hosts.length === 0) {
    dom.hosts.textContent = "Key sets are fetched only from hosts you allow; Tollgate asks the first time.";
    return;
  }
  dom.hosts.append("Allowed hosts:");
  for (const host of hosts) {
    const code = document.createElement("code");
    code.textContent = host;
    const forget = document.createElement("button");
    forget.type = "button";
    forget.className = "button button-quiet button-small";
    forget.textContent = "Forget";
    forget.setAttribute("aria-label", `Forget ${host}`);
    forget.addEventListener("click", () => {
      void bridge().invoke("jwt:forget-key-set-host", { host }).then((answer) => showHosts(answer.hosts), () => {});
    });
    dom.hosts.append(" ", code, forget);
  }
}

async function refreshHosts() {
  try {
    showHosts((await firstCall("jwt:key-set-hosts")).hosts);
  } catch {
    // The list stays as it was.
  }
}

/**
 * Shows the host's verdict.
 * @param {KeySetVerification} answer
 */
function showVerdict(answer) {
  const key = answer.key;
  const which = key ? `key ${key.kid ?? "(no kid)"} · ${key.algorithm} · thumbprint ${key.thumbprint}` : "";
  if (answer.valid) {
    show("Verified", "ok", `Signed by ${which}`);
  } else {
    const reason = answer.reason ? REASONS[answer.reason] ?? answer.reason : "Not valid";
    const detail = [answer.message ?? "", which ? `Key: ${which}` : ""].filter((s) => s !== "").join(" · ");
    show(reason, key ? "warn" : "danger", detail);
  }
}

/**
 * Runs one verification, dropping its answer if another started since.
 * @param {() => Promise<KeySetVerification | null>} ask
 */
async function verify(ask) {
  const mine = ++seq;
  dom.verify.disabled = true;
  dom.file.disabled = true;
  dom.urlVerify.disabled = true;
  show("Verifying…", "neutral", "");
  try {
    const answer = await ask();
    if (mine !== seq) return;
    if (answer === null) {
      show("Not verified", "neutral", "Nothing was chosen or allowed.");
    } else {
      showVerdict(answer);
    }
  } catch (reason) {
    if (mine !== seq) return;
    const error = asShownError(reason);
    show(error.code === "INVALID_INPUT" ? "Key set refused" : "Could not verify", "danger", error.message);
  } finally {
    if (mine === seq) {
      dom.verify.disabled = false;
      dom.file.disabled = false;
      dom.urlVerify.disabled = false;
    }
  }
}

/** @param {() => string} currentToken the decoder's token, as it would be decoded */
export function wireKeySet(currentToken) {
  dom.input.addEventListener("input", resetKeySet);
  dom.verify.addEventListener("click", () => {
    const token = currentToken();
    const keySet = dom.input.value;
    if (token === "" || keySet.trim() === "") {
      seq++;
      show("Paste a token and a key set", "neutral", "");
      return;
    }
    void verify(() => bridge().invoke("jwt:verify-key-set", { token, keySet }));
  });
  dom.file.addEventListener("click", () => {
    const token = currentToken();
    if (token === "") {
      seq++;
      show("Paste a token first", "neutral", "");
      return;
    }
    void verify(() => bridge().invoke("jwt:verify-key-set-file", { token }));
  });
  dom.urlVerify.addEventListener("click", () => {
    const token = currentToken();
    const url = dom.url.value.trim();
    if (token === "" || url === "") {
      seq++;
      show("Paste a token and a key set URL", "neutral", "");
      return;
    }
    void verify(() => bridge().invoke("jwt:verify-key-set-url", { token, url })).then(refreshHosts);
  });
  dom.url.addEventListener("input", resetKeySet);
  void refreshHosts();
}
