// Swagger UI for /api/docs/: its settings come from the page's JSON block, as the site's CSP
// allows no inline script. Session requests carry the CSRF token; token requests do not need it.
import { csrfToken } from "./api.js";

const config = JSON.parse(document.getElementById("swagger-config").textContent);
const root = document.getElementById("swagger-ui");

function withCsrf(request) {
  const method = (request.method || "GET").toUpperCase();
  const hasToken = Object.keys(request.headers || {}).some((name) => name.toLowerCase() === "authorization");
  if (!["GET", "HEAD", "OPTIONS"].includes(method) && !hasToken) {
    request.headers[config.csrfHeader] = csrfToken();
  }
  return request;
}

root.textContent = "";
window.SwaggerUIBundle({
  ...config.settings,
  url: config.url,
  domNode: root,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: withCsrf,
  onComplete: () => root.removeAttribute("aria-busy"),
});
