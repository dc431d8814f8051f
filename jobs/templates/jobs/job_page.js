// The job page: draws the state, polls it while the job runs, copies the api_code.
// Built with textContent only: nothing a backend wrote can become markup. The one
// exception is the products' drawings, which the dispatcher wrote (jobs/drawings.py,
// every backend text in them escaped): their HTML is inserted and their Bokeh script run.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const JOB_PAGE = {stateUrl: $("job-page").dataset.stateUrl, pollMs: Number($("job-page").dataset.pollMs)};

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function drawTimeline(events) {
    const list = $("timeline");
    list.replaceChildren(...events.map((event) => {
      const item = el("li");
      item.dataset.kind = event.kind;
      item.append(el("span", event.time.replace("T", " ").slice(0, 19) + " ", "time"));
      let text = event.message || event.status;
      if (event.progress !== null && event.progress !== undefined && event.progress_max) {
        text += " (" + event.progress + "/" + event.progress_max + ")";
      }
      item.append(el("span", text));
      return item;
    }));
  }

  function drawProducts(products, status) {
    const box = $("products");
    const parts = [];
    if (products.files.length) {
      const list = el("ul");
      for (const file of products.files) {
        const item = el("li");
        const link = el("a", file.name);
        link.href = file.url;
        link.className = "download";
        item.append(link);
        list.append(item);
      }
      parts.push(list);
    }
    if (products.comment) parts.push(el("p", products.comment, "muted"));
    const drawn = drawingsOnce(products.drawings);
    if (drawn) parts.push(drawn);
    if (!parts.length) parts.push(el("p", status === "done" ? "This job produced no files." : "None yet.", "muted"));
    box.replaceChildren(...parts);
    if (drawn) drawn.querySelectorAll("script[data-drawing]").forEach(runScript);
  }

  // The drawings box, made once: a poll after the job ended must not draw the plots again.
  let drawings = null;
  function drawingsOnce(list) {
    if (drawings || !list.length) return drawings;
    drawings = el("div");
    drawings.id = "drawings";
    for (const drawing of list) {
      drawings.append(el("h3", drawing.name));
      const box = el("div", null, "drawing");
      box.dataset.product = drawing.name;
      box.innerHTML = drawing.div;
      box.querySelectorAll("table.sortable").forEach(sortable);
      drawings.append(box);
      if (drawing.script) {
        // Kept aside and run once the box is in the page: the script looks up its div by id.
        const code = new DOMParser().parseFromString(drawing.script, "text/html").querySelectorAll("script");
        for (const part of code) {
          const holder = el("script");
          holder.type = "text/plain";
          holder.dataset.drawing = "";
          holder.textContent = part.textContent;
          box.append(holder);
        }
      }
    }
    return drawings;
  }

  function runScript(holder) {
    const script = document.createElement("script");
    script.textContent = holder.textContent;
    holder.replaceWith(script);  // an inserted <script> runs; one set through innerHTML would not
  }

  function sortable(table) {
    table.querySelectorAll("thead th").forEach((header, column) => {
      header.tabIndex = 0;
      header.title = "Sort by this column";
      header.addEventListener("click", () => sortBy(table, header, column));
      header.addEventListener("keydown", (event) => { if (event.key === "Enter") sortBy(table, header, column); });
    });
  }

  function sortBy(table, header, column) {
    const ascending = header.dataset.sort !== "ascending";
    table.querySelectorAll("thead th").forEach((other) => { delete other.dataset.sort; other.removeAttribute("aria-sort"); });
    header.dataset.sort = ascending ? "ascending" : "descending";
    header.setAttribute("aria-sort", header.dataset.sort);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const value = (row) => (row.cells[column] ? row.cells[column].textContent.trim() : "");
    const numeric = rows.every((row) => value(row) !== "" && !Number.isNaN(Number(value(row))));
    rows.sort((a, b) => {
      const order = numeric ? Number(value(a)) - Number(value(b)) : value(a).localeCompare(value(b));
      return ascending ? order : -order;
    });
    body.append(...rows);
  }

  function draw(state) {
    const badge = $("job-status");
    badge.textContent = state.status;
    badge.dataset.status = state.status;
    badge.className = "status status-" + state.status;
    $("job-message").textContent = state.message || "";
    if (state.duration_s !== null) $("job-duration").textContent = state.duration_s.toFixed(1) + " s";
    drawTimeline(state.events);
    drawProducts(state.products, state.status);
    $("live").textContent = state.is_terminal ? "" : "Updating by itself while the job runs…";
  }

  async function poll() {
    try {
      const answer = await fetch(JOB_PAGE.stateUrl, {cache: "no-store", credentials: "same-origin"});
      if (!answer.ok) {
        $("live").textContent = "Could not update (HTTP " + answer.status + ").";
        return;
      }
      const state = await answer.json();
      draw(state);
      if (state.is_terminal) return;
    } catch (error) {
      $("live").textContent = "Could not update; trying again.";
    }
    setTimeout(poll, JOB_PAGE.pollMs);
  }

  $("copy-api-code").addEventListener("click", async () => {
    const code = $("api-code").textContent;
    try {
      await navigator.clipboard.writeText(code);
      $("copy-result").textContent = "Copied.";
    } catch (error) {
      // No clipboard permission (plain http): select the text for a manual copy.
      const range = document.createRange();
      range.selectNodeContents($("api-code"));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      $("copy-result").textContent = "Selected: press Ctrl+C to copy.";
    }
  });

  const initial = JSON.parse($("job-state").textContent);
  draw(initial);
  if (!initial.is_terminal) setTimeout(poll, JOB_PAGE.pollMs);
})();
