// drillsim live drill: what both pages share. The server sends JSON; everything shown is
// set as text (never as HTML), so nothing anyone types can run in another person's page.
"use strict";

const Drill = (() => {
  // "2026-04-23" -> "Thu", read as a calendar date (UTC), as the console and report show it.
  const weekday = (date) => new Date(`${date}T00:00:00Z`).toLocaleDateString("en-US", { weekday: "short", timeZone: "UTC" });

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Replace an element's content, unless it would look the same: a button is not swapped
  // for its twin under the pointer, and what someone is reading or scrolling stays put.
  function fill(id, ...children) {
    const node = document.getElementById(id);
    const next = document.createElement(node.tagName);
    next.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    if (next.innerHTML !== node.innerHTML) node.replaceChildren(...next.childNodes);
    return node;
  }

  async function post(path, body) {
    const response = await fetch("api/" + path, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { ok: false, reason: response.statusText }; }
    return data;
  }

  // Post, then say in #message how it went: `label: done`, or the server's reason.
  async function submit(path, body, label) {
    const answer = await post(path, body);
    const message = document.getElementById("message");
    message.className = "message " + (answer.ok ? "good" : "bad");
    message.textContent = answer.ok ? `${label}: done` : answer.reason;
    return answer;
  }

  // One stream of updates; state accumulates the events and samples sent so far.
  function connect(render) {
    const state = { events: [], samples: {} };
    const source = new EventSource("api/stream");
    source.onmessage = (message) => {
      const payload = JSON.parse(message.data);
      if (payload.full) { state.events = []; state.samples = {}; }
      state.events.push(...(payload.events || []));
      for (const [service, rows] of Object.entries(payload.samples || {})) {
        (state.samples[service] = state.samples[service] || []).push(...rows);
      }
      Object.assign(state, payload, { events: state.events, samples: state.samples });
      render(state);
    };
    return state;
  }

  // -- time --

  function clock(options, t) {
    const when = new Date(Date.parse(options.start) + t * 1000);
    return when.toISOString().slice(11, 19);
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60), r = s % 60;
    if (m >= 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
    return m ? `${m}m ${String(r).padStart(2, "0")}s` : `${r}s`;
  }

  // -- the channel: one line of text per event --

  const ROLE = { ic: "Incident Commander", comms: "Communications Lead", ops: "Operations Lead" };
  // A page as people are shown it: #1 for the log's P1, which beside a team's levels (P1 to P5) read as one.
  const pageName = (id) => id.replace(/^P(\d+)$/, "#$1");
  const DESCRIBE = {
    "alert.firing": (e) => `Alert fires: ${e.summary}`,
    "alert.resolved": (e) => `Alert resolves: ${e.summary}`,
    "alert.pending": (e) => `Alert pending: ${e.summary}`,
    "page.sent": (e) => `${e.to} paged (${e.urgency} urgency): ${e.summary}`,
    "page.escalated": (e) => `Page ${pageName(e.page)} not acknowledged: escalated from ${e.from} to ${e.to}`,
    "page.urgency_raised": (e) => `Page ${pageName(e.page)} raised to high urgency`,
    "page.acked": (e) => `${e.by} acknowledges page ${pageName(e.page)}`,
    "page.resolved": (e) => `Page ${pageName(e.page)} resolved`,
    "incident.declared": (e) => `${e.severity} declared by ${e.by} on ${e.service}: channel ${e.channel} opened` + (e.summary ? ` - ${e.summary}` : ""),
    "severity.changed": (e) => `Severity ${e.from} -> ${e.to} by ${e.by}` + (e.reason ? ` (${e.reason})` : ""),
    "role.assigned": (e) => `${e.who} is ${ROLE[e.role]}` + (e.by !== e.who ? ` (assigned by ${e.by})` : ""),
    "teams.paged": (e) => `${e.by} pages ${e.teams.join(", ")}`,
    "update.posted": (e) => `Update [${e.status}] from ${e.by}: ${e.summary}` + (e.eta ? ` ETA ${e.eta}.` : "") + (e.next_update ? ` Next update by ${e.next_update.slice(11, 16)}.` : ""),
    "investigation.started": (e) => `${e.by} investigates ${e.service}`,
    "finding": (e) => `Finding on ${e.service} (${e.by}): ${e.text}`,
    "mitigation.applied": (e) => `${e.by}: ${e.action.replace("_", " ")} of ${e.service}` + (e.effective === false ? " (no effect)" : ""),
    "incident.resolved": (e) => `Incident resolved by ${e.by}` + (e.over_firing || e.over_impact ? " (confirmed while it was not over)" : ""),
    "incident.reopened": (e) => `Incident reopened by ${e.by}: ${e.reason}`,
    "channel.message": (e) => `${e.by}: ${e.text}`,
    "task.asked": (e) => `${e.by} asks ${e.who} to ${task(e)} (${e.id})`,
    "task.done": (e) => `${e.who} has done ${e.id}`,
    "incident.stood_down": (e) => `Stood down by ${e.by}` + (e.reason ? `: ${e.reason}` : ""),
    "postmortem.scheduled": (e) => `Postmortem scheduled for ${weekday(e.date)} ${e.date}`,
    "stakeholder.asked": (e) => `${e.who} asks: ${e.question}`,
    "dashboard.viewed": (e) => `${e.by} looks at the ${e.service} dashboard`,
    "action.rejected": (e) => `Rejected (${e.do.replace("_", " ")}): ${e.reason}`,
    "drill.ended": (e) => `The drill ended (${e.reason})`,
    "fault.started": (e) => `FAULT ${e.fault} (${e.fault_kind}) starts on ${e.service}`,
    "fault.ended": (e) => `FAULT ${e.fault} ends`,
    "fault.returned": (e) => `FAULT ${e.fault} returns (band-aid wore off)`,
    "impact.started": (e) => `Customer impact begins on ${e.service}`,
    "impact.ended": (e) => `Customer impact on ${e.service} ends`,
    "notification.received": (e) => `Alertmanager notifies ${e.receiver}: ` +
      [e.firing.length ? `firing ${e.firing.join(", ")}` : "", e.resolved.length ? `resolved ${e.resolved.join(", ")}` : ""]
        .filter(Boolean).join("; "),
    "outbound.failing": (e) => `TOOLS ${e.endpoint} is failing (${e.error}): retrying`,
    "outbound.recovered": (e) => `TOOLS ${e.endpoint} answers again`,
  };
  const STYLE = { "update.posted": "update", "action.rejected": "rejected", "stakeholder.asked": "asked",
    "channel.message": "said", "task.asked": "task" };
  function task(e) {
    if (e.task === "mitigate") return `apply ${e.action.replace("_", " ")} to ${e.service}`;
    if (e.task === "investigate") return `investigate ${e.service}`;
    if (e.task === "page") return `page ${e.teams.join(", ")}`;
    return "post a status update";
  }

  // The change log up to now, newest first: deploys, config pushes, flag flips.
  function changes(id, state) {
    const rows = (state.changes || []).map((c) => el("li", {}, el("span", { class: "time" }, c.at.slice(11, 16)), " ",
      el("span", { class: "badge" }, c.kind), " ", el("strong", {}, c.service), el("div", {}, c.text)));
    fill(id, rows.length ? rows : el("li", { class: "empty" }, state.status ? "No changes recorded." : "The drill has not started yet."));
  }

  function channel(id, state, skip) {
    const list = document.getElementById(id);
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const rows = state.events.filter((e) => DESCRIBE[e.kind] && !(skip || []).includes(e.kind)).map((e) =>
      el("li", { class: STYLE[e.kind] }, el("span", { class: "time" }, e.at.slice(11, 16)), el("span", {}, DESCRIBE[e.kind](e))));
    fill(id, rows.length ? rows : el("li", { class: "empty" }, "Nothing yet."));
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // -- dashboards: small SVG line charts of a service's error rate and p99 latency --

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function line(rows, column, label, cls, format, options) {
    const W = 600, H = 120, L = 46, B = 18;
    const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
    if (!rows.length) return box;
    const t0 = rows[0][0], t1 = Math.max(rows[rows.length - 1][0], t0 + 60);
    const values = rows.map((r) => r[column]);
    const top = Math.max(...values) * 1.15 || 1;
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - 6);
    const y = (v) => H - B - (v / top) * (H - B - 8);
    for (const frac of [0, 0.5, 1]) {
      box.append(svg("line", { class: "grid", x1: L, x2: W, y1: y(top * frac / 1.15), y2: y(top * frac / 1.15) }));
      const text = svg("text", { class: "axis", x: 2, y: y(top * frac / 1.15) + 3 });
      text.textContent = format(top * frac / 1.15);
      box.append(text);
    }
    for (const t of [t0, (t0 + t1) / 2, t1]) {
      const text = svg("text", { class: "axis", x: Math.min(x(t) - 14, W - 30), y: H - 4 });
      text.textContent = clock(options, t).slice(0, 5);
      box.append(text);
    }
    box.append(svg("polyline", { class: cls, points: rows.map((r) => `${x(r[0]).toFixed(1)},${y(r[column]).toFixed(1)}`).join(" ") }));
    return box;
  }

  const percent = (v) => `${(100 * v).toFixed(v < 0.01 ? 2 : 1)}%`;
  const millis = (v) => `${Math.round(v)} ms`;

  // The metrics the charts do not draw (traffic, CPU, memory), as the person last saw them.
  function lastLook(state, service) {
    const seen = state.events.filter((e) => e.kind === "dashboard.viewed" && e.service === service && e.metrics);
    if (!seen.length || !state.me) return null;
    const e = seen[seen.length - 1], m = e.metrics;
    return el("p", { class: "look" }, `At your last look (${e.at.slice(11, 16)}): ${Math.round(m.request_rate)} requests/s, ` +
      `CPU ${Math.round(100 * m.cpu)}%, memory ${Math.round(100 * m.memory)}%`);
  }

  function charts(id, state, services) {
    const blocks = services.filter((s) => state.samples[s]).map((service) => {
      const rows = state.samples[service], last = rows[rows.length - 1];
      return el("div", { class: "chart" },
        el("h3", {}, `${service} - error rate`, el("span", { class: "now" }, `now ${percent(last[1])}`)),
        line(rows, 1, `${service} error rate`, "err", percent, state.options),
        el("h3", {}, `${service} - p99 latency`, el("span", { class: "now" }, `now ${millis(last[2])}`)),
        line(rows, 2, `${service} p99 latency`, "lat", millis, state.options), lastLook(state, service));
    });
    fill(id, blocks.length ? blocks : el("p", { class: "empty" }, "Look at a service to open its dashboard."));
  }

  // -- the incident: state, roles and the cadence clock --

  function incident(id, state) {
    const s = state.status;
    if (!s) { fill(id, el("p", { class: "empty" }, "The drill has not started yet.")); return; }
    const roles = ["ic", "comms", "ops"].map((r) => [el("dt", {}, ROLE[r]), el("dd", {}, s.roles[r] || "-")]);
    let cadence = el("span", { class: "empty" }, s.state === "none" ? "No incident declared." : "No update due.");
    if (s.next_update_due !== null && s.next_update_due !== undefined) {
      const left = s.next_update_due - s.t;
      cadence = el("span", { class: "cadence" + (left < 0 ? " overdue" : "") },
        left < 0 ? `overdue by ${duration(-left)}` : `due in ${duration(left)}`);
    }
    fill(id,
      el("dl", { class: "kv" },
        el("dt", {}, "State"), el("dd", {}, s.state === "none" ? "not declared" : s.state.replace("_", " ")),
        el("dt", {}, "Severity"), el("dd", {}, s.severity ? el("span", { class: "badge sev" }, s.severity) : "-"),
        el("dt", {}, "Service"), el("dd", {}, s.service || "-"),
        el("dt", {}, "Channel"), el("dd", {}, s.channel || "-"),
        ...roles,
        el("dt", {}, "Last update"), el("dd", {}, s.since_update === null ? "-" : `${duration(s.since_update)} ago`)),
      el("h2", { class: "gap" }, "Next status update"), cadence);
  }

  function header(state) {
    const s = state.status;
    document.getElementById("clock").textContent = s ? `${s.at.slice(11, 19)} UTC` : "--:--:--";
    const badges = [];
    if (s) {
      badges.push(el("span", { class: "badge" }, `x${s.speed}`));
      if (s.paused) badges.push(el("span", { class: "badge paused" }, "paused"));
      if (s.ended) badges.push(el("span", { class: "badge ok" }, "ended"));
    } else badges.push(el("span", { class: "badge" }, "waiting to start"));
    fill("badges", badges);
  }

  function scorecard(id, score, extra) {
    const node = document.getElementById(id);
    if (!score) { node.classList.add("hidden"); return; }
    node.classList.remove("hidden");
    const mark = (v) => (v === true ? "check-x" : v === false ? "check-o" : "check-na");
    fill(id,
      el("h2", {}, "Scorecard"),
      el("div", { class: "score" }, `${score.score.toFixed(1)} / 100`),
      el("div", { class: "two" },
        el("table", { class: "card" }, score.metrics.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))),
        el("div", {}, el("h2", {}, "On-call checklist"),
          el("ul", { class: "list" }, score.checklist.map(([k, v, why]) =>
            el("li", { class: mark(v) }, k, why ? el("div", { class: "why" }, `why: ${why}`) : null))))),
      score.duties && score.duties.length
        ? el("div", {}, el("h2", {}, "Your own duties (not part of the team's score)"),
          el("table", { class: "card" }, score.duties.map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v)))))
        : null,
      score.next_steps && score.next_steps.length
        ? el("div", { class: "next" }, el("h2", {}, "Next time"), el("ul", {}, score.next_steps.map((step) => el("li", {}, step))))
        : null,
      extra || null);
  }

  return { el, fill, post, submit, connect, clock, duration, channel, changes, charts, incident, header, scorecard, task, ROLE, pageName };
})();
