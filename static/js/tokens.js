// The token page: copy a just-made token or webhook secret (shown once) to the clipboard.

const status = document.getElementById("copy-status");
const created = document.getElementById("token-created");

for (const button of document.querySelectorAll(".copy-button")) {
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = status.dataset.copied;
    } catch (err) {
      // No clipboard (plain http, an old browser): select it so Ctrl/⌘+C works.
      field.focus();
      field.select();
      status.textContent = status.dataset.failed;
    }
  });
}

// Bring the one-time token into view (and to screen readers) first.
if (created) created.focus();

for (const field of document.querySelectorAll(".secret-value")) {
  field.addEventListener("focus", () => field.select());
}
