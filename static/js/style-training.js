// The "train a style" admin page: polls the run's progress and draws its loss as a small plot.

const page = JSON.parse(document.getElementById("training-page").textContent);
const ACTIVE = new Set(["queued", "running"]);

function fill(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}

function plot(losses) {
  const line = document.getElementById("training-line");
  if (!losses.length) {
    line.setAttribute("points", "");
    return;
  }
  const low = Math.min(...losses);
  const high = Math.max(...losses);
  const span = high - low || 1;
  const last = Math.max(losses.length - 1, 1);
  const points = losses.map((loss, index) => {
    const x = (index / last) * 396 + 2;
    const y = 118 - ((loss - low) / span) * 116;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  line.setAttribute("points", points.join(" "));
}

function show(state) {
  document.getElementById("training-status").textContent = state.status_label;
  document.getElementById("training-step").textContent = fill(page.strings.step, state);
  document.getElementById("training-loss").textContent =
    state.last_loss === null ? page.strings.noLoss : fill(page.strings.loss, { loss: state.last_loss.toFixed(4) });
  document.getElementById("training-progress").value = state.progress;
  plot(state.losses);
  const error = document.getElementById("training-error");
  error.hidden = !state.error;
  error.textContent = state.error;
  const cancel = document.getElementById("training-cancel-form");
  if (cancel) cancel.hidden = !ACTIVE.has(state.status) || state.cancel_requested;
  if (state.style_id) {
    const link = document.getElementById("training-result-link");
    link.href = link.dataset.urlTemplate.replace("STYLE_ID", state.style_id);
    document.getElementById("training-result").hidden = false;
  }
  return ACTIVE.has(state.status);
}

async function poll() {
  try {
    const response = await fetch(page.progressUrl, { headers: { Accept: "application/json" } });
    if (response.ok && !show(await response.json())) return;
  } catch {
    // A dropped request: the next one tells the truth.
  }
  setTimeout(poll, 1000);
}

if (show(page.initial)) setTimeout(poll, 1000);
