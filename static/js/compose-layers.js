// The editor's state: a list of layers (list order is stacking order, last in front) and an
// undo history of earlier lists. Units are the server's (gallery/compositing.py): x, y are the
// character's centre as shares of the background's width and height, scale its height as a
// share of the background's height. Nothing here touches the DOM. The scale and layer-count
// limits are the server's, handed in by the page (gallery/ui_strings.py), never typed here.

const HISTORY_LIMIT = 100;
// Repeated small steps of one kind (wheel, arrow keys) inside this window undo together.
const MERGE_MS = 700;

let nextUid = 1;

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function withUid(layer) {
  return { ...layer, uid: layer.uid || nextUid++ };
}

export class LayerStack {
  /**
   * @param {object[]} layers  the saved layer list (the API's shape)
   * @param {{maxLayers: number, minScale: number, maxScale: number}} limits  the server's
   */
  constructor(layers, { maxLayers, minScale, maxScale }) {
    this.maxLayers = maxLayers;
    this.minScale = minScale;
    this.maxScale = maxScale;
    const ordered = layers
      .map((layer, index) => ({ layer, index }))
      .sort((a, b) => (a.layer.z ?? a.index) - (b.layer.z ?? b.index) || a.index - b.index);
    this.layers = ordered.map(({ layer }) =>
      withUid({
        character: String(layer.character),
        x: Number(layer.x),
        y: Number(layer.y),
        scale: Number(layer.scale),
        flip: Boolean(layer.flip),
      }),
    );
    this.history = [];
    this.selected = null; // a uid
    this.lastKind = null;
    this.lastAt = 0;
  }

  /** Save the current list for Undo; `kind` merges bursts of the same small action. */
  remember(kind = null) {
    const now = Date.now();
    if (kind && kind === this.lastKind && now - this.lastAt < MERGE_MS) {
      this.lastAt = now;
      return;
    }
    this.history.push(this.layers.map((layer) => ({ ...layer })));
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    this.lastKind = kind;
    this.lastAt = now;
  }

  /** Drop the last snapshot when the action turned out to change nothing (a click, not a drag). */
  forget() {
    this.history.pop();
    this.lastKind = null;
  }

  undo() {
    const previous = this.history.pop();
    if (!previous) return false;
    this.layers = previous;
    this.lastKind = null;
    if (!this.find(this.selected)) this.selected = this.layers.length ? this.layers.at(-1).uid : null;
    return true;
  }

  find(uid) {
    return this.layers.find((layer) => layer.uid === uid) || null;
  }

  get current() {
    return this.find(this.selected);
  }

  /** False when one more character would pass the server's layer limit. */
  get canAdd() {
    return this.layers.length < this.maxLayers;
  }

  /**
   * Put a character where it covers the least of the others (see freeSpot), not on the centre
   * every time: characters added one after another used to land on top of each other.
   * @param {{background?: {width: number, height: number}, boxes?: object[]}} place  the
   *   background's size and the boxes (layerRect) of the characters already on it
   */
  add(character, { background = null, boxes = [] } = {}) {
    if (!this.canAdd) return null;
    this.remember();
    const scale = clamp(character.default_scale || 0.4, this.minScale, this.maxScale);
    const size = background ? layerRect({ x: 0.5, y: 0.5, scale }, character, background) : null;
    const { x, y } = size ? freeSpot(size, boxes, background) : { x: 0.5, y: 0.5 };
    const spot = { x: clamp(x, 0, 1), y: clamp(y, 0, 1) };
    const layer = withUid({ character: String(character.id), ...spot, scale, flip: false });
    this.layers.push(layer);
    this.selected = layer.uid;
    return layer;
  }

  remove(uid) {
    const index = this.layers.findIndex((layer) => layer.uid === uid);
    if (index < 0) return null;
    this.remember();
    const [removed] = this.layers.splice(index, 1);
    const next = this.layers[Math.min(index, this.layers.length - 1)];
    this.selected = next ? next.uid : null;
    return removed;
  }

  /** Move the layer one step forward (+1) or back (-1) in the stacking order. */
  restack(uid, step) {
    const index = this.layers.findIndex((layer) => layer.uid === uid);
    const target = index + step;
    if (index < 0 || target < 0 || target >= this.layers.length) return false;
    this.remember();
    const [layer] = this.layers.splice(index, 1);
    this.layers.splice(target, 0, layer);
    return true;
  }

  flip(uid) {
    const layer = this.find(uid);
    if (!layer) return;
    this.remember();
    layer.flip = !layer.flip;
  }

  moveTo(layer, x, y) {
    layer.x = clamp(x, 0, 1);
    layer.y = clamp(y, 0, 1);
  }

  scaleTo(layer, scale) {
    layer.scale = clamp(scale, this.minScale, this.maxScale);
  }

  /** What the API takes: z is the stacking order. */
  toJSON() {
    return this.layers.map((layer, index) => ({
      character: layer.character,
      x: Math.round(layer.x * 10000) / 10000,
      y: Math.round(layer.y * 10000) / 10000,
      scale: Math.round(layer.scale * 10000) / 10000,
      flip: layer.flip,
      z: index,
    }));
  }
}

/**
 * Where a layer's box sits, as shares of the background's width and height: centred on (x, y),
 * scale × the background's height tall, as wide as the cut-out's aspect ratio makes it.
 */
export function layerRect(layer, character, background) {
  const height = layer.scale;
  const width = (layer.scale * background.height * character.width) / character.height / background.width;
  return { left: layer.x - width / 2, top: layer.y - height / 2, width, height };
}

/** The same box in percent of the stage, for CSS. */
export function layerBox(layer, character, background) {
  const rect = layerRect(layer, character, background);
  return { left: rect.left * 100, top: rect.top * 100, width: rect.width * 100, height: rect.height * 100 };
}

// Candidate centres per axis; odd, so the middle of the picture is one of them.
const GRID = 25;
// Scores closer than this count as equal, so the tie-breaks below decide, not rounding noise.
const EPSILON = 1e-6;

function centres(size, length) {
  if (size >= length) return [length / 2];
  const low = size / 2;
  const step = (length - size) / (GRID - 1);
  return Array.from({ length: GRID }, (_, index) => low + index * step);
}

function span(lowA, highA, lowB, highB) {
  return Math.min(highA, highB) - Math.max(lowA, lowB);
}

/**
 * The centre (x, y, shares of the background) for a new box of `size` ({width, height}, shares)
 * among `boxes` (layerRects): the spot that hides the least of the others and, among
 * equals, lies farthest from them and from the picture's edges, that is, in the middle of the
 * largest free area. Then the one nearest the middle, then the one to the right (the next one
 * along, in reading order), then the lower (nearer the ground). The box stays inside the
 * picture whenever it fits, so the centre always stays within the server's 0–1 bounds.
 */
export function freeSpot(size, boxes, background) {
  // Work in units of the background's height, so that a distance means the same on both axes.
  const aspect = background.width / background.height;
  const width = size.width * aspect;
  const height = size.height;
  const others = boxes.map((box) => ({
    left: box.left * aspect,
    right: (box.left + box.width) * aspect,
    top: box.top,
    bottom: box.top + box.height,
    area: box.width * aspect * box.height,
  }));
  let best = null;
  for (const x of centres(width, aspect)) {
    for (const y of centres(height, 1)) {
      const left = x - width / 2;
      const top = y - height / 2;
      const right = left + width;
      const bottom = top + height;
      let covered = 0;
      let clearance = Math.min(left, aspect - right, top, 1 - bottom);
      for (const other of others) {
        const across = span(left, right, other.left, other.right);
        const down = span(top, bottom, other.top, other.bottom);
        if (across > 0 && down > 0) {
          // A share of the smaller of the two, squared: hiding one character whole is worse than
          // overlapping two by half each, so a new one never lands square on an earlier one.
          covered += ((across * down) / Math.max(Math.min(width * height, other.area), EPSILON)) ** 2;
          clearance = Math.min(clearance, 0);
        } else {
          clearance = Math.min(clearance, Math.hypot(Math.max(0, -across), Math.max(0, -down)));
        }
      }
      const candidate = { x, y, covered, clearance, offCentre: Math.hypot(x - aspect / 2, y - 0.5) };
      if (!best || better(candidate, best)) best = candidate;
    }
  }
  return { x: best.x / aspect, y: best.y };
}

function better(a, b) {
  if (Math.abs(a.covered - b.covered) > EPSILON) return a.covered < b.covered;
  if (Math.abs(a.clearance - b.clearance) > EPSILON) return a.clearance > b.clearance;
  if (Math.abs(a.offCentre - b.offCentre) > EPSILON) return a.offCentre < b.offCentre;
  if (Math.abs(a.x - b.x) > EPSILON) return a.x > b.x;
  return a.y > b.y;
}
