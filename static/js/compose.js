// The compose page: put characters on a kept background, then save it as a creation.
// The preview uses the server's arithmetic (see compose-layers.js), so what you see is what
// the server renders.

import { format, messagesOf, requestJSON } from "./api.js";
import { LayerStack, layerBox, layerRect } from "./compose-layers.js";

const strings = JSON.parse(document.getElementById("composer-strings").textContent);
const composer = document.getElementById("composer");
const stage = document.getElementById("stage");
const handle = document.getElementById("scale-handle");
const tray = document.getElementById("tray");
const trayStatus = document.getElementById("tray-status");
const form = document.getElementById("composer-form");
const errorBox = document.getElementById("composer-error");
const saveButton = document.getElementById("save");
const buttons = {
  flip: document.getElementById("flip"),
  forward: document.getElementById("forward"),
  backward: document.getElementById("backward"),
  remove: document.getElementById("delete-layer"),
  undo: document.getElementById("undo"),
};

const background = { width: Number(composer.dataset.width), height: Number(composer.dataset.height) };
// Set here, not in a style attribute: the Content-Security-Policy allows no inline styles.
stage.style.setProperty("--ratio", `${background.width} / ${background.height}`);
const creationId = composer.dataset.creationId || "";
const layersScript = document.getElementById("composer-layers");
const limits = JSON.parse(document.getElementById("composer-limits").textContent);
const stack = new LayerStack(layersScript ? JSON.parse(layersScript.textContent) || [] : [], limits);
const characters = new Map(); // id → {id, name, image, width, height, default_scale}
const elements = new Map(); // layer uid → <img class="layer">

function announce(message) {
  trayStatus.textContent = message;
}

// ---- Drawing ---------------------------------------------------------------------------

function layerElement(layer, character) {
  let img = elements.get(layer.uid);
  if (!img) {
    img = document.createElement("img");
    img.className = "layer";
    img.src = character.image;
    img.alt = character.name;
    img.draggable = false;
    img.tabIndex = 0;
    img.dataset.uid = String(layer.uid);
    img.addEventListener("pointerdown", startDrag);
    img.addEventListener("wheel", wheelScale, { passive: false });
    img.addEventListener("focus", () => select(layer.uid));
    elements.set(layer.uid, img);
    stage.append(img);
  }
  img.dataset.characterId = layer.character;
  return img;
}

function render() {
  const alive = new Set();
  stack.layers.forEach((layer, index) => {
    const character = characters.get(layer.character);
    if (!character) return; // characters not loaded yet, or retired
    alive.add(layer.uid);
    const img = layerElement(layer, character);
    const box = layerBox(layer, character, background);
    img.style.left = `${box.left}%`;
    img.style.top = `${box.top}%`;
    img.style.width = `${box.width}%`;
    img.style.height = `${box.height}%`;
    img.style.zIndex = String(index + 1);
    img.style.transform = layer.flip ? "scaleX(-1)" : "";
    img.dataset.flip = String(layer.flip);
    img.classList.toggle("is-selected", layer.uid === stack.selected);
  });
  for (const [uid, img] of elements) {
    if (!alive.has(uid)) {
      img.remove();
      elements.delete(uid);
    }
  }
  const current = stack.current;
  const box = current && characters.has(current.character) ? layerBox(current, characters.get(current.character), background) : null;
  handle.hidden = !box;
  if (box) {
    handle.style.left = `${box.left + box.width}%`;
    handle.style.top = `${box.top + box.height}%`;
  }
  const index = current ? stack.layers.indexOf(current) : -1;
  buttons.flip.disabled = !current;
  buttons.remove.disabled = !current;
  buttons.forward.disabled = !current || index === stack.layers.length - 1;
  buttons.backward.disabled = !current || index === 0;
  buttons.undo.disabled = stack.history.length === 0;
}

function select(uid) {
  if (stack.selected === uid) return;
  stack.selected = uid;
  render();
}

// ---- Pointer: drag to move, pinch or corner handle to scale, wheel to scale -------------

const pointers = new Map(); // pointerId → {x, y}
let gesture = null;

function stagePoint(event) {
  const rect = stage.getBoundingClientRect();
  return { x: (event.clientX - rect.left) / rect.width, y: (event.clientY - rect.top) / rect.height, rect };
}

function pinchDistance() {
  const [a, b] = [...pointers.values()];
  return Math.hypot(a.x - b.x, a.y - b.y) || 1;
}

function startDrag(event) {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  const img = event.currentTarget;
  const layer = stack.find(Number(img.dataset.uid));
  if (!layer) return;
  event.preventDefault();
  img.focus({ preventScroll: true });
  select(layer.uid);
  img.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  if (!gesture) {
    stack.remember();
    gesture = { layer, moved: false };
  }
  const start = stagePoint(event);
  gesture.mode = pointers.size >= 2 ? "pinch" : "move";
  gesture.start = start;
  gesture.origin = { x: layer.x, y: layer.y, scale: layer.scale };
  if (gesture.mode === "pinch") gesture.distance = pinchDistance();
}

function startHandle(event) {
  const layer = stack.current;
  if (!layer) return;
  event.preventDefault();
  event.stopPropagation();
  handle.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  stack.remember();
  const start = stagePoint(event);
  const dx = (start.x - layer.x) * start.rect.width;
  const dy = (start.y - layer.y) * start.rect.height;
  gesture = { layer, moved: false, mode: "handle", origin: { scale: layer.scale }, distance: Math.hypot(dx, dy) || 1 };
}

function moveGesture(event) {
  if (!gesture || !pointers.has(event.pointerId)) return;
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  const { layer, origin } = gesture;
  const point = stagePoint(event);
  if (gesture.mode === "move") {
    stack.moveTo(layer, origin.x + point.x - gesture.start.x, origin.y + point.y - gesture.start.y);
  } else if (gesture.mode === "pinch" && pointers.size >= 2) {
    stack.scaleTo(layer, (origin.scale * pinchDistance()) / gesture.distance);
  } else if (gesture.mode === "handle") {
    const dx = (point.x - layer.x) * point.rect.width;
    const dy = (point.y - layer.y) * point.rect.height;
    stack.scaleTo(layer, (origin.scale * Math.hypot(dx, dy)) / gesture.distance);
  }
  gesture.moved = true;
  render();
}

function endGesture(event) {
  if (!pointers.delete(event.pointerId) || !gesture) return;
  if (pointers.size > 0 && gesture.mode === "pinch") {
    // One finger lifted: carry on as a move with the finger that stayed.
    const [rest] = pointers.values();
    gesture.mode = "move";
    gesture.start = stagePoint({ clientX: rest.x, clientY: rest.y });
    gesture.origin = { x: gesture.layer.x, y: gesture.layer.y, scale: gesture.layer.scale };
    return;
  }
  if (pointers.size > 0) return;
  if (!gesture.moved) stack.forget();
  gesture = null;
  render();
}

function wheelScale(event) {
  const layer = stack.find(Number(event.currentTarget.dataset.uid));
  if (!layer) return;
  event.preventDefault();
  select(layer.uid);
  stack.remember("wheel");
  stack.scaleTo(layer, layer.scale * Math.exp(-event.deltaY * 0.0015));
  render();
}

handle.addEventListener("pointerdown", startHandle);
// Pointer capture sends the moves to the captured layer or handle; both sit inside the stage.
stage.addEventListener("pointermove", moveGesture);
stage.addEventListener("pointerup", endGesture);
stage.addEventListener("pointercancel", endGesture);
stage.addEventListener("pointerdown", (event) => {
  if (event.target === stage || event.target.classList.contains("composer-background")) select(null);
});

// ---- Toolbar and keyboard -----------------------------------------------------------------

function focusSelected() {
  const img = elements.get(stack.selected);
  if (img) img.focus({ preventScroll: true });
}

const actions = {
  flip() {
    stack.flip(stack.selected);
  },
  forward() {
    stack.restack(stack.selected, 1);
  },
  backward() {
    stack.restack(stack.selected, -1);
  },
  remove() {
    const removed = stack.remove(stack.selected);
    if (removed) announce(format(strings.removed, { name: characters.get(removed.character)?.name || "" }));
  },
  undo() {
    if (stack.undo()) announce(strings.undone);
  },
};

for (const [name, button] of Object.entries(buttons)) {
  button.addEventListener("click", () => {
    actions[name]();
    render();
    // Keep focus on a live control: a button that just turned disabled drops it.
    if (button.disabled) {
      if (stack.selected) focusSelected();
      else if (!buttons.undo.disabled) buttons.undo.focus();
      else stage.focus();
    }
  });
}

const NUDGE = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

stage.addEventListener("keydown", (event) => {
  const layer = stack.current;
  if (!layer || !event.target.classList.contains("layer")) return;
  if (event.key in NUDGE) {
    event.preventDefault();
    const step = event.shiftKey ? 0.05 : 0.01;
    const [dx, dy] = NUDGE[event.key];
    stack.remember("nudge");
    stack.moveTo(layer, layer.x + dx * step, layer.y + dy * step);
    render();
  } else if (event.key === "Delete" || event.key === "Backspace") {
    event.preventDefault();
    actions.remove();
    render();
    if (stack.selected) focusSelected();
    else stage.focus();
  } else if (event.key === "+" || event.key === "=" || event.key === "-") {
    event.preventDefault();
    stack.remember("key-scale");
    stack.scaleTo(layer, layer.scale * (event.key === "-" ? 1 / 1.05 : 1.05));
    render();
  }
});

document.addEventListener("keydown", (event) => {
  if (!(event.ctrlKey || event.metaKey) || event.shiftKey || event.key.toLowerCase() !== "z") return;
  if (event.target.closest("input, textarea, select")) return; // their own undo
  event.preventDefault();
  actions.undo();
  render();
  if (stack.selected) focusSelected();
});

// ---- Characters tray ------------------------------------------------------------------------

/** The boxes of the characters on the picture, for placing a new one clear of them. */
function placedBoxes() {
  return stack.layers
    .filter((layer) => characters.has(layer.character))
    .map((layer) => layerRect(layer, characters.get(layer.character), background));
}

function choiceButton(character) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "character-choice";
  button.dataset.characterId = String(character.id);
  button.setAttribute("aria-label", format(strings.add, { name: character.name }));
  // A long name may end in an ellipsis on a narrow screen (compose.css): the whole of it is here.
  button.title = character.name;
  const img = document.createElement("img");
  img.src = character.image;
  img.alt = "";
  img.width = character.width;
  img.height = character.height;
  img.loading = "lazy";
  const name = document.createElement("span");
  name.className = "character-name";
  name.textContent = character.name;
  button.append(img, name);
  button.addEventListener("click", () => {
    // The server refuses a picture over its layer limit: say so now, not at saving time.
    if (!stack.add(character, { background, boxes: placedBoxes() })) {
      announce(strings.tooManyLayers);
      return;
    }
    render();
    announce(format(strings.added, { name: character.name }));
  });
  const item = document.createElement("li");
  item.append(button);
  return item;
}

async function loadCharacters() {
  const { ok, data } = await requestJSON(composer.dataset.charactersUrl);
  if (!ok || !Array.isArray(data)) {
    trayStatus.textContent = strings.charactersFailed;
    return;
  }
  for (const character of data) characters.set(String(character.id), { ...character, id: String(character.id) });
  tray.replaceChildren(...data.map((character) => choiceButton(characters.get(String(character.id)))));
  trayStatus.textContent = data.length ? "" : strings.noCharacters;
  render();
}

// ---- Saving ---------------------------------------------------------------------------------

function showError(messages) {
  const list = document.createElement("ul");
  for (const message of messages) {
    const item = document.createElement("li");
    item.textContent = message;
    list.append(item);
  }
  errorBox.replaceChildren(list);
  errorBox.focus({ preventScroll: true });
  errorBox.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.replaceChildren();
  const body = {
    layers: stack.toJSON(),
    title: document.getElementById("title").value.trim(),
    visibility: document.getElementById("visibility").value,
  };
  saveButton.disabled = true;
  saveButton.textContent = strings.saving;
  const { ok, status, data } = creationId
    ? await requestJSON(`${composer.dataset.creationsUrl}${creationId}/`, { method: "PATCH", body })
    : await requestJSON(composer.dataset.creationsUrl, {
        method: "POST",
        body: { ...body, background: composer.dataset.backgroundId },
      });
  if (ok && data && data.id) {
    window.location.assign(`/c/${encodeURIComponent(data.id)}/`);
    return;
  }
  saveButton.disabled = false;
  saveButton.textContent = strings.save;
  if (status === 0) showError([strings.networkError]);
  else if (status === 401 || status === 403) showError([strings.signedOut]);
  // 400 bad layers, 409 a full account, 429 too fast, 503 busy: the server says which.
  else if ([400, 409, 429, 503].includes(status) && data) showError(messagesOf(data));
  else showError([format(strings.serverError, { status })]);
});

loadCharacters();
render();
