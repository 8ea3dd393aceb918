// The studio page: the generate form, and the live list of the user's jobs.

import { format, messagesOf, requestJSON } from "./api.js";
import { JobList } from "./jobs.js";
import { MaskPainter } from "./mask-painter.js";

const strings = JSON.parse(document.getElementById("studio-strings").textContent);
const form = document.getElementById("generate-form");
const prompt = document.getElementById("prompt");
const counter = document.getElementById("prompt-counter");
const count = document.getElementById("prompt-count");
const generate = document.getElementById("generate");
const advanced = document.getElementById("advanced");
const formError = document.getElementById("form-error");
const jobsUrl = form.dataset.jobsUrl;
strings.galleryUrl = form.dataset.galleryUrl;
strings.studioUrl = form.dataset.studioUrl;

// API field name → the control that shows its error.
const FIELD_CONTROLS = {
  prompt: "prompt",
  count: "count",
  width: "size",
  height: "size",
  steps: "steps",
  seed: "seed",
  style: "style",
  strength: "strength",
  mask: "mask-canvas",
};

const jobs = new JobList({
  list: document.getElementById("jobs"),
  empty: document.getElementById("jobs-empty"),
  loading: document.getElementById("jobs-loading"),
  connection: document.getElementById("connection"),
  jobsUrl,
  strings,
});

// ---- Remembered settings ---------------------------------------------------------------------
// The candidates count and the advanced settings are kept per browser (localStorage), so a
// reload or the next visit starts where the user left off. The prompt is not a setting: only an
// unsent draft is kept, per tab and per user (sessionStorage), so a reload does not lose it but
// the next person at a shared computer never sees it; sending it forgets it.

const SETTINGS_KEY = "wee-waa:studio-settings";
const DRAFT_KEY = `wee-waa:studio-draft:${form.dataset.user || ""}`;
const REMEMBERED = ["count", "size", "steps", "seed", "style"];

/** localStorage or sessionStorage, or null where the browser refuses it (privacy settings). */
function storageOf(name) {
  try {
    const storage = window[name];
    storage.getItem(SETTINGS_KEY);
    return storage;
  } catch {
    return null;
  }
}

const settingsStore = storageOf("localStorage");
const draftStore = storageOf("sessionStorage");

function readStored(store, key) {
  try {
    const raw = store ? store.getItem(key) : null;
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null; // not JSON: someone else's value, or an older page's
  }
}

function writeStored(store, key, value) {
  try {
    if (!store) return;
    if (value === null) store.removeItem(key);
    else store.setItem(key, JSON.stringify(value));
  } catch {
    // Full or refused: the page works the same, it only forgets.
  }
}

/** Whether `value` is one the control offers now: an option of a select, a whole number in range. */
function offered(control, value) {
  if (typeof value !== "string") return false;
  if (control instanceof HTMLSelectElement) return [...control.options].some((option) => option.value === value);
  if (value === "") return control.id === "seed"; // an empty seed means a random one
  if (!/^\d{1,16}$/.test(value)) return false;
  const number = Number(value);
  return Number.isSafeInteger(number) && number >= Number(control.min) && number <= Number(control.max);
}

function restoreSettings() {
  const saved = readStored(settingsStore, SETTINGS_KEY);
  if (!saved || typeof saved !== "object" || Array.isArray(saved)) return;
  for (const id of REMEMBERED) {
    const control = document.getElementById(id);
    if (Object.hasOwn(saved, id) && offered(control, saved[id])) control.value = saved[id];
  }
  // A fixed seed draws the same picture every time: never keep one hidden behind a closed panel.
  advanced.open = saved.advancedOpen === true || document.getElementById("seed").value !== "";
}

function saveSettings() {
  const settings = { advancedOpen: advanced.open };
  for (const id of REMEMBERED) settings[id] = document.getElementById(id).value.trim();
  writeStored(settingsStore, SETTINGS_KEY, settings);
}

function restoreDraft() {
  const draft = readStored(draftStore, DRAFT_KEY);
  if (typeof draft === "string" && prompt.value === "") prompt.value = draft.slice(0, prompt.maxLength);
}

function saveDraft() {
  writeStored(draftStore, DRAFT_KEY, prompt.value.trim() ? prompt.value : null);
}

function updateCounter() {
  const max = Number(counter.dataset.max) || prompt.maxLength;
  const used = prompt.value.length;
  count.textContent = String(used);
  counter.classList.toggle("near-limit", used >= max * 0.9);
}

function clearErrors() {
  formError.replaceChildren();
  for (const id of new Set(Object.values(FIELD_CONTROLS))) {
    const control = document.getElementById(id);
    if (!control) continue; // the edit panel's controls exist in edit mode only
    control.removeAttribute("aria-invalid");
    document.getElementById(`${id}-error`).textContent = "";
  }
}

function showFormError(messages) {
  const list = document.createElement("ul");
  for (const message of messages) {
    const item = document.createElement("li");
    item.textContent = message;
    list.append(item);
  }
  formError.replaceChildren(list);
  // On a phone the message sits above the fold, far from the Generate button.
  formError.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function detailOf(data) {
  return data && typeof data.detail === "string" && data.detail ? data.detail : "";
}

/** Put a 400's messages next to their fields; anything else goes above the form. */
function showErrors(data) {
  const general = [];
  let first = null;
  const shown = new Map();
  for (const [field, value] of Object.entries(data || {})) {
    const messages = messagesOf(value);
    const controlId = FIELD_CONTROLS[field];
    if (!controlId || !document.getElementById(controlId)) {
      general.push(...messages);
      continue;
    }
    const previous = shown.get(controlId) || [];
    const merged = [...previous, ...messages.filter((message) => !previous.includes(message))];
    shown.set(controlId, merged);
    const control = document.getElementById(controlId);
    control.setAttribute("aria-invalid", "true");
    document.getElementById(`${controlId}-error`).textContent = merged.join(" ");
    if (advanced.contains(control)) advanced.open = true;
    first = first || control;
  }
  if (general.length) showFormError(general);
  if (general.length && !first) formError.focus();
  if (first) first.focus();
}

function readForm() {
  const size = Number(document.getElementById("size").value);
  const body = {
    prompt: prompt.value,
    count: Number(document.getElementById("count").value),
    width: size,
    height: size,
  };
  const steps = document.getElementById("steps").value.trim();
  if (steps !== "") body.steps = Number(steps);
  const seed = document.getElementById("seed").value.trim();
  body.seed = seed === "" ? null : Number(seed);
  body.style = document.getElementById("style").value || null;
  if (editPanel) {
    // An edit draws at its source's size; what changes, and where, come from the edit panel.
    delete body.width;
    delete body.height;
    body.source_image = editPanel.dataset.sourceId;
    body.strength = Number(strength.value);
    const mask = painter.toDataURL();
    if (mask) body.mask = mask;
  }
  return body;
}

// ---- Edit mode (?edit=<image id>) -------------------------------------------------------------

const editPanel = document.getElementById("edit-panel");
const strength = document.getElementById("strength");
let painter = null;

if (editPanel) {
  // [[upper bound, words], …], lowest first: "a little" … "a lot".
  const table = JSON.parse(document.getElementById("strength-words-data").textContent);
  const output = document.getElementById("strength-words");
  const describe = () => {
    const value = Number(strength.value);
    const match = table.find(([bound]) => value <= bound + 1e-9) || table[table.length - 1];
    output.value = match ? match[1] : "";
    strength.setAttribute("aria-valuetext", output.value);
  };
  strength.addEventListener("input", describe);
  describe();
  painter = new MaskPainter({
    canvas: document.getElementById("mask-canvas"),
    brush: document.getElementById("mask-brush"),
    eraser: document.getElementById("mask-eraser"),
    size: document.getElementById("mask-size"),
    clear: document.getElementById("mask-clear"),
    status: document.getElementById("mask-status"),
    strings,
  });
}

// "Keep" on a step of the chain keeps that picture, as a candidate's Keep does.
for (const button of document.querySelectorAll(".chain-keep")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = strings.keeping;
    const url = `${jobsUrl}${encodeURIComponent(button.dataset.job)}/keep/`;
    const result = await requestJSON(url, { method: "POST", body: { image: button.dataset.image } });
    button.textContent = result.ok ? strings.kept : strings.keep;
    button.disabled = result.ok;
    if (!result.ok) showFormError([detailOf(result.data) || strings.keepFailed]);
  });
}

async function submit(event) {
  event.preventDefault();
  if (generate.disabled) return;
  clearErrors();
  const label = generate.textContent;
  generate.disabled = true;
  generate.setAttribute("aria-busy", "true");
  generate.textContent = strings.generating;
  try {
    const result = await requestJSON(jobsUrl, { method: "POST", body: readForm() });
    if (result.ok && result.data) {
      saveSettings();
      writeStored(draftStore, DRAFT_KEY, null); // sent: no longer a draft
      const card = jobs.upsert(result.data);
      jobs.loaded = true;
      jobs.showEmptyState();
      card.root.scrollIntoView({ block: "nearest", behavior: "smooth" });
    } else if (result.status === 0) {
      showFormError([strings.networkError]);
    } else if (result.status === 400 && result.data) {
      showErrors(result.data);
    } else if (result.status === 429) {
      // Over a limit (too many unfinished jobs, a full line): the server's message says which.
      showFormError([detailOf(result.data) || strings.tooMany]);
    } else if (detailOf(result.data)) {
      showFormError([detailOf(result.data)]);
    } else {
      showFormError([format(strings.serverError, { status: result.status })]);
    }
  } finally {
    generate.disabled = false;
    generate.removeAttribute("aria-busy");
    generate.textContent = label;
  }
}

form.addEventListener("submit", submit);
prompt.addEventListener("input", updateCounter);
prompt.addEventListener("input", saveDraft);
for (const type of ["input", "change"]) {
  form.addEventListener(type, (event) => {
    if (REMEMBERED.includes(event.target.id)) saveSettings();
  });
}
advanced.addEventListener("toggle", saveSettings);
prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});
// Editing a field clears its stale error.
form.addEventListener("input", (event) => {
  const control = event.target;
  if (control.getAttribute && control.getAttribute("aria-invalid") === "true") {
    control.removeAttribute("aria-invalid");
    const error = document.getElementById(`${control.id}-error`);
    if (error) error.textContent = "";
  }
});

restoreSettings();
restoreDraft();
updateCounter();
jobs.start();
