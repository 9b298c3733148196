// The facilitator's page: set up the room, run the clock, inject trouble, see the truth, get the report.
"use strict";

(() => {
  const { el, fill, submit, connect, clock, channel, changes, charts, incident, header, scorecard, duration } = Drill;
  let state = null, kinds = "", asked = "";

  const control = (path, body) => submit(path, body, path);

  function link(token) {
    return `${location.origin}/p/${token}/`;
  }

  function render(s) {
    state = s;
    header(s);
    document.getElementById("title").textContent = `${s.scenario.title} (${s.scenario.name})`;
    const setup = s.phase === "setup";
    fill("seats", s.room.seats.length ? s.room.seats.map((seat) => el("li", {},
      el("strong", {}, seat.name || "(name given on joining)"), ` - ${seat.seat} `, presence(seat, s),
      el("div", { class: "link" }, link(seat.token)),
      el("div", { class: "row" },
        el("button", { type: "button", "data-copy": seat.token, onclick: () => copy(seat.token) }, "Copy link"),
        el("button", { type: "button", "data-revoke": seat.token, onclick: () => revoke(seat) }, "New link (revoke this one)"))))
      : el("li", { class: "empty" }, "No seats yet: bots take every role."));
    document.getElementById("setup-row").classList.toggle("hidden", !setup);
    document.getElementById("bots").checked = s.room.bots;
    const speed = document.getElementById("speed");
    if (document.activeElement !== speed) speed.value = s.status ? s.status.speed : s.room.speed;
    for (const option of document.querySelectorAll("#seat-kind option")) option.disabled = !setup && option.value !== "joiner";
    if (!setup && document.getElementById("seat-kind").value !== "joiner") document.getElementById("seat-kind").value = "joiner";
    const key = JSON.stringify([s.room.fault_kinds, s.options.services]);
    if (key !== kinds) {
      kinds = key;
      fill("inject-kind", s.room.fault_kinds.map((k) => el("option", { value: k }, k)));
      fill("inject-service", s.options.services.map((k) => el("option", { value: k }, k)));
    }
    const questions = JSON.stringify(s.room.questions);
    if (questions !== asked) {
      asked = questions;
      fill("ask-pick", s.room.questions.map((q, i) => el("option", { value: i }, `${q.who}: ${q.question}`)));
      pick(0);
    }
    changes("changes", s);
    const t = s.scenario.truth;
    fill("truth", el("dl", { class: "kv" },
      el("dt", {}, "Expected severity"), el("dd", {}, t.severity || "-"),
      el("dt", {}, "Root cause"), el("dd", {}, t.root_cause || "-"),
      el("dt", {}, "Teams needed"), el("dd", {}, t.teams_needed.join(", ") || "-"),
      el("dt", {}, "False alarm"), el("dd", {}, t.false_alarm ? "yes" : "no")),
      el("h2", { class: "gap" }, "Faults"),
      el("ul", { class: "list" }, s.scenario.faults.map((f) => el("li", {},
        el("strong", {}, f.id), ` ${f.kind} on ${f.service} at ${clock(s.options, f.at).slice(0, 5)}`,
        f.duration ? ` for ${duration(f.duration)}` : "", ` - fixed by ${f.fixes.join(", ") || "nothing (eases only)"}`,
        f.outcome ? el("span", { class: "badge" }, f.outcome) : null))));
    incident("incident", s);
    fill("alerts", (s.alerts || []).length ? s.alerts.map((a) => el("li", {},
      el("span", { class: `alert-sev ${a.severity}` }, a.state), el("strong", {}, a.alert), ` ${a.summary}`,
      el("span", { class: "empty" }, ` cause: ${a.cause.join(", ")}`))) : el("li", { class: "empty" }, "No alert pending or firing."));
    charts("charts", s, s.options.services);
    channel("channel", s, ["dashboard.viewed", "alert.pending"]);
    const downloads = s.score ? el("div", { class: "row" },
      el("a", { href: "api/report.md", download: "report.md" }, el("button", { type: "button" }, "Download report.md")), " ",
      el("a", { href: "api/report.zip" }, el("button", { type: "button", class: "primary" }, "Download all outputs (zip)"))) : null;
    scorecard("scorecard", s.score, [downloads, s.score ? debrief(s.score) : null]);
    tools(s.tools);
  }

  // Who is here: opened their link, has a page open now, last acted when (simulated time).
  function presence(seat, s) {
    const state = seat.online ? ["online", "ok"] : seat.opened ? ["away", "paused"] : ["not opened yet", ""];
    return el("span", {}, el("span", { class: `badge ${state[1]}` }, state[0]),
      seat.acted !== null && seat.acted !== undefined ? el("span", { class: "empty" }, ` last acted ${clock(s.options, seat.acted).slice(0, 5)}`) : null);
  }

  async function copy(token) {
    const message = document.getElementById("message");
    try {
      await navigator.clipboard.writeText(link(token));
      message.className = "message good"; message.textContent = "Link copied";
    } catch (e) {
      message.className = "message bad"; message.textContent = "Copy blocked by the browser: select the link and copy it";
    }
  }

  function revoke(seat) {
    if (confirm(`Give ${seat.name || "this seat"} a new link? The old one stops working at once.`)) control("revoke", { token: seat.token });
  }

  function pick(index) {
    const q = state.room.questions[index];
    if (!q) return;
    document.getElementById("ask-pick").value = String(index);
    document.getElementById("ask-who").value = q.who;
    document.getElementById("ask-question").value = q.question;
  }

  // The debrief to project: the timeline beside the truth, and each person's next steps.
  function debrief(score) {
    if (!score.debrief) return null;
    return el("div", { class: "debrief" }, el("h2", { class: "gap" }, "Debrief: what happened beside the truth"),
      el("table", { class: "card debrief" }, el("tr", {}, el("th", {}, "When"), el("th", {}, "What the team saw and did"), el("th", {}, "Truth")),
        score.debrief.map(([when, what, why]) => el("tr", {}, el("td", {}, when), el("td", {}, what), el("td", {}, why)))),
      Object.entries(score.people || {}).map(([name, steps]) => el("div", {}, el("h2", { class: "gap" }, `${name}: next time`),
        el("ul", {}, steps.map((step) => el("li", {}, step))))));
  }

  // The team's real tools: each endpoint's health, and a warning while one fails (the drill goes on).
  function tools(t) {
    const endpoints = Object.entries((t && t.endpoints) || {});
    const shown = endpoints.length || (t && (t.metrics || t.pages_from !== "drill"));
    document.getElementById("tools-panel").classList.toggle("hidden", !shown);
    if (!shown) return;
    const failing = endpoints.filter(([, e]) => !e.ok);
    const warning = document.getElementById("tools-warning");
    warning.classList.toggle("hidden", !failing.length);
    warning.textContent = failing.map(([name, e]) =>
      `${name} is failing (${e.last_error}): retrying with backoff; the drill goes on.`).join(" ");
    fill("tools",
      endpoints.map(([name, e]) => el("li", {},
        el("span", { class: `badge ${e.ok ? "ok" : "failing"}` }, e.ok ? "ok" : "failing"), " ",
        el("strong", {}, name), ` ${e.url} - ${e.sent} sent, ${e.pending} waiting, ${e.failed} given up`)),
      t.metrics ? el("li", {}, el("strong", {}, "metrics"), " /metrics for Prometheus") : null,
      t.pages_from !== "drill" ? el("li", {}, el("strong", {}, "pages"), ` from ${t.pages_from} (webhook)`) : null);
  }

  document.getElementById("seat-form").onsubmit = (event) => {
    event.preventDefault();
    control("seat", { seat: document.getElementById("seat-kind").value, name: document.getElementById("seat-name").value.trim() });
    document.getElementById("seat-name").value = "";
  };
  document.getElementById("bots").onchange = (event) => control("bots", { on: event.target.checked });
  document.getElementById("start").onclick = () => control("start");
  document.getElementById("pause").onclick = () => control("pause");
  document.getElementById("resume").onclick = () => control("resume");
  document.getElementById("set-speed").onclick = () => control("speed", { speed: Number(document.getElementById("speed").value) });
  document.getElementById("end").onclick = () => { if (confirm("End the drill now?")) control("end"); };
  document.getElementById("inject-form").onsubmit = (event) => {
    event.preventDefault();
    control("inject", { kind: document.getElementById("inject-kind").value, service: document.getElementById("inject-service").value });
  };
  document.getElementById("ask-pick").onchange = (event) => pick(Number(event.target.value));
  document.getElementById("ask-form").onsubmit = (event) => {
    event.preventDefault();
    control("ask", { who: document.getElementById("ask-who").value, question: document.getElementById("ask-question").value });
  };
  connect(render);
})();
