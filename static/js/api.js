// Small JSON helpers for the REST API: session auth, the CSRF header, errors as values.

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** The CSRF token: the page's {% csrf_token %} input first (works with CSRF_COOKIE_HTTPONLY), then the cookie. */
export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return (input && input.value) || cookie("csrftoken");
}

/**
 * Send a JSON request. Never throws for HTTP errors: resolves to {ok, status, data}.
 * A network failure resolves to {ok: false, status: 0, data: null}.
 */
export async function requestJSON(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    return { ok: false, status: 0, data: null };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (error) {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

/** Replace {name} placeholders in a translated string. */
export function format(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

/** Every message in an error body (DRF nests them in lists and objects), flattened in order. */
export function messagesOf(value) {
  if (Array.isArray(value)) return value.flatMap(messagesOf);
  if (value && typeof value === "object") return Object.values(value).flatMap(messagesOf);
  return value === undefined || value === null ? [] : [String(value)];
}
