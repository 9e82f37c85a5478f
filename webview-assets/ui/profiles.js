// @ts-check
/**
 * The signing profiles card: starts it (the saved settings, then the
 * profiles) and wires its controls. Its parts are in profiles/: the
 * elements and state, the form, the list, the editor, Save and Delete,
 * claims findings, Generate and Verify, and the advice shown with errors.
 *
 * Trusts: the bridge. Does not trust: profile contents and findings; they
 * reach the DOM as text. The key the user types goes to `crypto:encrypt`
 * on Save; the page keeps only the sealed form the host returns.
 */
import { asShownError, bridge, firstCall } from "./bridge.js";
import { h } from "./dom.js";
import { showBanner } from "./error-banner.js";
import { applyTheme } from "./header.js";
import { adviceFor } from "./profiles/advice.js";
import { closeDiscardPrompt, disarmDelete, editProfile, unlessUnsaved } from "./profiles/editor.js";
import { pdom } from "./profiles/elements.js";
import { ALGORITHMS, setFieldError, syncExpiry, syncKeyField, updateDirty, validateClaims } from "./profiles/form.js";
import { onGenerate, onVerify, openGeneratedInDecoder } from "./profiles/generate.js";
import { scheduleLint } from "./profiles/lint.js";
import { loadProfiles, onListKeydown, profileButtons, renderProfileList } from "./profiles/list.js";
import { onCopyJwks, onSaveJwks, showStoredPublicKey } from "./profiles/public-key.js";
import { showResolvedTimes } from "./profiles/relative-times.js";
import { wireBundles } from "./profiles/bundle.js";
import { onCancelMakeKey, onDelete, onImportKeyFile, onKeyFileDropped, onKeyGenerateProgress, onMakeKey, saveProfile } from "./profiles/save.js";
import { profileState } from "./profiles/state.js";
import { storedThemeChoice } from "./theme.js";

/**
 * Applies the saved theme (unless this machine's page storage holds a
 * choice) and answers the remembered profile. Never rejects.
 * @returns {Promise<string | null>}
 */
async function loadSettings() {
  try {
    const settings = await firstCall("settings:get");
    if (!storedThemeChoice()) applyTheme(settings.theme);
    return settings.lastSelectedProfileId;
  } catch (reason) {
    const error = asShownError(reason);
    if (error.code === "PARSE_ERROR") showBanner(pdom.loadBanner, error, adviceFor(error)?.replace("empty list", "default settings"));
    return null;
  }
}

export async function startProfiles() {
  // A key file dropped on the window comes through the host, never as a
  // DOM drop: the host holds it and says so.
  void bridge().on("keys:file-dropped", (drop) => void onKeyFileDropped(drop).then(updateDirty)).catch(() => {});
  void bridge().on("keys:generate-progress", onKeyGenerateProgress).catch(() => {});
  const remembered = await loadSettings();
  await loadProfiles(remembered);
}

export function wireProfileEvents() {
  for (const alg of ALGORITHMS) {
    const option = h("option", "", alg);
    option.value = alg;
    pdom.algorithm.append(option);
  }
  pdom.newButton.addEventListener("click", () => {
    if (profileState.busy) return;
    const current = profileState.selected?.name ?? "the new profile";
    unlessUnsaved(`Discard the unsaved changes to “${current}” and start a new profile?`, () => {
      editProfile(null);
      renderProfileList();
      pdom.name.focus();
    });
  });
  pdom.search.addEventListener("input", renderProfileList);
  pdom.search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      profileButtons()[0]?.focus();
    } else if (event.key === "Escape" && pdom.search.value !== "") {
      event.preventDefault();
      pdom.search.value = "";
      renderProfileList();
    }
  });
  pdom.list.addEventListener("keydown", onListKeydown);
  pdom.discardConfirm.addEventListener("click", () => {
    const action = profileState.pendingDiscard;
    closeDiscardPrompt();
    action?.();
  });
  pdom.discardCancel.addEventListener("click", closeDiscardPrompt);
  pdom.discard.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeDiscardPrompt();
    }
  });
  pdom.form.addEventListener("submit", (event) => {
    event.preventDefault();
    void saveProfile();
  });
  pdom.form.addEventListener("input", updateDirty);
  pdom.form.addEventListener("change", updateDirty);
  pdom.name.addEventListener("input", () => setFieldError("name", null));
  pdom.key.addEventListener("input", () => setFieldError("key", null));
  pdom.claims.addEventListener("input", () => {
    validateClaims();
    showResolvedTimes();
    scheduleLint();
  });
  pdom.algorithm.addEventListener("change", () => {
    setFieldError("algorithm", null);
    syncKeyField();
  });
  pdom.expiry.addEventListener("change", () => {
    setFieldError("expiry", null);
    syncExpiry();
  });
  pdom.custom.addEventListener("input", () => {
    setFieldError("expiry", null);
    syncExpiry();
  });
  for (const radio of pdom.form.querySelectorAll('input[name="key-encoding"]')) radio.addEventListener("change", syncKeyField);
  pdom.keyReplace.addEventListener("click", () => {
    profileState.replacingKey = true;
    pdom.storedPublic.hidden = true;
    syncKeyField();
    updateDirty();
    pdom.key.focus();
  });
  pdom.keyMake.addEventListener("click", () => void onMakeKey().then(updateDirty));
  pdom.keyMakeCancel.addEventListener("click", () => void onCancelMakeKey());
  pdom.keyImport.addEventListener("click", () => void onImportKeyFile().then(updateDirty));
  pdom.jwksCopy.addEventListener("click", () => void onCopyJwks());
  pdom.jwksSave.addEventListener("click", () => void onSaveJwks());
  wireBundles(() => void loadProfiles(profileState.selected?.id ?? null));
  pdom.keyKeep.addEventListener("click", () => {
    profileState.replacingKey = false;
    profileState.madeKey = null;
    void showStoredPublicKey(profileState.selected);
    pdom.key.value = "";
    setFieldError("key", null);
    syncKeyField();
    updateDirty();
  });
  pdom.revert.addEventListener("click", () => editProfile(profileState.selected));
  pdom.del.addEventListener("click", () => void onDelete());
  pdom.delCancel.addEventListener("click", disarmDelete);
  pdom.generate.addEventListener("click", () => void onGenerate());
  pdom.verify.addEventListener("click", () => void onVerify());
  pdom.decodeGenerated.addEventListener("click", openGeneratedInDecoder);
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey)) return;
    if (event.key === "s") {
      event.preventDefault();
      void saveProfile();
    } else if (event.key === "g") {
      event.preventDefault();
      if (!pdom.generate.disabled) void onGenerate();
    }
  });
}
