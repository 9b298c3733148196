// The participant's page: what a responder sees, and a form for exactly the actions they may take now.
"use strict";

(() => {
  const { el, fill, post, submit, connect, clock, channel, changes, charts, incident, header, scorecard, ROLE, pageName } = Drill;
  const LABEL = {
    ack: "Acknowledge", declare: "Declare", severity: "Severity", assign: "Assign role", page: "Page teams",
    ask: "Ask someone", update: "Post update", say: "Say", investigate: "Investigate", mitigate: "Mitigate",
    resolve: "Resolve", reopen: "Reopen", stand_down: "Stand down", schedule_postmortem: "Postmortem",
  };
  const TASKS = ["investigate", "mitigate", "update", "page"];
  let chosen = null, formKey = "", state = null, pagesSeen = new Set();

  function fields(action, s) {
    const o = s.options;
    const open = (s.pages || []).filter((p) => p.status === "triggered").map((p) => p.id);
    return {
      ack: [["page", "select", ["", ...open], "Page (all of yours when empty)", pageName]],
      // Nothing is chosen for the person: the severity is theirs to assess.
      declare: [["severity", "select", ["", ...o.severities], "Severity (assess it from the dashboards)", null, true], ["service", "select", ["", ...o.services], "Service (the alerting one when empty)"], ["summary", "textarea"]],
      severity: [["severity", "select", o.severities.filter((v) => v !== s.status.severity)], ["reason", "text"]],
      assign: [["role", "select", o.roles, "Role", (v) => ROLE[v]], ["who", "select", o.people]],
      page: [["teams", "checks", o.teams]],
      update: [["status", "select", o.statuses], ["summary", "textarea", null, "What we know, what we are doing"], ["next_update", "minutes", null, "Next update in (minutes)"], ["eta", "text", null, "ETA (if known)"]],
      investigate: [["service", "select", o.services]],
      mitigate: [["action", "select", o.mitigations], ["service", "select", o.services]],
      ask: [["who", "select", ["", ...o.roles, ...o.people], "Who (a role or a person)", (v) => ROLE[v] ? `${v} (${s.status.roles[v] || "nobody yet"})` : v, true],
        ["task", "select", TASKS, "Task"], ["action", "select", ["", ...o.mitigations], "Mitigation (for mitigate)"],
        ["service", "select", ["", ...o.services], "Service (for investigate, mitigate)"], ["teams", "checks", o.teams, "Teams (for page)"]],
      say: [["text", "textarea", null, "Message to the channel"]],
      reopen: [["reason", "text", null, "Why (what came back)", null, true]],
      resolve: [["summary", "textarea"]],
      stand_down: [["reason", "text"]],
      schedule_postmortem: [["date", "date"]],
    }[action];
  }

  function input([name, kind, choices, label, show, required]) {
    let control;
    if (kind === "select") {
      control = el("select", { name, id: `f-${name}`, required }, choices.map((v) => el("option", { value: v }, v === "" ? (required ? "- choose -" : "-") : show ? show(v) : v)));
    } else if (kind === "checks") {
      control = el("fieldset", { class: "checks", id: `f-${name}` }, el("legend", { class: "sr-only" }, label || name),
        choices.map((v) => el("label", {}, el("input", { type: "checkbox", name, value: v }), v)));
    } else if (kind === "textarea") {
      control = el("textarea", { name, id: `f-${name}`, maxlength: 2000, required });
    } else if (kind === "minutes") {
      control = el("input", { name, id: `f-${name}`, type: "number", min: 1, max: 240, value: 15 });
    } else {
      control = el("input", { name, id: `f-${name}`, type: kind, maxlength: 2000, required });
    }
    if (kind === "checks") return [el("span", { class: "label", "aria-hidden": "true" }, label || name), control];
    return [el("label", { for: `f-${name}` }, label || name.replace("_", " ")), control];
  }

  function collect(form, action) {
    const body = { do: action };
    for (const [name, kind] of fields(action, state)) {
      if (kind === "checks") {
        const checked = [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
        if (checked.length) body[name] = checked;
        continue;
      }
      const value = form.elements[name].value.trim();
      if (value === "") continue;
      body[name] = kind === "minutes" ? clock(state.options, state.status.t + 60 * Number(value)) : value;
    }
    return body;
  }

  async function act(body) {
    const answer = await submit("act", body, LABEL[body.do] || body.do);
    if (answer.ok && body.do !== "look" && body.do !== "say") { formKey = ""; document.getElementById("action").reset(); }
    // Resolving while alerts still page or customers are still affected needs a second, knowing yes.
    if (!answer.ok && answer.data && answer.data.confirm && window.confirm(`${answer.reason}.\n\nResolve anyway?`)) {
      return act({ ...body, confirm: true });
    }
    return answer;
  }

  function renderActions(s) {
    const allowed = Object.keys(s.allowed || {}).filter((a) => a !== "look");
    if (!allowed.includes(chosen)) chosen = allowed[0] || null;
    fill("tabs", allowed.map((a) => el("button", { type: "button", "data-action": a, class: a === chosen ? "on" : "",
      "aria-pressed": a === chosen ? "true" : "false",
      onclick: () => { chosen = a; formKey = ""; renderActions(state); } }, LABEL[a])));
    const spec = chosen ? fields(chosen, s) : null;
    const key = JSON.stringify([chosen, spec && spec.map((f) => f[2])]);
    if (key === formKey) return;
    formKey = key;
    const form = document.getElementById("action");
    if (!chosen) { fill("action", el("p", { class: "empty" }, s.phase === "ended" ? "The drill has ended." : "No action open to you right now.")); return; }
    const button = el("button", { type: "submit", class: "primary" }, LABEL[chosen]);
    fill("action", spec.map(input), el("div", { class: "row" }, button));
    form.onsubmit = (event) => { event.preventDefault(); act(collect(form, chosen)); };
  }

  function render(s) {
    state = s;
    const named = s.me && s.me.name;
    document.getElementById("join").classList.toggle("hidden", !!named);
    document.getElementById("main").classList.toggle("hidden", !named);
    if (!named) return;
    header(s);
    const roles = s.status ? Object.entries(s.status.roles).filter(([, who]) => who === s.me.name).map(([r]) => ROLE[r]) : [];
    document.getElementById("who").textContent = `${s.me.name} - ${s.me.seat === "joiner" ? "joined" : ["primary", "secondary"].includes(s.me.seat) ? s.me.seat + " on-call" : "seated for " + (ROLE[s.me.seat] || s.me.seat)}` +
      (roles.length ? ` - ${roles.join(", ")}` : "");
    fill("pages", (s.pages || []).length ? s.pages.map((p) => el("li", { class: `page ${p.status}` },
      el("strong", {}, `${pageName(p.id)} `), `${p.summary} `, el("span", { class: "badge" }, `${p.urgency} urgency`), " ",
      p.status === "triggered" ? el("button", { type: "button", "data-page": p.id, onclick: () => act({ do: "ack", page: p.id }) }, "Acknowledge")
        : el("span", { class: "empty" }, p.acked_by ? `acknowledged by ${p.acked_by}` : p.status),
      (p.runbooks || []).map((url) => el("div", {}, el("a", { href: url, target: "_blank", rel: "noreferrer" }, `Runbook: ${url}`)))))
      : el("li", { class: "empty" }, "No pages."));
    announce(s);
    fill("tasks", (s.tasks || []).length ? s.tasks.map((t) => el("li", { class: "page triggered" },
      el("strong", {}, `${t.id} `), `${t.by} asks you to ${Drill.task(t)}`))
      : el("li", { class: "empty" }, "Nothing asked of you."));
    fill("alerts", (s.alerts || []).length ? s.alerts.map((a) => el("li", {},
      el("span", { class: `alert-sev ${a.severity}` }, a.severity), el("strong", {}, a.alert), el("br"),
      a.summary, el("span", { class: "empty" }, ` since ${clock(s.options, a.since).slice(0, 5)}`),
      a.runbook_url ? el("div", {}, el("a", { href: a.runbook_url, target: "_blank", rel: "noreferrer" }, "Runbook link")) : null,
      a.runbook ? el("details", {}, el("summary", {}, "Read the runbook"), el("pre", { class: "runbook" }, a.runbook)) : null))
      : el("li", { class: "empty" }, "No alert is firing."));
    changes("changes", s);
    document.getElementById("say-form").classList.toggle("hidden", !(s.allowed || {}).say);
    incident("incident", s);
    const watching = Object.keys(s.samples);
    fill("services", s.options.services.map((service) => el("button", { type: "button", "data-service": service,
      class: watching.includes(service) ? "on" : "", disabled: !s.status || s.phase === "ended",
      onclick: () => act({ do: "look", service }) }, service)));
    charts("charts", s, watching);
    channel("channel", s);
    if (s.status) renderActions(s);
    else fill("action", el("p", { class: "empty" }, "Waiting for the facilitator to start the drill."));
    scorecard("scorecard", s.score);
  }

  // A new page for this person: the tab title says so, and (if they asked for it) a short tone.
  function announce(s) {
    const open = (s.pages || []).filter((p) => p.status === "triggered");
    document.title = open.length ? `(${open.length}) PAGE - Live drill` : "Live drill";
    const fresh = open.filter((p) => !pagesSeen.has(p.id));
    fresh.forEach((p) => pagesSeen.add(p.id));
    if (fresh.length && document.getElementById("sound").checked) beep();
  }

  function beep() {
    try {
      const audio = new AudioContext(), tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880; gain.gain.value = 0.1;
      tone.connect(gain).connect(audio.destination);
      tone.start(); tone.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio: the title still says it */ }
  }

  document.getElementById("say-form").onsubmit = async (event) => {
    event.preventDefault();
    const text = document.getElementById("say-text");
    if ((await act({ do: "say", text: text.value })).ok) text.value = "";
  };
  document.getElementById("join-form").onsubmit = async (event) => {
    event.preventDefault();
    const answer = await post("join", { name: document.getElementById("join-name").value });
    document.getElementById("join-message").className = "message " + (answer.ok ? "good" : "bad");
    document.getElementById("join-message").textContent = answer.ok ? "Joined." : answer.reason;
  };
  connect(render);
})();
