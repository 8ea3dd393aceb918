// The mask painter: brush and eraser on a canvas laid over the picture to edit. Pointer events
// serve mouse, pen and touch alike; the keyboard moves a brush cursor (arrows), paints (Space),
// switches tools (B, E) and sizes the brush ([ and ]). White = change.

// A colour that shows on any picture (pale paint vanished on light skies and noise).
const PAINT = "#ff2d8a";
const STEP = 0.04; // an arrow key moves the cursor 4% of the picture

export class MaskPainter {
  /**
   * @param {{canvas: HTMLCanvasElement, brush: HTMLElement, eraser: HTMLElement,
   *   size: HTMLInputElement, clear: HTMLElement, status: HTMLElement, strings: object,
   *   onChange?: Function}} parts
   */
  constructor({ canvas, brush, eraser, size, clear, status, strings, onChange }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.brushButton = brush;
    this.eraserButton = eraser;
    this.sizeInput = size;
    this.status = status;
    this.strings = strings;
    this.onChange = onChange || (() => {});
    this.tool = "brush";
    this.painted = false;
    this.drawing = false;
    this.last = null;
    this.cursor = { x: 0.5, y: 0.5 };

    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
      canvas.addEventListener(type, () => this.up());
    }
    canvas.addEventListener("keydown", (event) => this.key(event));
    brush.addEventListener("click", () => this.use("brush"));
    eraser.addEventListener("click", () => this.use("eraser"));
    clear.addEventListener("click", () => this.clear());
  }

  /** Brush radius in canvas pixels: the slider is a percentage of the picture's shorter side / 2. */
  radius() {
    return (Number(this.sizeInput.value) / 100) * Math.min(this.canvas.width, this.canvas.height) * 0.5;
  }

  use(tool) {
    this.tool = tool;
    this.brushButton.setAttribute("aria-pressed", String(tool === "brush"));
    this.eraserButton.setAttribute("aria-pressed", String(tool === "eraser"));
    this.brushButton.classList.toggle("button-secondary", tool !== "brush");
    this.eraserButton.classList.toggle("button-secondary", tool !== "eraser");
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.canvas.width,
      y: ((event.clientY - box.top) / box.height) * this.canvas.height,
    };
  }

  down(event) {
    event.preventDefault();
    this.canvas.setPointerCapture?.(event.pointerId);
    this.drawing = true;
    this.last = this.point(event);
    this.stroke(this.last, this.last);
  }

  move(event) {
    if (!this.drawing) return;
    event.preventDefault();
    const next = this.point(event);
    this.stroke(this.last, next);
    this.last = next;
  }

  up() {
    if (!this.drawing) return;
    this.drawing = false;
    this.changed();
  }

  stroke(from, to) {
    const ctx = this.ctx;
    ctx.globalCompositeOperation = this.tool === "eraser" ? "destination-out" : "source-over";
    ctx.strokeStyle = ctx.fillStyle = PAINT; // shown over the picture; white in the mask sent
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.lineWidth = this.radius() * 2;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(to.x, to.y, this.radius(), 0, Math.PI * 2);
    ctx.fill();
    if (this.tool === "brush") this.painted = true;
  }

  key(event) {
    const moves = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] };
    if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      this.cursor.x = Math.min(1, Math.max(0, this.cursor.x + dx));
      this.cursor.y = Math.min(1, Math.max(0, this.cursor.y + dy));
      if (event.shiftKey) this.paintAtCursor(); // Shift+arrows paint as they go
    } else if (event.key === " " || event.key === "Enter") {
      this.paintAtCursor();
    } else if (event.key === "b" || event.key === "B") {
      this.use("brush");
    } else if (event.key === "e" || event.key === "E") {
      this.use("eraser");
    } else if (event.key === "[" || event.key === "]") {
      const delta = event.key === "]" ? 2 : -2;
      this.sizeInput.value = String(Number(this.sizeInput.value) + delta);
    } else {
      return;
    }
    event.preventDefault();
    this.announce();
  }

  paintAtCursor() {
    const at = { x: this.cursor.x * this.canvas.width, y: this.cursor.y * this.canvas.height };
    this.stroke(at, at);
    this.changed();
  }

  announce() {
    const tool = this.tool === "eraser" ? this.strings.maskEraser : this.strings.maskBrush;
    const where = this.strings.maskAt
      .replace("{tool}", tool)
      .replace("{x}", String(Math.round(this.cursor.x * 100)))
      .replace("{y}", String(Math.round(this.cursor.y * 100)));
    this.status.textContent = `${where}. ${this.hasPaint() ? this.strings.maskPainted : this.strings.maskEmpty}`;
  }

  clear() {
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.painted = false;
    this.changed();
  }

  changed() {
    this.painted = this.hasPaint();
    this.status.textContent = this.painted ? this.strings.maskPainted : this.strings.maskEmpty;
    this.onChange(this.painted);
  }

  hasPaint() {
    const { data } = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
    for (let index = 3; index < data.length; index += 4) {
      if (data[index] >= 128) return true;
    }
    return false;
  }

  /** The mask as a PNG data URL (white = change, on black), or null when nothing is painted. */
  toDataURL() {
    if (!this.hasPaint()) return null;
    const out = document.createElement("canvas");
    out.width = this.canvas.width;
    out.height = this.canvas.height;
    const ctx = out.getContext("2d");
    ctx.drawImage(this.canvas, 0, 0);
    ctx.globalCompositeOperation = "source-in"; // the painted pixels turn white, edges kept soft
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.globalCompositeOperation = "destination-over"; // and the rest black
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, out.width, out.height);
    return out.toDataURL("image/png");
  }
}
