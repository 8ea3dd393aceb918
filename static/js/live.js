// The progress websocket: connects, reconnects with backoff, hands messages to the page.
// The socket only notifies; the page re-reads the jobs from the API on every (re)connect.

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30000;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403; // the account was banned: do not knock again

/**
 * "Full jitter": a random wait between 0 and min(cap, base * 2^attempt). Without the jitter
 * every open tab retried at the same instant after a server restart, a thundering herd.
 * @param {number} attempt  0 for the first retry
 * @param {() => number} random  Math.random, or a fixed source in tests
 */
export function backoffDelay(attempt, random = Math.random, base = BACKOFF_BASE_MS, cap = BACKOFF_CAP_MS) {
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export class LiveSocket {
  /**
   * @param {string} path  e.g. "/ws/generation/"
   * @param {{onOpen: Function, onMessage: Function, onState: Function}} handlers
   *   onState(state) gets "connecting" | "open" | "reconnecting" | "signed-out".
   */
  constructor(path, { onOpen, onMessage, onState }) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${window.location.host}${path}`;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onState = onState;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("open");
      this.onOpen();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message && typeof message === "object") this.onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
        this.stopped = true;
        this.onState("signed-out");
        return;
      }
      this.scheduleReconnect();
    });
    // 'error' is always followed by 'close', which reconnects.
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.onState("reconnecting");
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Ask the server to send snapshots of the open jobs again. */
  sync() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "jobs.sync" }));
    }
  }

  /** Reconnect now (e.g. the tab came back online) instead of waiting out the backoff. */
  reconnectNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.connect();
  }
}
