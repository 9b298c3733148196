"""The drill server: a small ASGI app (Starlette) over a ``Room``, run by uvicorn.

Every URL carries a secret token in its path: ``/f/<token>/`` is the facilitator's,
``/p/<token>/`` a participant's; the page, its assets, its API (``api/...``) and its
stream of updates (server-sent events, ``api/stream``) all live under it. A request
without a valid token gets 403 and nothing else; a state-changing one (``POST``) must also
be within its link's rate, come from no other site and carry a JSON object of valid text,
no larger than ``MAX_BODY`` (docs/security.md). Handlers run on the event loop, one at
a time, so the drill is never touched by two requests at once; an accepted input is
journaled and synced to disk by the ``LiveDrill`` before the handler answers.

With the team's real tools (``sim.live.tools``), the server also answers ``/metrics``
(the simulated world for a real Prometheus, no token: it shows what any responder's
dashboards show) and two webhooks under the secret ``/w/<token>/``: ``alertmanager``
(Alertmanager's webhook, version 4) and ``pagerduty`` (PagerDuty's v3 webhooks).
"""

import asyncio
import contextlib
import functools
import hmac
import io
import json
import logging
import math
import zipfile
from importlib import resources
from time import monotonic

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from ...inputs.errors import DrillError
from ...model.incident import Result
from .. import webhooks
from ..commands import level
from ..metrics import CONTENT_TYPE
from ..tools import Tools
from . import BURST, RATE
from .room import OUTPUTS, Room

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024  # bytes: the longest action (a 2,000-character update) fits with room to spare
MAX_WEBHOOK = 1024 * 1024  # bytes: an Alertmanager notification of a large group
TICK = 0.25  # wall seconds between advances of the clock (and pushes to the pages)
KEEPALIVE = 15.0
STREAMS_PER_LINK = 4  # open pages per link (a person with a tab or two): more would only tie up the server
STATIC = resources.files("sim.live.web") / "static"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
# Only these files are served, by exact name: nothing outside the folder can be asked for.
ASSETS = {f.name: f for f in STATIC.iterdir() if f.is_file() and not f.name.startswith(".")}
PAGES = {"f": "facilitator.html", "p": "participant.html"}
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"referrer-policy", b"no-referrer"),  # the token is in the URL: never pass it on
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
]


class Refused(Exception):
    def __init__(self, status: int, reason: str, headers: dict | None = None):
        self.status, self.reason, self.headers = status, reason, headers


class RateLimit:
    """A token bucket per link: ``rate`` requests a second, ``rate * BURST`` at most at once."""

    def __init__(self, rate: float):
        self.rate, self.capacity = rate, rate * BURST
        self.buckets: dict[str, tuple[float, float]] = {}  # link -> (tokens, when counted)

    def wait(self, link: str) -> float:
        """Take one request for ``link``: 0 when it may go ahead, else the seconds until it may."""
        now = monotonic()
        tokens, then = self.buckets.get(link, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < 1:
            self.buckets[link] = (tokens, now)
            return (1 - tokens) / self.rate
        self.buckets[link] = (tokens - 1, now)
        return 0.0


class Hub:
    """Wakes every open stream, at most once a tick, when something changed: a burst of
    actions costs each page one update, not one per action."""

    def __init__(self):
        self._changed = asyncio.Event()
        self.dirty = False

    def notify(self) -> None:
        self.dirty = True

    def wake(self) -> None:
        if self.dirty:
            self.dirty = False
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)


class GroupCommit:
    """Answers an input only once it is on disk, with one sync for every input that arrived
    while the previous sync ran: syncing is the slow part, and it does not block the loop."""

    def __init__(self, room: Room):
        self.room, self.appended, self.synced = room, 0, 0
        self.lock = asyncio.Lock()  # fair: waiters are served in arrival order

    async def durable(self) -> None:
        self.appended += 1
        ticket = self.appended
        async with self.lock:
            if self.synced >= ticket or self.room.live is None:
                return
            upto = self.appended
            await anyio.to_thread.run_sync(self.room.live.sync)
            self.synced = upto


def create_app(room: Room, rate: float = RATE, tools: Tools | None = None) -> Starlette:
    """The ASGI app serving ``room``; each link may send ``rate`` state-changing requests a second;
    ``tools``: the team's real tools the drill is wired to (none by default)."""
    hub, commit, limit = Hub(), GroupCommit(room), RateLimit(rate)
    tools = tools or Tools(room.folder)
    streams: dict[str, int] = {}  # open update streams per link

    def viewer(request: Request) -> dict:
        who = room.who(request.path_params["token"])
        kind = request.url.path[1]
        if who is None or (kind == "f") != bool(who.get("facilitator")):
            raise Refused(403, "unknown or invalid link")
        return who

    async def body(request: Request, most: int = MAX_BODY, signed=None) -> dict:
        """The JSON object a state-changing request carries, from a link ``viewer`` accepted;
        ``signed(raw, headers)`` may refuse the raw bytes (a webhook's signature) with a DrillError."""
        wait = limit.wait(request.path_params["token"])
        if wait:
            raise Refused(429, f"too many requests from this link: at most {limit.rate:g} a second",
                          {"retry-after": str(math.ceil(wait))})
        # Sent by browsers; compared by host alone, as a TLS proxy in front changes the scheme.
        origin = request.headers.get("origin")
        if origin is not None and origin.partition("://")[2] != request.headers.get("host"):
            raise Refused(403, f"a request from another site ({origin[:100]}) is refused")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise Refused(415, "the request body must be JSON, sent as content-type application/json")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > most):
            raise Refused(413, f"request body larger than {most} bytes")
        data = b""
        try:
            async for chunk in request.stream():
                data += chunk
                if len(data) > most:
                    raise Refused(413, f"request body larger than {most} bytes")
        except ClientDisconnect:
            raise Refused(400, "the client hung up before sending the whole body") from None
        if signed is not None:
            try:
                signed(data, request.headers)
            except DrillError as exc:
                raise Refused(401, str(exc)) from None
        try:
            parsed = json.loads(data or b"{}")
        except (ValueError, RecursionError):  # not JSON, not UTF-8, a number too long, nested too deep
            raise Refused(400, "the request body is not JSON") from None
        if not isinstance(parsed, dict):
            raise Refused(400, "the request body must be a JSON object")
        try:  # JSON's \u escapes can spell half a character, which no page or file can hold
            json.dumps(parsed, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Refused(400, "the request body holds text that is not valid Unicode (a lone surrogate)") from None
        return parsed

    async def answer(result) -> JSONResponse:
        await commit.durable()
        hub.notify()
        data = result.data if isinstance(result.data, (dict, str)) else None
        return JSONResponse({"ok": result.ok, "reason": result.reason, "data": data}, status_code=200 if result.ok else 422)

    def endpoint(function):
        async def handle(request: Request):
            try:
                return await function(request)
            except Refused as exc:
                return JSONResponse({"ok": False, "reason": exc.reason}, status_code=exc.status, headers=exc.headers)
            except DrillError as exc:
                return JSONResponse({"ok": False, "reason": str(exc)}, status_code=422)
            except Exception as exc:  # noqa: BLE001 - a bug in one handler must not take the connection or the drill
                # Left to Starlette, it answers a bare 500 and uvicorn drops the connection. The
                # message stays in the log: it may quote what a participant must not see.
                log.exception("%s .../%s failed", request.method, request.url.path.split("/", 3)[-1])  # not the token
                # what it journaled before it failed is on disk before the answer, as for any answer
                with contextlib.suppress(Exception):
                    await commit.durable()
                return JSONResponse({"ok": False, "reason": f"internal error: {type(exc).__name__} (the drill is kept; "
                                     "see the server's log)"}, status_code=500)
        return handle

    # -- pages and their files --

    @endpoint
    async def page(request):
        viewer(request)
        if not request.url.path.endswith("/"):
            return RedirectResponse(request.url.path + "/")
        return _file(PAGES[request.url.path[1]])

    @endpoint
    async def asset(request):
        viewer(request)
        name = request.path_params["name"]
        if name not in ASSETS or name in PAGES.values():
            raise Refused(404, "no such file")
        return _file(name)

    # -- what everyone sees --

    def seen(who: dict, cursor=None) -> tuple[dict, dict]:
        """``room.view``, and for the facilitator the real tools' health."""
        payload, cursor = room.view(who, cursor)
        if who.get("facilitator"):
            payload["tools"] = tools_view()
        return payload, cursor

    @endpoint
    async def state(request):
        return JSONResponse(seen(viewer(request))[0])

    @endpoint
    async def stream(request):
        who, token = viewer(request), request.path_params["token"]
        if streams.get(token, 0) >= STREAMS_PER_LINK:
            raise Refused(429, f"this link already has {STREAMS_PER_LINK} pages open: close one")
        streams[token] = streams.get(token, 0) + 1
        room.connected(token, +1)

        async def updates():
            cursor = None
            try:
                while room.who(token) is not None:  # a revoked link's open pages stop here
                    payload, cursor = seen(who, cursor)
                    yield f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"
                    await hub.wait(KEEPALIVE)
            finally:
                streams[token] -= 1
                room.connected(token, -1)
                hub.notify()  # the facilitator sees who left
        hub.notify()  # ... and who came

        return StreamingResponse(updates(), media_type="text/event-stream")

    # -- participants --

    @endpoint
    async def join(request):
        seat = viewer(request)
        return await answer(room.join(seat, (await body(request)).get("name")))

    @endpoint
    async def act(request):
        seat = viewer(request)
        action = await body(request)
        if room.live is None:
            raise Refused(409, "the drill has not started yet")
        if not seat["name"] or seat["name"] not in room.live.drill.people:
            raise Refused(409, "join the drill first")
        action.pop("at", None)  # the server's clock says when
        action["by"] = seat["name"]  # who acts is the link's owner, whatever the body says
        if isinstance(action.get("severity"), str):  # a level as the console takes it: p1 is P1
            action["severity"] = level(action["severity"], room.process.severities)
        room.acted(request.path_params["token"], room.live.now)
        return await answer(room.live.act(action))

    # -- the facilitator --

    def control(function=None, *, before_start=False):
        """A facilitator's control; only ``before_start`` ones work while the room is set up."""
        if function is None:
            return functools.partial(control, before_start=before_start)

        async def handle(request):
            viewer(request)
            data = await body(request)
            if not before_start and room.live is None:
                raise Refused(409, "the drill has not started yet")
            return await answer(function(data))
        return endpoint(handle)

    def done(value=None):
        return Result(True, data=value)

    @control(before_start=True)
    def seat(data):
        entry = room.add_seat(data.get("seat", "joiner"), data.get("name") or None)
        return done({"token": entry["token"]})

    @control(before_start=True)
    def revoke(data):
        return done({"token": room.revoke(data.get("token"))["token"]})

    @control(before_start=True)
    def bots(data):
        if not isinstance(data.get("on"), bool):  # else "yes" (or a typo'd key) quietly meant no bots
            raise Refused(400, "on must be true or false")
        room.set_bots(data["on"])
        return done()

    @control(before_start=True)
    def start(data):
        room.start()
        tools.attach(room.live)
        return done()

    @control
    def pause(data):
        room.live.pause()
        return done()

    @control
    def resume(data):
        room.live.resume()
        return done()

    @control
    def speed(data):
        value = data.get("speed")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise Refused(400, "speed must be a number")
        room.live.set_speed(value)
        return done()

    @control
    def inject(data):
        return room.live.inject(data.get("kind"), data.get("service"))

    @control
    def ask(data):
        return room.live.ask(data.get("who"), data.get("question"))

    @control
    def end(data):
        room.live.end("ended by the facilitator")
        return done()

    @endpoint
    async def download(request):
        viewer(request)
        if room.card is None or not all((room.folder / name).exists() for name in OUTPUTS):
            raise Refused(409, "the report is written when the drill has ended")
        if request.url.path.endswith(".md"):
            return Response((room.folder / "report.md").read_bytes(), media_type="text/markdown; charset=utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in OUTPUTS:
                archive.write(room.folder / name, name)
        return Response(buffer.getvalue(), media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{room.scenario.name}-drill.zip"'})

    # -- the team's real tools --

    def tools_view() -> dict:
        return {"endpoints": tools.health(), "metrics": tools.metrics,
                "pages_from": room.state.get("extra", {}).get("pages", "drill")}

    async def metrics(request):
        exposition = tools.exporter.exposition() if tools.exporter else b""
        return Response(exposition, media_type=CONTENT_TYPE)

    def webhook(read, deliver, signed=None):
        """An inbound webhook: its token checked (and its signature by ``signed``), its body read by
        ``read``, handed to ``deliver``."""
        @endpoint
        async def handle(request: Request):
            if not hmac.compare_digest(request.path_params["token"].encode(), tools.token.encode()):
                raise Refused(403, "unknown or invalid link")
            data = await body(request, MAX_WEBHOOK, signed)
            try:
                parsed = read(data)
            except DrillError as exc:
                raise Refused(400, str(exc)) from None
            if room.live is None:
                raise Refused(503, "the drill has not started yet", {"retry-after": "5"})
            result = deliver(parsed)
            await commit.durable()
            hub.notify()
            return JSONResponse({"ok": result.ok, "reason": result.reason}, status_code=200 if result.ok else 409)
        return handle

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if room.live is not None:  # resumed: what the replay logged was sent before
            tools.attach(room.live)
        card = room.tick()
        if card is not None:  # resumed after the end: the outputs may not have been written
            room.finish(card)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_ticking, room, hub)
            yield
            tasks.cancel_scope.cancel()
        tools.close()

    routes = []
    for name, function in (("state", state), ("stream", stream)):
        routes += [Route(f"/{kind}/{{token:str}}/api/{name}", function, methods=["GET"]) for kind in PAGES]
    routes += [Route(f"/p/{{token:str}}/api/{name}", function, methods=["POST"]) for name, function in
               (("join", join), ("act", act))]
    controls = {"seat": seat, "revoke": revoke, "bots": bots, "start": start, "pause": pause, "resume": resume, "speed": speed,
                "inject": inject, "ask": ask, "end": end}
    routes += [Route(f"/f/{{token:str}}/api/{name}", function, methods=["POST"]) for name, function in controls.items()]
    routes += [Route(f"/f/{{token:str}}/api/report.{suffix}", download, methods=["GET"]) for suffix in ("md", "zip")]
    routes += [Route(f"/{kind}/{{token:str}}", page, methods=["GET"]) for kind in PAGES]
    routes += [Route(f"/{kind}/{{token:str}}/", page, methods=["GET"]) for kind in PAGES]
    routes += [Route(f"/{kind}/{{token:str}}/{{name:str}}", asset, methods=["GET"]) for kind in PAGES]
    inbound = {"alertmanager": webhook(webhooks.alertmanager_notification, lambda n: room.live.notified(n)),
               "pagerduty": webhook(webhooks.pagerduty_event, tools.pagerduty, tools.pagerduty_signed)}
    routes += [Route(f"/w/{{token:str}}/{name}", function, methods=["POST"]) for name, function in inbound.items()]
    if tools.metrics:
        routes.append(Route("/metrics", metrics, methods=["GET"]))
    return _secured(Starlette(routes=routes, lifespan=lifespan))


async def _ticking(room: Room, hub: Hub) -> None:
    while True:
        await asyncio.sleep(TICK)
        live = room.live
        if live is not None and room.card is None and (live.ended or not live.env.paused):
            card = room.tick()
            if card is not None:
                await anyio.to_thread.run_sync(room.finish, card)
            hub.notify()
        hub.wake()


def _file(name: str) -> Response:
    path = ASSETS[name]
    return Response(path.read_bytes(), media_type=_TYPES.get("." + name.rsplit(".", 1)[-1], "application/octet-stream"))


def _secured(app):
    """Every response carries headers that keep the page self-contained and the token private."""
    async def wrapped(scope, receive, send):
        async def sending(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)
        await app(scope, receive, sending)
    return wrapped


def serve(room: Room, host: str, port: int, rate: float = RATE, tools: Tools | None = None) -> None:
    """Run the server until interrupted."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(create_app(room, rate, tools), host=host, port=port, log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=2))
    server.run()
