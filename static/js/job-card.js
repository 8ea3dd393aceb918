// One job's card in the studio: built from an API job object, then updated by events.
// Rules: progress never moves backwards, and a final status is sticky.
// User text only ever goes through textContent.
// What a card learns from the wire is read in one place, jobUpdate() below.

import { format } from "./api.js";
import { JobPreview } from "./job-preview.js";
import { QueueLine } from "./queue-eta.js";

export const FINAL = new Set(["succeeded", "failed", "cancelled"]);
// Statuses only move forward: queued → running → a final one.
const RANK = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function clamp01(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  return Math.min(1, Math.max(0, number));
}

function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const lang = document.documentElement.lang || undefined;
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })
    : date.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The one mapping from the wire to a card: the partial state JobCard.update() takes, from an API
 * job (/api/v1/jobs/, generation/api.py's JobOutputSerializer) or a websocket job event
 * (generation/events.py; schema at /api/v1/events/schema.json). It reads only fields those send
 * (tests/browser/test_job_wire_format.py runs it on a real server's API jobs and messages).
 * @returns {object|null}  null for a message that says nothing about one card (job.queue, error…)
 */
export function jobUpdate(source) {
  const type = "type" in source ? source.type : "api";
  switch (type) {
    case "api":
    case "job.snapshot": {
      // Both are a job's full state; the API names the step count "steps" and sends no step.
      const api = type === "api";
      const total = api ? source.steps : source.total;
      return {
        status: source.status,
        progress: source.progress,
        step: api ? Math.round(clamp01(source.progress) * (Number(total) || 0)) : source.step,
        total,
        error: source.error,
        images: source.images,
        position: source.position,
        eta: source.eta_seconds,
        cancelRequested: source.cancel_requested,
      };
    }
    case "job.progress":
      return { status: "running", progress: source.progress, step: source.step, total: source.total };
    case "job.preview": // its picture goes to JobCard.showPreview()
      return { status: "running" };
    case "job.finished":
      return {
        status: source.status,
        progress: source.status === "succeeded" ? 1 : undefined,
        error: source.error,
        images: source.images,
      };
    default:
      return null;
  }
}

export class JobCard {
  /**
   * @param {object} job  a job object from the API
   * @param {{strings: object, onKeep: Function, onCancel: Function}} options
   *   onKeep(jobId, imageId) and onCancel(jobId) resolve to {ok, status, data} like requestJSON.
   */
  constructor(job, { strings, onKeep, onCancel }) {
    this.id = String(job.id);
    this.strings = strings;
    this.onKeep = onKeep;
    this.onCancel = onCancel;
    this.createdAt = job.created_at || "";
    this.status = "queued";
    this.progress = 0;
    this.step = 0;
    this.total = Number(job.steps) || 0;
    this.error = "";
    this.images = [];
    this.cancelRequested = false; // the server has the request; the job stops within a step
    this.cancelling = false; // our POST is on its way
    this.cancelError = "";
    this.build(job);
    this.update(jobUpdate(job));
  }

  get isFinal() {
    return FINAL.has(this.status);
  }

  /** True when the job succeeded but we have not been told its images yet. */
  get needsImages() {
    return this.status === "succeeded" && this.images.length === 0;
  }

  build(job) {
    const s = this.strings;
    const root = el("li", "job-card");
    root.dataset.jobId = this.id;
    root.tabIndex = -1; // focus lands here when the focused Cancel button goes away
    this.root = root;

    const head = el("div", "job-head");
    this.promptEl = el("p", "job-prompt", job.prompt || "");
    this.statusEl = el("span", "job-status");
    head.append(this.promptEl, this.statusEl);

    const meta = [];
    meta.push(job.style_name || s.styleNone);
    if (job.width && job.height) meta.push(`${job.width} × ${job.height}`);
    if (job.seed !== null && job.seed !== undefined) meta.push(format(s.seed, { seed: job.seed }));
    const time = job.created_at ? formatTime(job.created_at) : "";
    const metaEl = el("p", "job-meta", meta.join(" · "));
    if (time) {
      const timeEl = el("time", "job-time", time);
      timeEl.dateTime = job.created_at;
      metaEl.append(" · ", timeEl);
    }

    const progressRow = el("div", "job-progress");
    this.barEl = el("div", "progress");
    this.barEl.setAttribute("role", "progressbar");
    this.barEl.setAttribute("aria-valuemin", "0");
    this.barEl.setAttribute("aria-valuemax", "100");
    this.barEl.setAttribute("aria-label", s.progress);
    this.fillEl = el("div", "progress-fill");
    this.barEl.append(this.fillEl);
    this.stepEl = el("span", "job-step");
    this.cancelEl = el("button", "cancel button button-small button-quiet", s.cancel);
    this.cancelEl.type = "button";
    this.promptEl.id = `job-${this.id}-prompt`;
    this.cancelEl.setAttribute("aria-describedby", this.promptEl.id);
    this.cancelEl.addEventListener("click", () => this.cancel());
    progressRow.append(this.barEl, this.stepEl, this.cancelEl);

    this.queue = new QueueLine(s);
    this.cancelErrorEl = el("p", "cancel-error");
    this.cancelErrorEl.setAttribute("role", "alert");
    this.cancelErrorEl.hidden = true;
    // The preview box joins the card with its first picture, and leaves with the final images.
    this.preview = new JobPreview(s, (node) => this.cancelErrorEl.after(node));

    this.errorEl = el("p", "job-error");
    this.errorEl.setAttribute("role", "alert");
    this.errorEl.hidden = true;

    this.gridEl = el("ul", "candidates");
    this.gridEl.hidden = true;

    root.append(head, metaEl, progressRow, this.queue.el, this.cancelErrorEl, this.errorEl, this.gridEl);
  }

  /** Apply a partial state (from the API or an event) and redraw. */
  update({ status, progress, step, total, error, images, position, eta, cancelRequested } = {}) {
    // A late snapshot or a stale API read never moves a card back, and a final status sticks:
    // after it, only the images and the error can still arrive.
    const wasFinal = this.isFinal;
    if (status in RANK && !wasFinal && RANK[status] >= RANK[this.status]) this.status = status;
    if (!wasFinal) {
      if (Number(total) > 0) this.total = Number(total);
      if (progress !== undefined && progress !== null) this.progress = Math.max(this.progress, clamp01(progress));
      if (step !== undefined && step !== null && Number.isFinite(Number(step))) {
        this.step = Math.max(this.step, Number(step));
      }
    }
    if (this.status === "succeeded") {
      this.progress = 1;
      this.step = Math.max(this.step, this.total);
    }
    if (this.total > 0) this.step = Math.min(this.step, this.total);
    if (typeof error === "string" && error && this.status !== "succeeded") this.error = error;
    if (Array.isArray(images) && images.length) this.mergeImages(images);
    if (cancelRequested === true) this.cancelRequested = true;
    this.queue.set({ position, eta });
    this.render();
  }

  mergeImages(images) {
    const known = new Map(this.images.map((image) => [String(image.id), image]));
    for (const image of images) {
      const id = String(image.id);
      const old = known.get(id);
      if (old) {
        old.kept = Boolean(old.kept || image.kept);
        if (!old.url && image.url) old.url = image.url;
      } else {
        const fresh = { id, url: image.url, seed: image.seed, kept: Boolean(image.kept) };
        this.images.push(fresh);
        known.set(id, fresh);
      }
    }
  }

  render() {
    const s = this.strings;
    this.root.dataset.status = this.status;
    this.root.className = `job-card job-${this.status}`;
    this.statusEl.textContent = s[this.status] || this.status;
    this.statusEl.className = `job-status status-${this.status}`;

    const percent = Math.round(this.progress * 100);
    this.fillEl.style.width = `${percent}%`;
    this.barEl.setAttribute("aria-valuenow", String(percent));
    this.barEl.setAttribute("aria-valuetext", `${percent}%`);
    this.stepEl.textContent = format(s.step, { step: this.step, total: this.total || "?" });

    // A cancelled job is not an error: it says "Cancelled" and nothing in red.
    const failed = this.status === "failed";
    this.errorEl.hidden = !failed;
    this.errorEl.textContent = failed ? this.error || s.unknownError : "";

    this.queue.show(this.status === "queued");
    if (this.isFinal && !this.needsImages) this.preview.close();
    this.renderCancel();
    if (this.status === "succeeded") this.renderImages();
  }

  renderCancel() {
    const s = this.strings;
    const hadFocus = document.activeElement === this.cancelEl;
    const waiting = !this.isFinal && (this.cancelling || this.cancelRequested);
    this.cancelEl.hidden = this.isFinal;
    this.cancelEl.disabled = waiting;
    this.cancelEl.textContent = waiting ? s.cancelling : s.cancel;
    this.root.classList.toggle("is-cancelling", waiting);
    // A refused cancel (409: it finished meanwhile) keeps its reason even on the final card.
    this.cancelErrorEl.hidden = !this.cancelError;
    this.cancelErrorEl.textContent = this.cancelError;
    // A disabled or hidden button drops focus to the page; keep keyboard users in their card.
    if (hadFocus && (this.cancelEl.hidden || this.cancelEl.disabled)) this.root.focus({ preventScroll: true });
  }

  /** Show a job.preview message's picture while the job runs. */
  showPreview(message) {
    if (!this.isFinal) this.preview.show(message);
  }

  async cancel() {
    const s = this.strings;
    if (this.isFinal || this.cancelling || this.cancelRequested) return;
    this.cancelling = true;
    this.cancelError = "";
    this.renderCancel();
    const result = await this.onCancel(this.id);
    this.cancelling = false;
    if (!result.ok) {
      const detail = result.data && result.data.detail;
      if (result.status === 0) this.cancelError = s.networkError;
      else this.cancelError = detail ? String(detail) : format(s.cancelFailed, { status: result.status });
    }
    this.renderCancel();
  }

  renderImages() {
    this.gridEl.hidden = this.images.length === 0;
    this.gridEl.dataset.count = String(this.images.length);
    const existing = new Map(
      Array.from(this.gridEl.children).map((item) => [item.dataset.imageId, item]),
    );
    this.images.forEach((image, index) => {
      let item = existing.get(image.id);
      if (!item) {
        item = this.buildImage(image, index);
        this.gridEl.append(item);
      }
      if (image.kept) this.showKept(item, image.galleryUrl);
    });
  }

  buildImage(image, index) {
    const s = this.strings;
    const item = el("li", "candidate-item");
    item.dataset.imageId = image.id;
    const link = el("a", "candidate-link");
    link.href = image.url;
    link.target = "_blank";
    link.rel = "noopener";
    const img = el("img", "candidate");
    img.src = image.url;
    img.alt = format(s.candidate, { n: index + 1, prompt: this.promptEl.textContent, seed: image.seed });
    img.dataset.seed = String(image.seed);
    link.append(img);

    const foot = el("div", "candidate-foot");
    const seed = el("span", "candidate-seed", format(s.seed, { seed: image.seed }));
    const keep = el("button", "keep button button-small", s.keep);
    keep.type = "button";
    keep.addEventListener("click", () => this.keep(image, item, keep));
    foot.append(seed, keep);
    if (s.studioUrl) {
      // Edit opens the studio with this picture as the source of the next job.
      const edit = el("a", "edit-link button button-small button-secondary", s.edit);
      edit.href = `${s.studioUrl}?edit=${encodeURIComponent(image.id)}`;
      edit.setAttribute("aria-label", format(s.editLabel, { n: index + 1 }));
      foot.append(edit);
    }

    const keepError = el("p", "keep-error");
    keepError.setAttribute("role", "alert");
    keepError.hidden = true;
    item.append(link, foot, keepError);
    return item;
  }

  async keep(image, item, button) {
    const s = this.strings;
    const keepError = item.querySelector(".keep-error");
    keepError.hidden = true;
    button.disabled = true;
    button.textContent = s.keeping;
    const result = await this.onKeep(this.id, image.id);
    if (result.ok) {
      image.kept = true;
      image.galleryUrl = result.data && result.data.gallery_url;
      this.showKept(item, image.galleryUrl);
      return;
    }
    button.disabled = false;
    button.textContent = s.keep;
    const detail = result.data && (result.data.detail || (result.data.image && result.data.image[0]));
    keepError.textContent = result.status === 0 ? s.networkError : detail || s.keepFailed;
    keepError.hidden = false;
  }

  showKept(item, galleryUrl) {
    const s = this.strings;
    const button = item.querySelector(".keep");
    button.disabled = true;
    button.textContent = s.kept;
    button.classList.add("is-kept");
    item.classList.add("is-kept");
    if (!item.querySelector(".kept-link")) {
      const link = el("a", "kept-link", s.viewGallery);
      link.href = galleryUrl || s.galleryUrl;
      item.querySelector(".candidate-foot").append(link);
    }
  }
}
