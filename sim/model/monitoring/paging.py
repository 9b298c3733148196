"""Pages, as PagerDuty handles them: trigger, deduplicate, escalate when not acknowledged, resolve."""

from dataclasses import dataclass

from ...inputs.config import Monitoring as MonitoringConfig


@dataclass
class Page:
    id: str
    key: str
    summary: str
    service: str
    urgency: str
    cause: list
    to: str
    level: int = 0
    status: str = "triggered"  # triggered | acknowledged | resolved
    acked_by: str | None = None


class Pager:
    """The drill's pages, each escalating along the on-call levels until acknowledged."""

    def __init__(self, env, log, config: MonitoringConfig, oncall: list[str]):
        self.env, self.log, self.config = env, log, config
        self.oncall = oncall  # escalation levels: primary, then secondary
        self.pages: list[Page] = []

    def open_page(self, key: str) -> Page | None:
        return next((p for p in self.pages if p.key == key and p.status != "resolved"), None)

    def trigger(self, key, summary, service, urgency, cause) -> None:
        page = self.open_page(key)
        if page is not None:
            page.summary = summary  # deduplicated: the open page is updated, not re-sent
            if urgency == "high" and page.urgency == "low" and page.status == "triggered":
                page.urgency = "high"
                self.log.emit("page.urgency_raised", page=page.id, to=page.to, summary=summary)
                self._start_escalation(page)
            return
        page = Page(f"P{len(self.pages) + 1}", key, summary, service, urgency, cause, self.oncall[0])
        self.pages.append(page)
        self.log.emit("page.sent", page=page.id, to=page.to, level=0, urgency=urgency, summary=summary,
                      service=service, cause=cause)
        if urgency == "high":
            self._start_escalation(page)

    def _start_escalation(self, page: Page) -> None:
        if len(self.oncall) > 1:
            self.env.process(self._escalate(page))

    def _escalate(self, page: Page):
        for level, person in enumerate(self.oncall[1:], start=1):
            yield self.env.timeout(self.config.escalation_timeout)
            if page.status != "triggered":
                return
            self.log.emit("page.escalated", page=page.id, **{"from": page.to}, to=person, level=level)
            page.to, page.level = person, level

    def resolve(self, key: str) -> None:
        page = self.open_page(key)
        if page is not None:
            page.status = "resolved"
            self.log.emit("page.resolved", page=page.id)

    def pages_for(self, person: str) -> list[Page]:
        """Open pages that have reached ``person`` (the current target or an earlier level)."""
        levels = self.oncall
        rank = levels.index(person) if person in levels else None
        return [p for p in self.pages if p.status == "triggered" and rank is not None and rank <= p.level]

    def acknowledge(self, page: Page, by: str) -> None:
        page.status, page.acked_by = "acknowledged", by
        self.log.emit("page.acked", page=page.id, by=by)
