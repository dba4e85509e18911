// The audit trail page. Every value that comes from the trail is put into
// the document with textContent or as an attribute set through the DOM,
// never parsed as HTML: a runtime's attribute values are untrusted input.
"use strict";

(function () {
  const OUTCOMES = ["success", "failure", "denied", "error"];
  const TRACE_RE = /^[0-9a-fA-F]{32}$/;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = shown(String(text));
    return e;
  }

  // shown makes the bytes of a value that are not valid UTF-8 visible. The
  // JSON marks each as a lone low surrogate U+DC80-U+DCFF (its byte plus
  // 0xDC00), which valid text never holds; it is shown as \xHH, so that two
  // values that differ only there do not look the same. (A low surrogate
  // after a high one is half of a valid character, and left alone.)
  function shown(s) {
    return s.replace(/(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/g, function (c) {
      return "\\x" + (c.charCodeAt(0) - 0xDC00).toString(16);
    });
  }

  // Class names come from a fixed list, never from the data itself.
  function outcomeClass(o) {
    return OUTCOMES.includes(o) ? o : "none";
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await r.json(); } catch (_) { /* not JSON: reported below */ }
    if (!r.ok) {
      throw new Error((body && body.error) || r.status + " " + r.statusText);
    }
    return body;
  }

  function fmtDuration(ms) {
    if (!ms) return "";
    if (ms < 1) return Math.round(ms * 1000) + " µs";
    if (ms < 1000) return ms.toFixed(ms < 10 ? 2 : 0) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  }

  // plural gives "1 trace", "2 traces".
  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // fmtOffset gives a time relative to the first event: "+12 ms", or
  // "-3 ms" for an event stamped before it.
  function fmtOffset(ms) {
    return (ms < 0 ? "-" : "+") + Math.abs(ms) + " ms";
  }

  // hidden is text for screen readers only.
  function hidden(text) {
    return el("span", "visually-hidden", text);
  }

  function fmtValue(v) {
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  // depths gives each event its indent: a span sits one level below the
  // span it is a child of, when that span is in the trace too; events that
  // happen during a span (trust checks, resource accesses) sit one level
  // below the span's own start and end.
  function depths(events) {
    const parentOf = new Map();
    for (const e of events) {
      if (e.span_id && !parentOf.has(e.span_id)) parentOf.set(e.span_id, e.parent_span_id || "");
    }
    const memo = new Map();
    function spanDepth(id) {
      if (memo.has(id)) return memo.get(id);
      memo.set(id, 0); // guards against a cycle in hostile data
      let d = 0;
      let p = parentOf.get(id);
      if (p && parentOf.has(p)) d = spanDepth(p) + 1;
      memo.set(id, d);
      return d;
    }
    return events.map(function (e) {
      const d = e.span_id ? spanDepth(e.span_id) : 0;
      return /_(start|end|error)$/.test(e.type) ? d : d + 1;
    });
  }

  function renderEvent(e, depth, t0) {
    const li = el("li", outcomeClass(e.outcome));
    li.dataset.seq = String(e.seq);
    li.style.setProperty("--depth", String(Math.min(depth, 12)));
    const row = el("div", "row");
    row.append(el("span", "seq", "#" + e.seq));
    const at = Date.parse(e.time) - t0;
    row.append(el("span", "at", isNaN(at) ? "" : fmtOffset(at)));
    row.append(el("span", "type", e.type));
    if (e.outcome) {
      row.append(el("span", "badge " + outcomeClass(e.outcome), e.outcome));
    } else {
      const badge = el("span", "badge none");
      const dash = el("span", null, "—");
      dash.setAttribute("aria-hidden", "true");
      badge.append(dash, hidden("no outcome"));
      row.append(badge);
    }
    if (e.agent_id) row.append(el("span", "agent", "agent " + e.agent_id));
    if (e.node_id) row.append(el("span", "node", "node " + e.node_id));
    if (e.action) row.append(el("span", "action", e.action));
    if (e.resource) row.append(el("span", "resource mono", e.resource));
    const dur = fmtDuration(e.duration_ms);
    if (dur) row.append(el("span", "dur", dur));
    li.append(row);

    const details = el("details");
    // Every row has a "Details" disclosure: say whose, for screen readers.
    const summary = el("summary", null, "Details");
    summary.append(hidden(" of #" + e.seq + " " + e.type));
    details.append(summary);
    const dl = el("dl");
    function add(k, v) {
      if (v === undefined || v === null || v === "") return;
      dl.append(el("dt", "mono", k), el("dd", "mono", fmtValue(v)));
    }
    add("time", e.time);
    add("span_id", e.span_id);
    add("parent_span_id", e.parent_span_id);
    add("human_origin_id", e.human_origin_id);
    add("workflow_id", e.workflow_id);
    // Every attribute, in the order recorded: duplicate keys too.
    for (const a of e.attributes || []) add(a.key, a.value);
    details.append(dl);
    li.append(details);
    return li;
  }

  // traceRequest counts the trace loads started. A load whose number is no
  // longer the latest was overtaken (Enter twice, Back or Forward while
  // loading) and must leave the page alone: otherwise the rows of two traces
  // would mix, or one trace's rows sit under another's status.
  let traceRequest = 0;
  const INITIAL_STATUS = "Enter a trace ID to see what happened in it.";

  // clearTrace empties the timeline and puts back the status the page
  // starts with; it also cancels any load in flight.
  function clearTrace() {
    traceRequest++;
    const status = document.getElementById("status");
    document.getElementById("timeline").replaceChildren();
    document.getElementById("coverage").replaceChildren();
    status.classList.remove("error-text");
    status.textContent = INITIAL_STATUS;
  }

  async function showTrace(id) {
    const req = ++traceRequest;
    const status = document.getElementById("status");
    const list = document.getElementById("timeline");
    list.replaceChildren();
    document.getElementById("coverage").replaceChildren();
    status.classList.remove("error-text");
    if (!TRACE_RE.test(id)) {
      status.textContent = "A trace ID is 32 hexadecimal digits.";
      status.classList.add("error-text");
      return;
    }
    status.textContent = "Loading trace " + id + "…";
    try {
      const t = await getJSON("api/trace/" + encodeURIComponent(id.toLowerCase()));
      if (req !== traceRequest) return;
      const events = t.events || [];
      if (events.length === 0) {
        status.textContent = "No audit events held for trace " + t.trace_id + ".";
        return;
      }
      const wf = events.find(function (e) { return e.workflow_id; });
      const ds = depths(events);
      const t0 = Date.parse(events[0].time);
      const rows = events.map(function (e, i) { return renderEvent(e, ds[i], t0); });
      // Rows and status change together, in one go.
      list.replaceChildren(...rows);
      status.textContent = "Trace " + t.trace_id + (wf ? ", workflow " + wf.workflow_id : "") + ": " +
        plural(events.length, "event") + (t.truncated ? " (the oldest " + events.length + " of " + t.total + ")" : "") + ".";
      showCoverage(t.trace_id, req);
    } catch (err) {
      if (req !== traceRequest) return;
      list.replaceChildren();
      status.textContent = "Could not load the trace: " + err.message;
      status.classList.add("error-text");
    }
  }

  // showCoverage says whether the trace's events are covered by a signed
  // checkpoint, and links its evidence bundle: only when the handler has
  // a store (WithEvidence); otherwise the line stays empty.
  async function showCoverage(id, req) {
    const line = document.getElementById("coverage");
    line.replaceChildren();
    let c;
    try {
      c = await getJSON("api/coverage/" + encodeURIComponent(id));
    } catch (err) {
      return;
    }
    if (req !== traceRequest || !c.available) return;
    const badge = el("span", "badge " + (c.covered ? "success" : "none"),
      c.covered ? "signed" : "not signed yet");
    badge.id = "coverage-badge";
    const parts = [badge];
    if (c.proved > 0) {
      parts.push(el("span", "", " " + c.proved + " of " + c.held + " held events proved in the checkpoint of " +
        c.origin + ", a tree of " + c.tree_size + " events. "));
      const a = el("a", "", "Download the evidence bundle");
      a.id = "evidence-link";
      a.href = "api/evidence/" + encodeURIComponent(id);
      a.setAttribute("download", "evidence-" + id + ".json");
      parts.push(a);
      parts.push(el("span", "", " (check it with otelaudit verify-proof --pubkey)"));
    } else {
      parts.push(el("span", "", " " + (c.reason || "")));
    }
    line.replaceChildren(...parts);
  }

  async function showProblems() {
    const status = document.getElementById("problems-status");
    const list = document.getElementById("problems");
    try {
      const p = await getJSON("api/problems?limit=20");
      list.replaceChildren();
      const ps = p.problems || [];
      status.textContent = ps.length ? plural(ps.length, "trace") + " with problems among the newest " + plural(p.scanned, "event") + "." : "No denials or errors among the newest " + plural(p.scanned, "event") + ".";
      for (const x of ps) {
        const li = el("li");
        const a = el("a", "mono", x.trace_id);
        a.href = "?trace=" + encodeURIComponent(x.trace_id);
        li.append(a, document.createTextNode(" "));
        li.append(el("span", null, [x.workflow_id, x.agent_id].filter(Boolean).join(" · ")));
        const parts = [];
        if (x.denials) parts.push(x.denials + " denied");
        if (x.errors) parts.push(x.errors + " errors");
        if (x.failures) parts.push(x.failures + " failed");
        li.append(el("span", "dur", " — " + parts.join(", ") + "; last " + x.last_type + " at " + x.last_time));
        list.append(li);
      }
    } catch (err) {
      status.textContent = "Could not load problems: " + err.message;
    }
  }

  async function showStats() {
    const dl = document.getElementById("stats");
    try {
      const s = await getJSON("api/stats");
      dl.replaceChildren();
      for (const k of ["recorded", "len", "capacity", "evicted", "rejected", "cleared", "last_seq"]) {
        const d = el("div");
        d.append(el("dt", null, k === "len" ? "held" : k.replace("_", " ")), el("dd", null, s[k]));
        dl.append(d);
      }
    } catch (err) {
      dl.replaceChildren(el("div", "error-text", "Could not load stats: " + err.message));
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("search");
    const input = document.getElementById("trace");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      const id = input.value.trim();
      const url = new URL(window.location.href);
      url.searchParams.set("trace", id);
      history.pushState(null, "", url);
      showTrace(id);
    });
    window.addEventListener("popstate", function () {
      const id = (new URLSearchParams(window.location.search).get("trace") || "").trim();
      input.value = id;
      if (id) showTrace(id);
      else clearTrace();
    });
    const first = (new URLSearchParams(window.location.search).get("trace") || "").trim();
    if (first) {
      input.value = first;
      showTrace(first);
    }
    showProblems();
    showStats();
  });
})();
