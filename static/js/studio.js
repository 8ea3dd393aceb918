// The studio page: the generate form, and the live list of the user's jobs.

import { format, messagesOf, requestJSON } from "./api.js";
import { JobList } from "./jobs.js";

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

// API field name → the control that shows its error.
const FIELD_CONTROLS = {
  prompt: "prompt",
  count: "count",
  width: "size",
  height: "size",
  steps: "steps",
  seed: "seed",
  style: "style",
};

const jobs = new JobList({
  list: document.getElementById("jobs"),
  empty: document.getElementById("jobs-empty"),
  loading: document.getElementById("jobs-loading"),
  connection: document.getElementById("connection"),
  jobsUrl,
  strings,
});

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
    if (!controlId) {
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
  return body;
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

updateCounter();
jobs.start();
