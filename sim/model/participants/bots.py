"""Simulated responders: each duty is a plain generator process driven by a behaviour profile.

Bots see only what a person would: pages, the alert list, dashboards they look at,
the incident channel and the findings of investigations. They act through the same
action API as everyone else, and a person works on one thing at a time, so someone
holding two duties is slower at both. docs/model.md describes the assumptions.
"""

import re

from ...inputs import units
from ...inputs.actions import ROLES, Action
from ..incident import found_nothing, task_words

WATCH_AFTER_MITIGATION = 180.0  # how long an engineer waits before judging a mitigation
CALM_WAIT = 900.0  # how long ops waits, after a mitigation that helped, before digging again


def oncall(drill, me, page_id):
    """The on-call engineer: acknowledge, confirm on the dashboards, assess, declare or stand down."""
    profile, incident, env = me.profile, drill.incident, drill.env
    page = next(p for p in drill.monitoring.pages if p.id == page_id)
    if not profile.reachable:
        return
    slower = profile.low_urgency_factor if page.urgency == "low" else 1.0
    # Noticing a page takes time but no effort: it does not hold up work in hand.
    yield env.timeout(profile.ack.sample(me.rng) * slower)
    if page.status == "acknowledged" or incident.state != "none":
        return
    if page.status == "triggered":
        drill.act(Action("ack", me.name))
    watching_since = env.now
    services = drill.scenario.services
    # A page from an alert without a service label (a shop-wide ratio) names no dashboard:
    # its on-call opens the customer-facing ones, where such an alert is about.
    start = [page.service] if page.service in services else drill.scenario.facing
    while incident.state == "none":
        yield drill.busy(me, profile.look.sample(me.rng), "look")
        seen = look_around(drill, me, start)
        yield drill.busy(me, profile.assess.sample(me.rng), "assess")
        if incident.state != "none":
            return
        severity = assess(drill, me, seen)
        cleared = not drill.monitoring.firing() and (page.service in services or page.status == "resolved")
        if severity is None and cleared:
            drill.act(Action("stand_down", me.name, {"reason": "The alert cleared by itself; dashboards show no customer impact"}))
            return
        in_doubt = severity is None
        if in_doubt and (drill.process.declare_when_in_doubt or env._now - watching_since >= profile.doubt_window):
            severity = _least_user_facing(drill)
        if severity is not None:
            service = page.service if page.service in services else _worst(drill, seen)
            declare(drill, me, severity, service, in_doubt)
            break
        yield env.timeout(profile.check_interval)
    if incident.state == "open":
        drill.start_loop(me.name, "ops", operations)


def declare(drill, me, severity, service, in_doubt):
    facing = drill.scenario.services[service].customer_facing
    summary = (f"Alerts on {service}; customer impact not confirmed yet" if in_doubt
               else f"{service} is degraded" + (" and customers are affected" if facing else ""))
    drill.act(Action("declare", me.name, {"severity": severity, "service": service, "summary": summary}))
    level = drill.process.level(severity)
    # A person who came to practise IC (or a plan names IC) gets it at any severity: the drill is for them.
    if (drill.process.handover_ic and level.roles) or _seated(drill, "ic"):
        commander_ = pick(drill, "ic")
        if commander_ is not None:
            drill.act(Action("assign", me.name, {"role": "ic", "who": commander_}))


def commander(drill, me):
    """The Incident Commander: staff the roles, page teams, track severity, resolve, book the postmortem."""
    profile, incident, env, process = me.profile, drill.incident, drill.env, drill.process
    calm_since = None
    saw_impact = False
    rank = process.rank
    unsure = rank(_least_user_facing(drill))
    while incident.state == "open" and incident.roles.get("ic") == me.name:
        level = process.level(incident.severity)
        if level.roles and process.handover_ic and me.person.oncall and _seated(drill, "ic") != me.name:
            # Raised into the full process: the on-call engineer hands IC over, as at declaration.
            successor = pick(drill, "ic")
            if successor is not None:
                yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
                drill.act(Action("assign", me.name, {"role": "ic", "who": successor}))
                drill.start_loop(me.name, "ops", operations)
                return
        # The roles the severity needs, and any a person came to play at whatever severity.
        roles = list(level.roles)
        for role in ("comms", "ops"):
            if role not in level.roles and _seated(drill, role):
                roles.append(role)
        for role in roles:
            if role == "ic" or incident.roles.get(role):
                continue
            who = me.name if role == "comms" and not process.dedicated_comms else pick(drill, role)
            if who is None:
                continue
            yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
            if incident.state == "open" and incident.roles.get("ic") == me.name:
                drill.act(Action("assign", me.name, {"role": role, "who": who}))
        if not incident.roles.get("comms") and incident.roles.get("ic") == me.name:
            drill.start_loop(me.name, "comms", communications)
        teams = sorted(teams_to_page(drill) - incident.teams_paged)
        if teams and incident.state == "open":
            yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
            if incident.state == "open" and incident.roles.get("ic") == me.name:
                drill.act(Action("page", me.name, {"teams": teams}))
        yield drill.busy(me, profile.look.sample(me.rng), "look")
        if incident.state != "open" or incident.roles.get("ic") != me.name:
            return
        seen = look_around(drill, me, [incident.service])
        severity = assess(drill, me, seen, snap=False)
        if severity is not None:
            saw_impact = saw_impact or rank(severity) < unsure
            if rank(severity) < rank(incident.severity):
                drill.act(Action("severity", me.name, {"severity": severity, "reason": "Impact is larger than first assessed"}))
        # any alert still firing, a shop-wide one too, says it is not over (its page is still open)
        calm = not drill.monitoring.any_firing() and all(_normal(drill, s, m) for s, m in seen.items())
        calm_since = (calm_since if calm_since is not None else env._now) if calm else None
        if calm_since is not None:
            quiet = env._now - calm_since
            if not saw_impact and not incident.mitigations and quiet >= profile.stable_for:
                drill.act(Action("stand_down", me.name, {"reason": "No customer impact; the alerts cleared by themselves"}))
                return
            if quiet >= profile.stable_for:
                # Judged calm on the dashboards: resolved as judged, whatever the guard for people says.
                drill.act(Action("resolve", me.name, {"summary": "Metrics are back at steady state", "confirm": True}))
                if process.level(incident.highest).postmortem:
                    yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
                    drill.act(Action("schedule_postmortem", me.name, {"date": postmortem_date(drill)}))
                return
        yield env.timeout(profile.check_interval)


def communications(drill, me):
    """The Communications Lead (or an IC without one): status updates at the cadence of each
    audience, the incident channel (internal) and the public status page, whichever is due first."""
    profile, incident, env, process = me.profile, drill.incident, drill.env, drill.process
    targets = {"internal": env.now, "public": env.now}  # when each audience's next update should be posted
    posted = set()
    counted, audiences = None, ()  # the level whose audiences these are (worked out again when it changes: speed)
    median, check = profile.write_update.median, profile.check_interval
    while incident.state == "open" and _writes_updates(drill, me):
        level = process.level(incident.severity)
        if level is not counted:
            for audience in sorted(posted) if counted is not None else ():
                if level.cadence(audience):  # the severity changed: the new pace counts from now, if sooner
                    shortest, longest = level.cadence(audience)
                    targets[audience] = min(targets[audience], env.now + me.rng.uniform(shortest, longest) - median)
            counted, audiences = level, [a for a in targets if level.cadence(a)]
        audience = min(audiences, key=targets.__getitem__)
        due = targets[audience] - median
        if due - env.now > 0.0:
            # Checking back now and then: a raised severity may bring the status page due sooner.
            yield from _check_back(drill, due, check)
            continue
        # The initial summary (what is broken, who is affected, severity) is quicker to write.
        effort = profile.write_update.sample(me.rng) * (0.5 if audience not in posted else 1.0)
        writing_from = env.now
        yield drill.busy(me, effort, "write")
        if incident.state != "open" or not _writes_updates(drill, me):
            break
        level = process.level(incident.severity)
        if not level.cadence(audience):
            continue
        shortest, longest = level.cadence(audience)
        last = next((u for u in reversed(incident.updates) if u["audience"] == audience), None)
        if last and last["t"] >= writing_from and not drill.people[last["by"]].bot:
            # A person posted to this audience meanwhile: theirs is this update; the next counts from it.
            targets[audience] = last["t"] + me.rng.uniform(shortest, longest) - median
            continue
        _post_update(drill, me, audience)
        posted.add(audience)
        targets[audience] = env.now + me.rng.uniform(shortest, longest) - median
        # Divided attention: each role the writer holds is another chance for the update to slip.
        held = sum(1 for who in incident.roles.values() if who == me.name)
        if me.rng.random() > profile.discipline ** held:
            targets[audience] += 0.5 * longest * me.rng.lognormvariate(0.0, 0.5)
    if incident.state == "resolved" and _writes_updates(drill, me):
        with drill.writing_last_updates():  # the drill waits for them
            for audience in sorted(posted):  # internal, then public
                yield drill.busy(me, profile.write_update.sample(me.rng), "write")
                if incident.state != "resolved":
                    break
                drill.act(Action("update", me.name, {"status": "resolved", "summary": _summary(incident),
                                                     "audience": audience}))
        if incident.state != "resolved":
            # Reopened while this was being written: it is no longer true, and the duty goes on
            # (the reopening could not start it again: this loop was still running).
            yield from communications(drill, me)


def operations(drill, me):
    """The Operations Lead (or the on-call before one is named): investigate, mitigate first."""
    profile, incident, env = me.profile, drill.incident, drill.env
    tried, exhausted = set(), set()
    while not incident.closed and incident.roles.get("ops") in (None, me.name) and not directed(drill, me):
        firing = [a.rule.service for a in drill.monitoring.firing()]
        if not firing:
            yield env.timeout(profile.check_interval)
            continue
        lead = _next_lead(drill, firing, exhausted)
        if lead is None:
            exhausted.clear()
            yield env.timeout(profile.check_interval)
            continue
        if not (yield from _dig(drill, me, lead, firing[0], tried, exhausted)):
            return


def responder(drill, me, team):
    """An engineer of a paged team: join the channel, be briefed by the IC, dig into the team's services.

    Paging more teams brings more people: each costs the IC a briefing, and each can
    investigate (and fix) their own services in parallel with the Operations Lead.
    """
    profile, incident = me.profile, drill.incident
    yield drill.unless_closed(profile.join.sample(me.rng))
    if incident.closed:
        return
    drill.log.emit("responder.joined", who=me.name, team=team)
    ic = drill.people.get(incident.roles.get("ic"))
    if ic is not None and ic is not me:
        # Briefing occupies the IC (after whatever the IC is doing) and the newcomer alike.
        yield drill.busy(ic, ic.profile.brief.sample(me.rng), "brief")
        me.free_at = max(me.free_at, ic.free_at)
    services = drill.scenario.services
    own = drill.scenario.team_services.get(team, ())
    yield drill.busy(me, profile.look.sample(me.rng), "look")
    look, by = drill.incident.look, me.name  # services of the drill: a look needs no checks
    seen = {name: look(by, name) for name in own}
    suspects = {name for name, m in seen.items() if services[name].degraded(m["error_rate"], m["latency_p99_ms"])}
    tried, exhausted = set(), set()
    while not incident.closed and not directed(drill, me):
        suspected = suspects | incident.leads
        others = set()  # plain loops: no comprehension's call, at every check
        for who, service in incident.investigating:
            if who != me.name:
                others.add(service)
        leads = [n for n in own if n in suspected and n not in exhausted and n not in others]
        if not leads:
            yield drill.until_news(profile.check_interval)  # nothing to dig into till something is learnt
            continue
        firing = [a.rule.service for a in drill.monitoring.firing()]
        if not (yield from _dig(drill, me, leads[0], firing[0] if firing else leads[0], tried, exhausted)):
            return


def _dig(drill, me, lead, symptom, tried, exhausted):
    """Investigate ``lead``; apply the mitigation a finding suggests and judge it. False: stop."""
    profile, incident, env = me.profile, drill.incident, drill.env
    # One thing at a time: an investigation starts once the work in hand is done, and work the
    # bot's other duties took on meanwhile (an IC's task, an update) is in hand too.
    while me.free_at > env.now:
        yield env.timeout(me.free_at - env.now)
    if incident.closed:
        return False
    result = drill.act(Action("investigate", me.name, {"service": lead}))
    if not result.ok:
        yield env.timeout(profile.check_interval)
        return True
    done, done_at = result.data
    me.worked["investigate"] = me.worked.get("investigate", 0.0) + done_at - env.now
    me.free_at = max(me.free_at, done_at)
    finding = yield done
    if finding is None:
        return False
    again = sum(f["service"] == finding["service"] and f["text"] == finding["text"] for f in incident.findings) > 1
    if found_nothing(finding) or again:
        exhausted.add(lead)  # nothing new to learn here
    fix = (finding["suggests"], finding["service"])
    if finding["suggests"] and fix not in tried:
        tried.add(fix)
        if directed(drill, me) or (_person_commands(drill) and not (yield from _propose(drill, me, fix))):
            return False  # the IC decides: the bot does what it is asked from now on
        before = drill.world.metrics[symptom]["error_rate"]
        if _left_to_another(incident, me, fix):
            return True
        yield drill.busy(me, profile.mitigate.sample(me.rng), "mitigate")
        if incident.closed:
            return False
        if _left_to_another(incident, me, fix):  # applied while this one got it ready
            return True
        applied = drill.act(Action("mitigate", me.name, {"action": fix[0], "service": fix[1]}))
        yield env.timeout(WATCH_AFTER_MITIGATION)
        if applied.ok and any(f["outcome"] in ("failed", "partial") for f in applied.data["faults"]):
            # It did not take, or took only in part: find out why, then apply it again.
            tried.discard(fix)
            return (yield from _dig(drill, me, lead, symptom, tried, exhausted))
        seen = look_around(drill, me, [symptom])[symptom]
        if seen["error_rate"] < 0.8 * before:
            if not _normal(drill, symptom, seen):
                # Better, not well (an easing, the first stage of a staged recovery): dig on.
                return (yield from _dig(drill, me, lead, symptom, tried, exhausted))
            yield drill.unless_closed(CALM_WAIT)
    return True


def _left_to_another(incident, me, fix) -> bool:
    """Whether someone else applied ``fix`` (mitigation, service) within the last ``CALM_WAIT``, as
    the channel shows: it is theirs to watch, judge and apply again (as long as they wait after
    one that helped), as if ``me`` had tried it."""
    since = incident.env.now - CALM_WAIT
    for m in reversed(incident.mitigations):
        if m["t"] < since:
            break
        if m["by"] != me.name and (m["action"], m["service"]) == fix:
            return True
    return False


def _check_back(drill, due, every):
    """Wait until ``due``, checking back ``every`` seconds, as the writer of the updates does, and
    come back at the first check that can find something new: the one at ``due``, the first after
    the severity or the roles changed, or at once when the incident closes.

    The checks in between find what the last one found: they are not made (speed: most of the
    writer's wake-ups were such checks), but the wake-ups left are at the very times, to the bit,
    of the checks they stand for.
    """
    env, incident = drill.env, drill.incident
    checks, t = [], env.now
    while (left := due - t) > 0.0:
        t += every if every < left else left  # noqa: FURB136 (min(left, every), without a call per check): as the clock adds a wait to the time it starts
        checks.append(t)
    yield drill.until_unless_closed(checks[-1], incident.moved)
    if env.now < checks[-1] and not incident.closed:  # the severity or the roles changed
        yield drill.until_unless_closed(next(t for t in checks if t >= env.now))


def answer(drill, me):
    """A stakeholder asked in the channel: whoever writes the updates answers with one, sooner than planned."""
    incident = drill.incident
    yield drill.busy(me, 0.5 * me.profile.write_update.sample(me.rng))
    if incident.state == "open" and _writes_updates(drill, me):
        _post_update(drill, me)


def _post_update(drill, me, audience: str = "internal") -> None:
    """Post the status update: where things stand, what is being done, when the next one comes."""
    incident = drill.incident
    shortest, _ = drill.process.level(incident.severity).cadence(audience)
    drill.act(Action("update", me.name, {"status": _status(incident), "summary": _building_on(drill, me),
                                         "next_update": drill.env.now + shortest, "audience": audience}))


def _building_on(drill, me) -> str:
    """The update's summary. After a person's update, it builds on theirs: what they said, and
    what the channel learnt since (or that nothing is new), never a generic status over it."""
    incident = drill.incident
    last = incident.updates[-1] if incident.updates else None
    if last is None or last["by"] == me.name or drill.people[last["by"]].bot:
        return _summary(incident)
    news = []  # each thing learnt once, however many found it
    for e in drill.log.events:
        if e["t"] <= last["t"]:
            continue
        if e["kind"] == "finding" and not found_nothing(e):
            news.append(f"{e['service']}: {e['text'].rstrip('.')}")
        elif e["kind"] == "mitigation.applied":
            news.append(f"{e['action'].replace('_', ' ')} applied on {e['service']}")
        elif e["kind"] == "severity.changed":
            news.append(f"severity now {e['to']}")
    news = list(dict.fromkeys(news))
    said = last["summary"].rstrip(".")
    said = said if len(said) <= 400 else said[:400].rsplit(" ", 1)[0] + " ..."
    text = (f"Following {last['by']}'s update at {drill.iso(last['t'])[11:16]} ({said}). "
            f"Since then: {'; '.join(news) if news else 'no new information'}.")
    return text if len(text) <= 2000 else text[:1996] + " ..."


ROLE_LOOPS = {"ic": commander, "comms": communications, "ops": operations}


# -- taking direction from the IC, and talking in the channel --

DECISION_WAIT = 300.0  # how long a bot waits for a person IC's call on a mitigation it proposed


def directed(drill, me) -> bool:
    """Whether the IC has given ``me`` a task: from then on ``me`` works on what is asked."""
    for task in drill.incident.tasks:  # none in most drills
        if task["who"] == me.name:
            return True
    return False


def _person_commands(drill) -> bool:
    ic = drill.people.get(drill.incident.roles.get("ic"))
    return ic is not None and not ic.bot


def _propose(drill, me, fix):
    """A person is IC: propose the mitigation and wait for their call. True: go ahead (no call
    came within ``DECISION_WAIT``); False: the IC asked for something, or the incident closed."""
    incident, env = drill.incident, drill.env
    action, service = fix
    drill.act(Action("say", me.name, {"text": (
        f"The finding on {service} suggests {action.replace('_', ' ')} of {service}. Your call, IC: "
        f"ask {me.name} mitigate {action} {service}, or ask me something else. "
        f"Without a call I apply it in {DECISION_WAIT / 60:g} min.")}))
    proposed = env.now
    yield drill.unless_closed(DECISION_WAIT)
    taken = any(t["task"] == "mitigate" and (t["action"], t["service"]) == fix and t["t"] >= proposed
                for t in incident.tasks) or any((m["action"], m["service"]) == fix and m["t"] >= proposed
                                                for m in incident.mitigations)
    if incident.state != "open" or directed(drill, me) or taken:
        return False  # the IC decided (or someone else is on it)
    drill.act(Action("say", me.name, {"text": f"No call from the IC: applying {action.replace('_', ' ')} of {service}."}))
    return True


def follow(drill, me, task_id):
    """Do what the IC asked: confirm in the channel, do it after the work in hand, report back."""
    profile, incident, env = me.profile, drill.incident, drill.env
    task = next(t for t in incident.tasks if t["id"] == task_id)
    # Noticing the request takes a moment, as a page does; the work starts once the work in hand is done.
    yield env.timeout(0.5 * profile.ack.sample(me.rng))
    if incident.state != "open" or task["done"] is not None:
        return
    later = f" (after what I am on, about {drill.iso(me.free_at)[11:16]})" if me.free_at > env.now + 60 else ""
    drill.act(Action("say", me.name, {"text": f"On it ({task_id}): {task_words(task)}{later}."}))
    yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
    if incident.state != "open" or task["done"] is not None:
        return
    kind = task["task"]
    if kind == "investigate":
        # one thing at a time: an investigation taken on since (another task's) comes first
        while me.free_at > env.now:
            yield env.timeout(me.free_at - env.now)
            if incident.state != "open" or task["done"] is not None:
                return
        result = drill.act(Action("investigate", me.name, {"service": task["service"]}))
        if not result.ok:
            drill.act(Action("say", me.name, {"text": f"Cannot {task_words(task)}: {result.reason}."}))
            return
        done, done_at = result.data
        me.worked["investigate"] = me.worked.get("investigate", 0.0) + done_at - env.now
        me.free_at = max(me.free_at, done_at)
        finding = yield done
        if finding is not None and finding["suggests"] and incident.state == "open":
            drill.act(Action("say", me.name, {"text": (
                f"{task_id} done. The finding suggests {finding['suggests'].replace('_', ' ')} of {finding['service']}; "
                f"ask me to apply it if you agree.")}))
    elif kind == "mitigate":
        symptom = incident.service if incident.service in drill.scenario.services else task["service"]
        yield drill.busy(me, profile.mitigate.sample(me.rng), "mitigate")
        if incident.state != "open":
            return
        before = drill.world.metrics[symptom]["error_rate"]
        result = drill.act(Action("mitigate", me.name, {"action": task["action"], "service": task["service"]}))
        if not result.ok:
            drill.act(Action("say", me.name, {"text": f"Cannot {task_words(task)}: {result.reason}."}))
            return
        yield drill.unless_closed(WATCH_AFTER_MITIGATION)
        if incident.state == "open":
            after = look_around(drill, me, [symptom])[symptom]["error_rate"]
            drill.act(Action("say", me.name, {"text": (
                f"{task_id} done: {task['action'].replace('_', ' ')} of {task['service']} applied at {drill.iso(env.now - WATCH_AFTER_MITIGATION)[11:16]}; "
                f"{symptom} error rate {100 * before:.1f} % then, {100 * after:.1f} % now.")}))
    elif kind == "update":
        yield drill.busy(me, profile.write_update.sample(me.rng), "write")
        if incident.state == "open" and _writes_updates(drill, me):
            _post_update(drill, me)
    else:
        yield drill.busy(me, profile.coordinate.sample(me.rng), "coordinate")
        if incident.state == "open":
            drill.act(Action("page", me.name, {"teams": list(task["teams"])}))


def addressed(drill, text: str) -> list[str]:
    """The bots a channel message speaks to: by name (``sam``, ``@sam``) or by role (``ops``)."""
    words = set(re.findall(r"[\w.-]+", text.lower()))
    named = {drill.incident.asked_of(w) for w in words if w in ROLES} | {n for n in drill.people if n.lower() in words}
    return sorted(n for n in named if n in drill.people and drill.people[n].bot)


def reply(drill, me, text):
    """A person spoke to ``me`` in the channel: answer with what ``me`` is doing and when it is due."""
    yield drill.env.timeout(0.5 * me.profile.ack.sample(me.rng))  # noticing a message, as a page
    if drill.incident.closed:
        return
    drill.act(Action("say", me.name, {"text": doing(drill, me)}))


def doing(drill, me) -> str:
    """``me``'s status in words: tasks asked of them, investigations running (with when the finding
    is due), the last mitigation they applied."""
    incident = drill.incident
    parts = [f"{t['id']} ({task_words(t)}) in hand" for t in incident.open_tasks(me.name)]
    parts += [f"investigating {service}, a finding expected around {drill.iso(due)[11:16]}"
              for (who, service), due in incident.investigating.items() if who == me.name]
    mine = [m for m in incident.mitigations if m["by"] == me.name]
    if mine:
        parts.append(f"applied {mine[-1]['action'].replace('_', ' ')} of {mine[-1]['service']} at {drill.iso(mine[-1]['t'])[11:16]}")
    status = "; ".join(parts) if parts else "nothing in hand: ask me to investigate or mitigate something"
    return f"{status[0].upper()}{status[1:]}." + ("" if mine else " No ETA for a fix yet.")


# -- what a responder judges from what they see --


def look_around(drill, me, services) -> dict:
    """Look at the dashboards of the given services and of every service with a firing alert."""
    known, names = drill.scenario.services, {}
    for name in services:
        if name in known:  # a page from an alert without a service label names none
            names[name] = None
    for alert in drill.monitoring.firing():  # each about a service of the drill
        names[alert.rule.service] = None
    look, by = drill.incident.look, me.name  # services of the drill: a look needs no checks
    for name in names:
        names[name] = look(by, name)
    return names


def assess(drill, me, seen: dict, snap: bool = True) -> str | None:
    """A severity from the dashboards and the team's knowledge of its services, or None when in doubt.

    A ``snap`` judgment (the on-call's first call) is off by one level with probability
    ``misjudge``; the IC's later re-assessments are made with more information and are not.
    """
    services = drill.scenario.services
    rank = None
    for name, m in seen.items():
        svc = services[name]
        if svc.breached(m["error_rate"], m["latency_p99_ms"]):
            level = 0 if (svc.customer_facing and svc.critical) else 1 if svc.customer_facing else 3
        elif svc.customer_facing and svc.degraded(m["error_rate"], m["latency_p99_ms"]):
            level = 2
        else:
            continue
        if rank is None or level < rank:  # min(rank, level), without a call per service
            rank = level
    if rank is None and len({a.rule.service for a in drill.monitoring.firing()}) >= 2:
        for n, m in seen.items():  # a loop, not any() of a generator: asked at every look of the IC's
            if services[n].degraded(m["error_rate"], m["latency_p99_ms"]):
                rank = 2  # several alerts for what looks like one issue
                break
    if rank is None:
        return None
    if snap and me.rng.random() < me.profile.misjudge:
        rank += me.rng.choice((-1, 1))
    levels = list(drill.process.severities)
    return levels[max(0, min(rank, len(levels) - 1))]


def _worst(drill, seen: dict) -> str:
    """The service whose dashboard looks worst: breached before degraded, customer-facing first."""
    services = drill.scenario.services

    def badness(name):
        svc, m = services[name], seen[name]
        error_rate, latency = m["error_rate"], m["latency_p99_ms"]
        return svc.breached(error_rate, latency), svc.degraded(error_rate, latency), svc.customer_facing
    return max(seen, key=badness)


def _normal(drill, name, m) -> bool:
    return not drill.scenario.services[name].degraded(m["error_rate"], m["latency_p99_ms"])


def _least_user_facing(drill) -> str:
    """The level for 'something is wrong, impact unknown': the first one without the full process."""
    process = drill.process
    return next((name for name, level in process.severities.items() if not level.roles), list(process.severities)[-1])


def pick(drill, role) -> str | None:
    """Who the team would ask to take ``role``: the first suitable person without a role."""
    incident = drill.incident
    busy = set(incident.roles.values())
    people = [p for p in drill.people.values() if p.name not in busy]
    seated = _seated(drill, role)
    if seated is not None and seated not in busy:
        return seated
    acked = [p.acked_by for p in drill.monitoring.pages if p.acked_by]
    if role == "ops" and acked and acked[0] in drill.people:
        return acked[0]
    people.sort(key=_oncall_last)
    for p in people:
        if role in p.person.trained and (role != "ic" or p.person.senior) and p.name not in acked:
            return p.name
    return None


def _oncall_last(p) -> bool:
    """Whoever is on call is needed at the pager and the keyboard: asked last."""
    return p.person.oncall is not None


def _seated(drill, role) -> str | None:
    """The person who came to play ``role`` (an IC trainee, or whom a quarter plan names), if any."""
    for p in drill.people.values():  # a loop, not next() of a generator: asked at every turn of the IC's duty
        if p.seat == role:
            return p.name
    return None


def teams_to_page(drill) -> set[str]:
    services = drill.scenario.services
    if drill.process.page_teams == "all":
        return set(drill.scenario.teams)
    incident = drill.incident
    names = {incident.service}  # plain loops: no comprehension's call, at every turn of the IC's duty
    for a in drill.monitoring.firing():
        if a.since <= incident.declared_at:
            names.add(a.rule.service)
    names |= incident.implicated
    teams = set()
    for n in names:
        teams.add(services[n].team)
    return teams


def postmortem_date(drill) -> str:
    resolved = units.at(drill.scenario.start, drill.env.now).date()
    return units.business_days_after(resolved, 3).isoformat()


def _writes_updates(drill, me) -> bool:
    roles = drill.incident.roles
    return roles.get("comms") == me.name or (not roles.get("comms") and roles.get("ic") == me.name)


def _status(incident) -> str:
    if incident.state == "resolved":
        return "resolved"
    if incident.mitigations:
        return "mitigating"
    if any(f["root_cause"] for f in incident.findings):
        return "identified"
    return "investigating"


def _summary(incident) -> str:
    known = next((f["text"].rstrip(".") for f in reversed(incident.findings) if not found_nothing(f)), None)
    doing = (f"Applied {incident.mitigations[-1]['action']} on {incident.mitigations[-1]['service']}"
             if incident.mitigations else "Investigating")
    return f"{incident.severity} on {incident.service}. Known: {known or 'symptoms only so far'}. Doing: {doing}."


def _next_lead(drill, firing, exhausted):
    services = drill.scenario.services
    pointed = [f["points_to"] for f in reversed(drill.incident.findings) if f["points_to"]]
    culprits = [f["service"] for f in reversed(drill.incident.findings) if f["suggests"] or f["root_cause"]]
    alerting = sorted(set(firing), key=lambda n: (not services[n].customer_facing, firing.index(n)))
    for name in [*culprits, *pointed, *alerting]:
        if name not in exhausted:
            return name
    return None
