// The studio's job list: cards keyed by job id, fed by the API (the truth) and the websocket.

import { requestJSON } from "./api.js";
import { JobCard, jobUpdate } from "./job-card.js";
import { LiveSocket } from "./live.js";

const RECENT_JOBS = 10;
const WATCH_EVERY_MS = 5000;
const QUIET_AFTER_MS = 15000; // an unfinished card with no news this long is re-read from the API

export class JobList {
  constructor({ list, empty, loading, connection, jobsUrl, strings }) {
    this.list = list;
    this.empty = empty;
    this.loading = loading;
    this.connection = connection;
    this.jobsUrl = jobsUrl;
    this.strings = strings;
    this.cards = new Map();
    this.heard = new Map(); // job id → time of the last news about it
    this.fetching = new Map(); // job id → in-flight GET promise
    this.loaded = false;
    this.socket = new LiveSocket("/ws/generation/", {
      onOpen: () => this.refresh(),
      onMessage: (message) => this.handle(message),
      onState: (state) => this.showConnection(state),
    });
  }

  start() {
    this.refresh();
    this.socket.connect();
    setInterval(() => this.watch(), WATCH_EVERY_MS);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        this.refresh();
        this.socket.sync();
      }
    });
    window.addEventListener("online", () => this.socket.reconnectNow());
  }

  /** Re-read the newest jobs: after every (re)connect, since events may have been dropped. */
  async refresh() {
    const url = `${this.jobsUrl}?page_size=${RECENT_JOBS}`;
    const result = await requestJSON(url);
    if (result.ok && result.data && Array.isArray(result.data.results)) {
      for (const job of result.data.results) this.upsert(job);
      this.loaded = true;
    } else if (result.status === 401 || result.status === 403) {
      this.showConnection("signed-out");
    }
    this.showEmptyState();
  }

  /** Fetch one job (unknown to us, or finished without its images); one request at a time per job. */
  fetchJob(jobId) {
    const id = String(jobId);
    if (this.fetching.has(id)) return this.fetching.get(id);
    const request = requestJSON(`${this.jobsUrl}${encodeURIComponent(id)}/`)
      .then((result) => {
        if (result.ok && result.data) this.upsert(result.data);
        return result;
      })
      .finally(() => this.fetching.delete(id));
    this.fetching.set(id, request);
    return request;
  }

  /** Add a job from the API, or bring its card up to date. Returns the card. */
  upsert(job) {
    const id = String(job.id);
    this.heard.set(id, Date.now());
    let card = this.cards.get(id);
    if (card) {
      card.update(jobUpdate(job));
      return card;
    }
    card = new JobCard(job, {
      strings: this.strings,
      onKeep: (jobId, imageId) => this.keep(jobId, imageId),
      onCancel: (jobId) => this.cancel(jobId),
    });
    this.cards.set(id, card);
    this.insertInOrder(card);
    this.showEmptyState();
    return card;
  }

  insertInOrder(card) {
    // Newest first: before the first card that was created earlier than this one.
    const created = Date.parse(card.createdAt);
    const later = Array.from(this.list.children).find((node) => {
      const other = this.cards.get(node.dataset.jobId);
      return other && Date.parse(other.createdAt) < created;
    });
    this.list.insertBefore(card.root, later || null);
  }

  /**
   * One websocket event. Its fields are defined once, in generation/events.py; the JSON Schema
   * generated from it is served at /api/v1/events/schema.json (tests check every event against it).
   * What a card takes from an event is read by jobUpdate(), the same mapping as for API jobs.
   */
  handle(message) {
    if (message.type === "job.queue") {
      this.handleQueue(message.jobs);
      return;
    }
    const update = jobUpdate(message);
    if (!update) return; // an error frame, or a type this page does not know
    const id = message.job_id !== undefined && message.job_id !== null ? String(message.job_id) : "";
    if (!id) return;
    const card = this.cards.get(id);
    this.heard.set(id, Date.now());
    if (!card) {
      this.fetchJob(id); // a job from another tab, or one we missed: the API has its details
      return;
    }
    card.update(update);
    if (message.type === "job.preview") card.showPreview(message);
    if (card.needsImages) this.fetchJob(id);
  }

  /** job.queue: the new place in line and wait of each of this user's queued jobs. */
  handleQueue(entries) {
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (!entry || entry.job_id === undefined || entry.job_id === null) continue;
      const id = String(entry.job_id);
      this.heard.set(id, Date.now());
      const card = this.cards.get(id);
      if (card) card.update({ position: entry.position, eta: entry.eta_seconds });
      else this.fetchJob(id);
    }
  }

  /** The safety net for dropped events on a socket that stayed open. */
  watch() {
    if (document.visibilityState === "hidden") return;
    const now = Date.now();
    for (const [id, card] of this.cards) {
      const quiet = now - (this.heard.get(id) || 0) > QUIET_AFTER_MS;
      if ((!card.isFinal || card.needsImages) && quiet) {
        this.heard.set(id, now);
        this.fetchJob(id);
      }
    }
  }

  keep(jobId, imageId) {
    return requestJSON(`${this.jobsUrl}${encodeURIComponent(jobId)}/keep/`, {
      method: "POST",
      body: { image: imageId },
    });
  }

  /** Ask the server to stop a job; a 200's job JSON is applied here, a 409 re-reads the truth. */
  async cancel(jobId) {
    const result = await requestJSON(`${this.jobsUrl}${encodeURIComponent(jobId)}/cancel/`, { method: "POST" });
    if (result.ok && result.data && result.data.id !== undefined) this.upsert(result.data);
    else if (result.status === 409) this.fetchJob(jobId);
    return result;
  }

  showEmptyState() {
    if (this.loading) this.loading.hidden = this.loaded || this.cards.size > 0;
    if (this.empty) this.empty.hidden = !this.loaded || this.cards.size > 0;
  }

  showConnection(state) {
    if (!this.connection) return;
    if (state === "reconnecting" || state === "signed-out") {
      this.connection.textContent = state === "signed-out" ? this.strings.signedOut : this.strings.reconnecting;
      this.connection.dataset.state = state;
      this.connection.hidden = false;
    } else {
      this.connection.hidden = true;
      this.connection.dataset.state = state;
    }
  }
}
