// A queued card's place in line and its wait, counted down every second between messages.
// The server's estimate is the truth: each job.queue / snapshot / API read resets the countdown.

import { format } from "./api.js";

const ORDINAL_KEYS = { one: "placeOne", two: "placeTwo", few: "placeFew" };
const MINUTES_FROM = 90; // below this many seconds the wait is said in seconds

function ordinalRule(position) {
  try {
    return new Intl.PluralRules(document.documentElement.lang || undefined, { type: "ordinal" }).select(position);
  } catch (error) {
    return "other";
  }
}

/** "Next in line", "2nd in line", "3rd in line"… (ordinal rules of the page's language). */
export function placeText(position, strings) {
  if (position === 1) return strings.placeNext;
  return format(strings[ORDINAL_KEYS[ordinalRule(position)] || "placeOther"], { n: position });
}

/** "about 12 s", "about 3 min", "any moment now", or "Estimating…" when there is no estimate. */
export function waitText(seconds, strings) {
  if (seconds === null) return strings.etaUnknown;
  if (seconds <= 0) return strings.etaNow;
  if (seconds < MINUTES_FROM) return format(strings.etaSeconds, { seconds: Math.ceil(seconds) });
  return format(strings.etaMinutes, { minutes: Math.round(seconds / 60) });
}

function positiveInteger(value) {
  const number = Number(value);
  return value !== null && Number.isInteger(number) && number > 0 ? number : null;
}

export class QueueLine {
  constructor(strings) {
    this.strings = strings;
    this.position = null;
    this.deadline = null; // performance.now() at which the job should start; null: not estimated
    this.known = false; // the server has told us something about this job's place in line
    this.active = false;
    this.timer = null;
    this.el = document.createElement("p");
    this.el.className = "queue-position";
    this.el.setAttribute("aria-live", "off"); // a ticking clock is not news for a screen reader
    this.el.hidden = true;
  }

  /** Apply `position` / `eta_seconds` as received; undefined leaves a value as it was. */
  set({ position, eta } = {}) {
    if (position !== undefined) {
      this.position = positiveInteger(position);
      this.known = true;
    }
    if (eta !== undefined) {
      const seconds = eta === null ? NaN : Number(eta);
      this.deadline = Number.isFinite(seconds) ? performance.now() + Math.max(0, seconds) * 1000 : null;
      this.known = true;
    }
  }

  /** Show the line while the job waits (and the server told us about it); hide it otherwise. */
  show(active) {
    this.active = active && this.known;
    this.el.hidden = !this.active;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.active) this.tick();
  }

  remaining() {
    return this.deadline === null ? null : Math.max(0, (this.deadline - performance.now()) / 1000);
  }

  tick() {
    const seconds = this.remaining();
    const parts = [];
    if (this.position !== null) parts.push(placeText(this.position, this.strings));
    parts.push(waitText(seconds, this.strings));
    this.el.textContent = parts.join(" · ");
    this.el.dataset.position = this.position === null ? "" : String(this.position);
    if (seconds === null || seconds <= 0) return;
    // Wake up just after the shown number of seconds changes, so the count steps once a second.
    const untilNext = (seconds * 1000) % 1000 || 1000;
    this.timer = setTimeout(() => this.tick(), untilNext + 20);
  }
}
