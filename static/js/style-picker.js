// The studio's style picker: cards with previews that set the form's #style select (the value
// studio.js sends). Arrow keys move between cards like a radio group; the select stays the truth,
// so a remembered choice restored into it shows here too.

const select = document.getElementById("style");
const picker = document.getElementById("style-picker");
const description = document.getElementById("style-description");

if (select && picker) {
  const cards = [...picker.querySelectorAll(".style-card")];

  const show = () => {
    let chosen = null;
    for (const card of cards) {
      const on = card.dataset.style === select.value;
      card.setAttribute("aria-checked", on ? "true" : "false");
      card.tabIndex = on ? 0 : -1;
      if (on) chosen = card;
    }
    if (!chosen && cards.length) cards[0].tabIndex = 0;
    description.textContent = chosen ? chosen.dataset.description : "";
  };

  const choose = (card, focus) => {
    select.value = card.dataset.style;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    show();
    if (focus) card.focus();
  };

  picker.addEventListener("click", (event) => {
    const card = event.target.closest(".style-card");
    if (card) choose(card, false);
  });
  picker.addEventListener("keydown", (event) => {
    const index = cards.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    let next = null;
    if (event.key in moves) next = cards[(index + moves[event.key] + cards.length) % cards.length];
    else if (event.key === "Home") next = cards[0];
    else if (event.key === "End") next = cards[cards.length - 1];
    if (next) {
      event.preventDefault();
      choose(next, true);
    }
  });
  select.addEventListener("change", show);
  select.classList.add("visually-hidden");
  select.tabIndex = -1;
  picker.hidden = false;
  // studio.js restores a remembered style after load; show it once that has happened.
  show();
  window.addEventListener("load", show);
}
