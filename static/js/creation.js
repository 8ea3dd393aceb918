// A creation's page: the owner's sharing controls, and Like / Report for other signed-in people.

import { format, messagesOf, requestJSON } from "./api.js";

const strings = JSON.parse(document.getElementById("creation-strings").textContent);
const article = document.getElementById("creation");
const apiUrl = article.dataset.apiUrl;
const byId = (id) => document.getElementById(id);

function failure(status) {
  return status === 0 ? strings.networkError : format(strings.serverError, { status });
}

// ---- Owner ---------------------------------------------------------------------------------

function setupOwner() {
  const visibility = byId("visibility");
  if (!visibility) return;
  const status = byId("visibility-status");
  const error = byId("owner-error");
  const shareUrl = byId("share-url");
  const copy = byId("copy-link");
  const revoke = byId("revoke-link");
  const remove = byId("delete-creation");
  let saved = visibility.value;

  function showError(messages) {
    error.textContent = messages.join(" ");
  }

  function showCreation(data) {
    if (data && data.share_url) shareUrl.value = data.share_url;
  }

  requestJSON(apiUrl).then(({ ok, status: code, data }) => (ok ? showCreation(data) : showError([failure(code)])));

  visibility.addEventListener("change", async () => {
    error.textContent = "";
    status.textContent = "";
    visibility.disabled = true;
    const { ok, status: code, data } = await requestJSON(apiUrl, {
      method: "PATCH",
      body: { visibility: visibility.value },
    });
    visibility.disabled = false;
    if (ok) {
      saved = visibility.value;
      status.textContent = strings.saved;
      showCreation(data);
    } else {
      visibility.value = saved;
      showError(code === 400 ? messagesOf(data) : [failure(code)]);
    }
    visibility.focus();
  });

  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(shareUrl.value);
      status.textContent = strings.copied;
    } catch (err) {
      shareUrl.select();
      status.textContent = strings.copyFailed;
    }
  });

  revoke.addEventListener("click", async () => {
    if (!window.confirm(strings.confirmRevoke)) return;
    error.textContent = "";
    revoke.disabled = true;
    const { ok, status: code, data } = await requestJSON(`${apiUrl}share-link/`, { method: "POST" });
    revoke.disabled = false;
    if (ok) {
      showCreation(data);
      status.textContent = strings.renewed;
    } else showError([failure(code)]);
  });

  remove.addEventListener("click", async () => {
    if (!window.confirm(strings.confirmDelete)) return;
    remove.disabled = true;
    const { ok, status: code } = await requestJSON(apiUrl, { method: "DELETE" });
    if (ok) window.location.assign(article.dataset.galleryUrl);
    else {
      remove.disabled = false;
      showError([failure(code)]);
    }
  });
}

// ---- Viewers -------------------------------------------------------------------------------

function setupLike() {
  const like = byId("like");
  if (!like) return;
  const count = byId("like-count");
  like.setAttribute("aria-pressed", String(like.dataset.liked === "true"));
  like.addEventListener("click", async () => {
    const liked = like.getAttribute("aria-pressed") !== "true";
    like.disabled = true;
    const { ok, data } = await requestJSON(like.dataset.url, { method: "POST", body: { liked } });
    like.disabled = false;
    if (ok && data) {
      like.setAttribute("aria-pressed", String(data.liked));
      count.textContent = String(data.like_count);
    }
  });
}

function setupReport() {
  const open = byId("report-open");
  const form = byId("report-form");
  if (!open || !form) return;
  const reason = byId("report-reason");
  const submit = byId("report-submit");
  const error = byId("report-error");
  const thanks = byId("report-thanks");
  // On a share link (/s/<token>/) the token lets an unlisted picture be reported.
  const token = (window.location.pathname.match(/^\/s\/([^/]+)\/?$/) || [])[1] || "";

  open.addEventListener("click", () => {
    form.hidden = !form.hidden;
    open.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) reason.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const body = { reason: reason.value.trim() };
    if (token) body.token = decodeURIComponent(token);
    const { ok, status, data } = await requestJSON(form.dataset.url, { method: "POST", body });
    submit.disabled = false;
    if (ok) {
      form.hidden = true;
      open.hidden = true;
      thanks.textContent = (data && data.detail) || "";
      thanks.hidden = false;
    } else {
      error.textContent = (status === 400 || status === 429 ? messagesOf(data) : [failure(status)]).join(" ");
    }
  });
}

// ---- Remix and Generate similar (any signed-in viewer) --------------------------------------

function setupRemix() {
  const error = byId("remix-error");
  const token = (window.location.pathname.match(/^\/s\/([^/]+)\/?$/) || [])[1] || "";
  const body = token ? { token: decodeURIComponent(token) } : {};
  const wire = (button, busyText, next) => {
    if (!button) return;
    const label = button.textContent;
    button.addEventListener("click", async () => {
      error.textContent = "";
      button.disabled = true;
      button.textContent = busyText;
      const { ok, status, data } = await requestJSON(button.dataset.url, { method: "POST", body });
      if (ok && data) {
        window.location.assign(next(data));
        return;
      }
      button.disabled = false;
      button.textContent = label;
      const told = [400, 409, 429, 503].includes(status) && data; // a limit's own message
      error.textContent = (told ? messagesOf(data) : [failure(status)]).join(" ");
    });
  };
  // A remix opens in the editor: the same background and characters, now the viewer's own.
  wire(byId("remix"), strings.remixing, (data) => `/c/${encodeURIComponent(data.id)}/edit/`);
  wire(byId("generate-similar"), strings.queueing, (data) => data.studio_url || "/studio/");
}

setupOwner();
setupLike();
setupReport();
setupRemix();
