// The live preview of a running job: the newest small picture from job.preview, cross-faded in.
// The previous frame stays behind as the box's background while the new one fades in over it.

import { format } from "./api.js";

const TINY_PX = 96; // a preview smaller than this is scaled up with hard pixels instead of a blur
const DATA_IMAGE = /^data:image\/(?:png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$/;

export class JobPreview {
  /** @param {(node: Element) => void} mount puts the preview box in its card, at the first picture */
  constructor(strings, mount) {
    this.strings = strings;
    this.mount = mount;
    this.step = -1;
    this.token = 0; // the newest frame being decoded; an older one that finishes later is dropped
    this.closed = false;
    this.root = document.createElement("div");
    this.root.className = "job-preview";
    this.img = document.createElement("img");
    this.img.className = "preview";
    this.img.alt = "";
    this.img.decoding = "sync";
    this.root.append(this.img);
  }

  /** Show a job.preview message's picture (ignored once closed, or if older than the one shown). */
  async show({ image, step, width, height }) {
    const stepNumber = Number(step) || 0;
    if (this.closed || typeof image !== "string" || !DATA_IMAGE.test(image) || stepNumber < this.step) return;
    this.step = stepNumber;
    const token = ++this.token;
    const next = new Image();
    next.src = image;
    try {
      await next.decode();
    } catch (error) {
      return;
    }
    if (this.closed || token !== this.token) return;

    const w = next.naturalWidth || Number(width);
    const h = next.naturalHeight || Number(height);
    if (w > 0 && h > 0) this.root.style.aspectRatio = `${w} / ${h}`;
    this.root.classList.toggle("is-tiny", Math.max(w, h) < TINY_PX);
    const previous = this.img.getAttribute("src");
    this.root.style.backgroundImage = previous ? `url("${previous}")` : "";
    if (!this.root.isConnected) this.mount(this.root);
    this.img.classList.add("is-swapping"); // opacity 0 with no transition…
    this.img.src = image;
    this.img.alt = format(this.strings.preview, { step: stepNumber });
    void this.img.offsetWidth;
    this.img.classList.remove("is-swapping"); // …then fade up to 1
  }

  /** The job is over: the final images take its place. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.token += 1;
    this.root.remove();
  }
}
