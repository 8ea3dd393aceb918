// My pictures: "Select all on this page", a count of what is ticked, and a word instead of an
// empty confirm page when nothing is. Without this script the page works the same, by plain
// form posts: the server's confirm page says when nothing was chosen.

const form = document.getElementById("delete-form");

function setup() {
  const boxes = [...form.querySelectorAll("input[type=checkbox][name=background], input[type=checkbox][name=creation]")];
  const all = document.getElementById("pick-all");
  const count = document.getElementById("pick-count");
  const error = document.getElementById("pick-error");

  function update() {
    const chosen = boxes.filter((box) => box.checked).length;
    count.querySelector("span").textContent = String(chosen);
    const every = chosen === boxes.length;
    all.textContent = every ? all.dataset.unpickLabel : all.dataset.pickLabel;
    if (chosen) error.textContent = "";
  }

  all.addEventListener("click", () => {
    const every = boxes.every((box) => box.checked);
    for (const box of boxes) box.checked = !every;
    update();
  });
  form.addEventListener("change", update);
  form.addEventListener("submit", (event) => {
    if (boxes.some((box) => box.checked)) return;
    event.preventDefault();
    error.textContent = form.dataset.noneChosen;
    boxes[0]?.focus();
  });

  all.hidden = false;
  count.hidden = false;
  update();
  window.addEventListener("pageshow", update); // back/forward may bring the page back with ticks kept
}

if (form) setup();
