// The editor's state: a list of layers (list order is stacking order, last in front) and an
// undo history of earlier lists. Units are the server's (gallery/compositing.py): x, y are the
// character's centre as shares of the background's width and height, scale its height as a
// share of the background's height. Nothing here touches the DOM.

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 2;
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
  constructor(layers = []) {
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

  add(character) {
    this.remember();
    const layer = withUid({ character: String(character.id), x: 0.5, y: 0.5, scale: character.default_scale, flip: false });
    layer.scale = clamp(layer.scale || 0.4, MIN_SCALE, MAX_SCALE);
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
    layer.scale = clamp(scale, MIN_SCALE, MAX_SCALE);
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
 * Where a layer's box sits on the stage, in percent of the stage's width and height: centred on
 * (x, y), scale × the background's height tall, as wide as the cut-out's aspect ratio makes it.
 */
export function layerBox(layer, character, background) {
  const height = layer.scale;
  const width = (layer.scale * background.height * character.width) / character.height / background.width;
  return {
    left: (layer.x - width / 2) * 100,
    top: (layer.y - height / 2) * 100,
    width: width * 100,
    height: height * 100,
  };
}
