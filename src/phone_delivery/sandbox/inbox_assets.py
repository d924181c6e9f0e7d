"""The inbox page's stylesheet and script, shipped inside the package (no CDN, no web font).

The script makes the page live: server-sent events add and update rows without a reload and keep
what the reader looks at in place; search runs as you type; a message opens beside the list (below
it in a narrow window); Clear empties the inbox. It inserts only HTML the server rendered
(``inbox_render.py``, everything escaped).
"""

INBOX_CSS = r"""
:root {
  color-scheme: light dark;
  --bg: #f7f7f8; --panel: #fff; --text: #1d1f23; --muted: #5b6270; --line: #dcdfe4;
  --accent: #0b57d0; --accent-bg: #e8f0fe; --danger: #b3261e; --code-bg: #fff4d6; --focus: #0b57d0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181c; --panel: #1e2126; --text: #e6e7ea; --muted: #a3a9b5; --line: #343a43;
    --accent: #8ab4f8; --accent-bg: #253247; --danger: #f2b8b5; --code-bg: #3d3420; --focus: #8ab4f8;
  }
}
* { box-sizing: border-box; }
html { overflow-anchor: none; }
body { margin: 0; background: var(--bg); color: var(--text); display: flex; flex-direction: column; height: 100vh; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  clip-path: inset(50%); white-space: nowrap;
}
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
.bar {
  display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .75rem 1rem;
  background: var(--panel); border-bottom: 1px solid var(--line);
}
.bar h1 { font-size: 1.2rem; margin: 0; margin-right: auto; }
.search { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.search label { font-size: .85rem; color: var(--muted); }
input, select, button { font: inherit; color: inherit; }
input[type=search], select {
  padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg);
}
input[type=search] { width: min(22rem, 60vw); }
button {
  padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); cursor: pointer;
}
button:hover { border-color: var(--accent); }
button.danger { color: var(--danger); }
.summary { margin: .5rem 1rem; color: var(--muted); font-size: .9rem; }
.live { margin-left: .5rem; }
.live.on::before { content: "● "; color: #1e8e3e; }
.live.off::before { content: "● "; color: var(--danger); }
.panes { display: grid; grid-template-columns: minmax(18rem, 2fr) 3fr; flex: 1; min-height: 0; }
.list-pane, .detail-pane {
  height: 100%; overflow-y: auto; overflow-anchor: none; background: var(--panel); border-top: 1px solid var(--line);
}
.list-pane { border-right: 1px solid var(--line); }
.messages { list-style: none; margin: 0; padding: 0; }
.msg { border-bottom: 1px solid var(--line); }
.msg-link { display: grid; gap: .15rem; padding: .6rem 1rem; color: inherit; text-decoration: none; }
.msg-link:hover { background: var(--accent-bg); }
.msg-link[aria-current=true] { background: var(--accent-bg); box-shadow: inset 4px 0 0 var(--accent); }
.line { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
.to { font-weight: 600; }
.line time { margin-left: auto; color: var(--muted); font-size: .85rem; }
.from, .muted { color: var(--muted); font-size: .9rem; }
.preview { overflow-wrap: anywhere; }
.kind {
  font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .03em;
  padding: .05rem .4rem; border-radius: 4px; background: var(--accent-bg); color: var(--accent);
}
.status { font-size: .8rem; padding: .05rem .4rem; border-radius: 4px; border: 1px solid var(--line); }
.status-undelivered, .status-failed, .status-busy, .status-no-answer { color: var(--danger); }
.code { font-family: ui-monospace, Menlo, Consolas, monospace; background: var(--code-bg); padding: 0 .35rem; }
.empty { padding: 2rem 1rem; color: var(--muted); text-align: center; }
.detail { padding: 1rem 1.25rem 2rem; }
.detail-head { display: flex; gap: 1rem; align-items: baseline; }
.detail-head h2 { font-size: 1.15rem; margin: 0 auto 0 0; overflow-wrap: anywhere; }
.otp { background: var(--code-bg); padding: .5rem .75rem; border-radius: 6px; }
.otp strong { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1.3rem; letter-spacing: .08em; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1rem 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.detail h3 { font-size: .95rem; margin: 1.25rem 0 .4rem; }
pre {
  white-space: pre-wrap; overflow-wrap: anywhere; background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; padding: .6rem .75rem; margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace;
}
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; white-space: nowrap; font-family: ui-monospace, Menlo, Consolas, monospace; }
td { overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, monospace; }
.timeline { margin: 0; padding-left: 1.25rem; }
.timeline li { margin: .15rem 0; }
.timeline time { color: var(--muted); margin-right: .5rem; }
.foot { padding: .75rem 1rem; color: var(--muted); font-size: .85rem; }
kbd { border: 1px solid var(--line); border-radius: 3px; padding: 0 .3rem; font-size: .8rem; }
@media (max-width: 52rem) {
  body { display: block; height: auto; }
  .panes { display: block; }
  .list-pane, .detail-pane { height: auto; overflow: visible; border-right: 0; }
  .detail-pane { border-top: 3px solid var(--accent); }
  input[type=search] { width: 100%; }
  .search { width: 100%; }
}
"""

INBOX_JS = r"""
"use strict";
(() => {
  const body = document.body;
  const base = body.dataset.base || "";
  const list = document.getElementById("messages");
  const form = document.getElementById("search");
  const q = document.getElementById("q");
  const kind = document.getElementById("kind");
  const detail = document.getElementById("detail");
  const summary = document.getElementById("summary");
  const note = document.getElementById("note");
  const announce = document.getElementById("announce");
  const live = document.getElementById("live");
  const empty = document.getElementById("empty");
  const clear = document.getElementById("clear");
  const MAX_ROWS = 500;
  let after = body.dataset.after || "";
  let source = null;
  let openSeq = detail.dataset.seq ? Number(detail.dataset.seq) : null;
  let searching = null;
  let typing = null;

  const filters = () => {
    const params = new URLSearchParams();
    if (q.value.trim()) params.set("q", q.value.trim());
    if (kind.value) params.set("kind", kind.value);
    const to = new URLSearchParams(location.search).get("to");
    if (to) params.set("to", to);
    return params;
  };
  const pageUrl = (seq) => {
    const params = filters().toString();
    return `${base}/inbox${seq ? "/" + seq : ""}${params ? "?" + params : ""}`;
  };
  const say = (text) => { announce.textContent = ""; window.setTimeout(() => { announce.textContent = text; }, 50); };
  const setSize = (size) => { summary.textContent = `${size} message${size === 1 ? "" : "s"} in the inbox.`; };
  const setLive = (on) => {
    live.className = on ? "live on" : on === null ? "live" : "live off";
    live.textContent = on ? "Live" : on === null ? "Connecting…" : "Reconnecting…";
  };
  const showEmpty = () => { empty.hidden = list.children.length > 0; };
  const localTimes = (root) => {
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const when = new Date(el.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) { el.textContent = when.toLocaleTimeString(); el.title = when.toString(); }
    });
  };
  const markOpen = () => {
    list.querySelectorAll("a[aria-current]").forEach((a) => a.removeAttribute("aria-current"));
    const link = openSeq ? list.querySelector(`#m-${openSeq} a`) : null;
    if (link) link.setAttribute("aria-current", "true");
  };

  // Keep what the reader looks at where it is when rows appear or change above it.
  const scroller = () => {
    const pane = list.closest(".list-pane");
    return /(auto|scroll)/.test(getComputedStyle(pane).overflowY) ? pane : document.scrollingElement;
  };
  const keepingScroll = (change) => {
    const box = scroller();
    if (box.scrollTop <= 0) { change(); return; }
    const top = box === document.scrollingElement ? 0 : box.getBoundingClientRect().top;
    const anchor = Array.from(list.children).find((li) => li.getBoundingClientRect().bottom > top);
    const before = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    if (anchor && anchor.isConnected) box.scrollTop += anchor.getBoundingClientRect().top - before;
  };
  const rowFrom = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  };
  const place = (html, seq) => {
    const row = rowFrom(html);
    localTimes(row);
    const old = document.getElementById(`m-${seq}`);
    if (old) {
      const focused = old.contains(document.activeElement);
      keepingScroll(() => old.replaceWith(row));
      if (focused) row.querySelector("a").focus();
      markOpen();
      return false;
    }
    const next = Array.from(list.children).find((li) => Number(li.dataset.seq) < seq);
    if (!next && list.children.length >= MAX_ROWS) return false;
    keepingScroll(() => {
      list.insertBefore(row, next || null);
      while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
    });
    showEmpty();
    return true;
  };

  const connect = () => {
    if (source) source.close();
    const params = filters();
    params.set("after", after);
    source = new EventSource(`${base}/inbox/events?${params}`);
    const track = (event) => { if (event.lastEventId) after = event.lastEventId; };
    source.addEventListener("open", () => setLive(true));
    source.addEventListener("error", () => setLive(false));
    source.addEventListener("add", (event) => {
      track(event);
      const data = JSON.parse(event.data);
      if (place(data.html, data.seq)) say(data.announce);
      setSize(data.size);
    });
    source.addEventListener("update", (event) => {
      track(event);
      const data = JSON.parse(event.data);
      place(data.html, data.seq);
      setSize(data.size);
      if (data.seq === openSeq) openMessage(data.seq, { focus: false, push: false });
    });
    source.addEventListener("clear", (event) => {
      track(event);
      list.replaceChildren();
      showEmpty();
      setSize(0);
      closeMessage({ focus: false, push: false });
      say("The inbox was cleared.");
    });
    source.addEventListener("resync", (event) => { track(event); refresh(); });
  };

  const refresh = async () => {
    if (searching) searching.abort();
    const controller = new AbortController();
    searching = controller;
    try {
      const response = await fetch(`${base}/inbox/list?${filters()}`, { signal: controller.signal });
      const data = await response.json();
      if (!response.ok) { note.textContent = data.error; return; }
      list.innerHTML = data.html;
      localTimes(list);
      after = data.after;
      setSize(data.size);
      note.textContent = data.note;
      showEmpty();
      markOpen();
      history.replaceState(history.state, "", pageUrl(openSeq));
      connect();
    } catch (error) {
      if (error.name !== "AbortError") note.textContent = "Could not search the inbox.";
    }
  };

  const openMessage = async (seq, { focus, push }) => {
    const response = await fetch(`${base}/inbox/${seq}/detail?${filters()}`);
    detail.innerHTML = await response.text();
    localTimes(detail);
    detail.hidden = false;
    detail.dataset.seq = String(seq);
    openSeq = seq;
    markOpen();
    if (push) history.pushState({ seq }, "", pageUrl(seq));
    if (focus) detail.querySelector("h2").focus();
  };
  const closeMessage = ({ focus, push }) => {
    const seq = openSeq;
    openSeq = null;
    detail.hidden = true;
    detail.replaceChildren();
    detail.dataset.seq = "";
    markOpen();
    if (push) history.pushState({}, "", pageUrl(null));
    const link = seq ? list.querySelector(`#m-${seq} a`) : null;
    if (focus && link) link.focus();
  };

  list.addEventListener("click", (event) => {
    const link = event.target.closest("a.msg-link");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    openMessage(Number(link.closest("li").dataset.seq), { focus: true, push: true });
  });
  detail.addEventListener("click", (event) => {
    if (event.target.closest("[data-close]")) {
      event.preventDefault();
      closeMessage({ focus: true, push: true });
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      navigator.clipboard.writeText(copy.dataset.copy).then(() => say("Code copied."), () => say("Could not copy."));
    }
  });
  window.addEventListener("popstate", () => {
    const found = location.pathname.match(/\/inbox\/(\d+)$/);
    if (found) openMessage(Number(found[1]), { focus: false, push: false });
    else closeMessage({ focus: false, push: false });
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  q.addEventListener("input", () => { window.clearTimeout(typing); typing = window.setTimeout(refresh, 200); });
  kind.addEventListener("change", refresh);
  clear.hidden = false;
  clear.addEventListener("click", async () => {
    if (!window.confirm("Delete every message in the inbox?")) return;
    const response = await fetch(`${base}/_admin/inbox`, { method: "DELETE" });
    if (!response.ok) { say(`Could not clear the inbox (${response.status}).`); return; }
    list.replaceChildren();
    showEmpty();
    setSize(0);
    closeMessage({ focus: false, push: true });
    say("The inbox was cleared.");
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea")) {
      if (event.key === "Escape" && event.target === q) q.blur();
      return;
    }
    if (event.key === "/") { event.preventDefault(); q.focus(); return; }
    if (event.key === "Escape" && !detail.hidden) { closeMessage({ focus: true, push: true }); return; }
    if (event.key === "j" || event.key === "k") {
      const links = Array.from(list.querySelectorAll("a.msg-link"));
      if (!links.length) return;
      const at = links.indexOf(document.activeElement);
      const next = event.key === "j" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
      links[at < 0 ? 0 : next].focus();
      event.preventDefault();
    }
  });

  localTimes(document);
  markOpen();
  setLive(null);
  connect();
})();
"""
