// deskbot web chat: talks to the HTTP API, shows probe progress from the NDJSON stream and
// renders the final settings table. Plain DOM, no build step; text is never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const log = $("log");
const input = $("text");
let sessionId = null;
let question = null;
let busy = false;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function add(node) {
  log.appendChild(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

function label(key) {
  return String(key).replace(/_/g, " ");
}

function settingsTable(rows) {
  const table = el("table", "settings");
  if (!rows.length) return table;
  const keys = Object.keys(rows[0]).filter((k) => rows.some((r) => r[k] !== null && r[k] !== ""));
  const head = table.createTHead().insertRow();
  keys.forEach((k) => head.appendChild(el("th", null, label(k))));
  const body = table.createTBody();
  rows.forEach((row) => {
    const tr = body.insertRow();
    keys.forEach((k) => tr.appendChild(el("td", null, row[k] ?? "")));
  });
  return table;
}

function describe(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(describe).join("\n");
  if (typeof value === "object") {
    if ("probe" in value && "status" in value) {
      return `${value.status.toUpperCase()} ${value.probe} ${value.target}: ${value.evidence}`;
    }
    return Object.entries(value).map(([k, v]) => `${label(k)}: ${describe(v)}`).join("; ");
  }
  return String(value);
}

function handoffDetails(pkg) {
  const details = el("details");
  details.appendChild(el("summary", null, "Package for the support agent"));
  const dl = el("dl");
  Object.entries(pkg || {}).forEach(([k, v]) => {
    dl.appendChild(el("dt", null, label(k)));
    dl.appendChild(el("dd", null, describe(v)));
  });
  details.appendChild(dl);
  return details;
}

function probeRow(probe, target) {
  const li = el("li", "probe running");
  li.appendChild(el("span", "status", "…"));
  li.appendChild(el("span", "what", `${probe} ${target}`));
  return add(li);
}

function finishProbe(li, check) {
  li.className = `probe ${check.status}`;
  li.querySelector(".status").textContent = { ok: "✓", fail: "✗", skipped: "–" }[check.status] || "?";
  li.querySelector(".what").textContent =
    `${check.probe} ${check.target}: ${check.evidence}` + (check.ms ? ` (${check.ms} ms)` : "");
}

// Finished check rows by "probe target", so the reply can put them after the words that
// introduced them (the words arrive with the reply, the rows arrived live before it).
const shown = new Map();

function placeProbeRows(m) {
  (m.evidence || []).forEach((report) => (report.checks || []).forEach((c) => {
    const queue = shown.get(`${c.probe} ${c.target}`) || [];
    const li = queue.shift();
    if (li) log.appendChild(li); // appendChild moves the existing row
  }));
}

function renderMessage(m) {
  if (m.kind === "probe") { placeProbeRows(m); return; }
  // The typed parts, not the plain text: the words, then the table the page draws itself.
  const li = el("li", `bot ${m.kind}`);
  if (m.headline) li.appendChild(el("strong", "headline", `${m.headline_label || "What's wrong"}: ${m.headline}`));
  li.appendChild(el("div", "body", m.body !== undefined ? m.body : m.text));
  if (m.settings && m.settings.length) li.appendChild(settingsTable(m.settings));
  if (m.kind === "handoff" && m.handoff) li.appendChild(handoffDetails(m.handoff));
  if (m.probe_link) {
    li.classList.add("probe-link");
    li.dataset.url = m.probe_link.url;
    waitForCustomer(m.probe_link);
  }
  add(li);
}

// A probe link was offered: wait for the customer's computer to send its checks (the
// service's events route answers when they arrive, or "idle" after a while: ask again).
let delivered = 0;
let waiting = false;

async function waitForCustomer(link) {
  if (waiting) return;
  waiting = true;
  const until = Date.parse(link.expires_at) + 60000;
  const rows = new Map();
  try {
    while (Date.now() < until) {
      const res = await fetch(`/v1/sessions/${sessionId}/events?after=${delivered}`);
      if (!res.ok) return;
      let replied = false;
      for (const line of (await res.text()).split("\n")) {
        if (!line.trim()) continue;
        const ev = JSON.parse(line);
        if (ev.event === "reply") { delivered = ev.n; replied = true; }
        handleEvent(ev, rows);
      }
      if (replied) return;
    }
  } finally {
    waiting = false;
  }
}

function renderChoices() {
  const box = $("choices");
  box.replaceChildren();
  input.type = question && question.secret ? "password" : "text";
  input.placeholder = question && question.secret ? "Password (tested once, never stored)" : "Type here";
  let choices = (question && question.choices) || [];
  if (question && question.type === "yesno" && !choices.length) {
    choices = [{ value: "yes", label: "Yes" }, { value: "no", label: "No" }];
  }
  choices.forEach((c) => {
    const b = el("button", null, c.label || c.value);
    b.type = "button";
    b.addEventListener("click", () => send(c.label || c.value, c.label || c.value));
    box.appendChild(b);
  });
}

function renderTurn(turn) {
  (turn.messages || []).forEach(renderMessage);
  question = turn.question || null;
  document.body.dataset.slot = question ? question.slot : "";
  renderChoices();
  if (turn.outcome) {
    const box = $("outcome");
    box.hidden = false;
    box.className = turn.outcome.status === "handoff" ? "handoff" : "";
    box.textContent = `Outcome: ${turn.outcome.status}` +
      (turn.outcome.diagnosis ? ` — ${turn.outcome.diagnosis}` : "");
    box.dataset.status = turn.outcome.status;
    input.disabled = true;
    $("send").disabled = true;
  }
}

const LINK_FIELDS = ["message", "client"];

async function start() {
  // Only harmless fields come from a link: an address, a server or a password in the URL
  // would let a crafted link aim the login test at someone else's server (phishing).
  const context = {};
  new URLSearchParams(location.search).forEach((v, k) => {
    if (LINK_FIELDS.includes(k)) context[k] = v;
  });
  const res = await fetch("/v1/sessions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ context }),
  });
  const turn = await res.json();
  if (!res.ok) { add(el("li", "bot error", turn.error || res.statusText)); return; }
  sessionId = turn.id;
  sessionStorage.setItem("deskbot-session", sessionId);
  document.body.dataset.session = sessionId;
  renderTurn(turn);
}

async function send(text, shown) {
  if (busy || !sessionId || !text.trim()) return;
  busy = true;
  $("send").disabled = true;
  add(el("li", "user", question && question.secret ? "••••••••" : (shown || text)));
  $("choices").replaceChildren();
  const rows = new Map();
  try {
    const res = await fetch(`/v1/sessions/${sessionId}/messages/stream`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({}));
      add(el("li", "bot error", err.error || res.statusText));
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) handleEvent(JSON.parse(line), rows);
      }
    }
  } finally {
    busy = false;
    if (!input.disabled) $("send").disabled = false;
    document.body.dataset.turns = String(Number(document.body.dataset.turns || 0) + 1);
  }
}

function handleEvent(ev, rows) {
  if (ev.event === "check_started") {
    rows.set(`${ev.probe} ${ev.target}`, probeRow(ev.probe, ev.target));
  } else if (ev.event === "check_finished") {
    const key = `${ev.check.probe} ${ev.check.target}`;
    const li = rows.get(key) || probeRow(ev.check.probe, ev.check.target);
    finishProbe(li, ev.check);
    if (ev.vantage === "customer") {
      li.classList.add("customer");
      li.querySelector(".what").prepend("your computer: ");
    }
    rows.delete(key);
    shown.set(key, [...(shown.get(key) || []), li]);
  } else if (ev.event === "reply") {
    renderTurn(ev);
    shown.clear();
  } else if (ev.event === "error") {
    add(el("li", "bot error", ev.error));
  }
}

// After a reload, continue the conversation of this tab (the service kept it) instead of
// starting over; "New conversation" or ?new starts a fresh one.
async function resume() {
  const saved = sessionStorage.getItem("deskbot-session");
  if (!saved || new URLSearchParams(location.search).has("new")) return start();
  const res = await fetch(`/v1/sessions/${saved}`);
  if (!res.ok) return start();
  const state = await res.json();
  sessionId = state.id;
  document.body.dataset.session = sessionId;
  state.turns.forEach((t) => {
    if (t.role === "user") add(el("li", "user", t.text));
    else if (t.role === "bot") add(el("li", `bot ${t.kind || "text"}`, t.text));
  });
  renderTurn({ messages: [], question: state.question, outcome: state.outcome });
  document.body.dataset.resumed = "true";
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  input.value = "";
  send(text);
});
$("restart").addEventListener("click", () => {
  sessionStorage.removeItem("deskbot-session");
  log.replaceChildren();
  $("outcome").hidden = true;
  input.disabled = false;
  $("send").disabled = false;
  start();
});
resume();
