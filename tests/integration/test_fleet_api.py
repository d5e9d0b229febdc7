"""The machine API over real HTTP: uvicorn on a free loopback port, httpx as the client."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select, update

from core.api.app import create_app
from core.api.ratelimit import TokenBucketLimiter
from core.api.webhooks import sign
from core.auth.roles import User
from core.config import load_settings
from core.errors import PermissionDenied
from core.fleet import devices, service_accounts
from core.fleet.models import DeviceRow, HeartbeatRow
from core.fleet.tokens import TokenHasher
from core.secrets_box import new_key
from core.services import Services, open_services
from core.store.models import utcnow

SYSTEM = User.system()
WEBHOOK_SECRET = "per-workflow-secret-0123456789"


@dataclass
class FakeReceiver:
    """The workflow engine's side of webhooks: one workflow and its secret, runs recorded."""

    runs: list[tuple[str, dict, str | None]] = field(default_factory=list)

    def trigger(self, workflow: str, secret: str, payload: dict, key: str | None) -> str:
        if (workflow, secret) != ("restock", WEBHOOK_SECRET):
            raise PermissionDenied("The webhook token is not valid for this workflow.")
        self.runs.append((workflow, payload, key))
        return f"run-{len(self.runs)}"


@dataclass
class Api:
    url: str
    services: Services
    receiver: FakeReceiver
    hasher: TokenHasher

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)

    def new_device(self, name: str = "pi-1", **spec) -> str:
        """Register and enrol a device; returns its credential."""
        enrolment = devices.add_device(
            self.services.store,
            self.hasher,
            SYSTEM,
            devices.DeviceSpec(name, "raspberry-pi", **spec),
        )
        with self.client() as c:
            answer = c.post("/v1/devices/enrol", json={"token": enrolment.token, "arch": "arm64"})
        assert answer.status_code == 201, answer.text
        return answer.json()["credential"]


def serve(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def start_api(beacon_home, monkeypatch) -> Iterator[Callable[..., Api]]:
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(
        *, limiter: TokenBucketLimiter | None = None, receiver: object = "fake", **env: str
    ) -> Api:
        monkeypatch.setenv("BEACON_SECRET_KEY", new_key())
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        services = open_services(load_settings())
        receiver = FakeReceiver() if receiver == "fake" else receiver
        app = create_app(
            services, receiver=receiver, limiter=limiter or TokenBucketLimiter(1000, 1000)
        )
        server, thread, url = serve(app)
        started.append((server, thread))
        return Api(url, services, receiver, TokenHasher.for_store(services.store))

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def api(start_api) -> Api:
    return start_api()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored_heartbeats(api: Api) -> int:
    with api.services.store.session() as s:
        return s.scalar(select(func.count()).select_from(HeartbeatRow))


HEARTBEAT = {
    "cpu_pct": 41.5,
    "mem_pct": 63.0,
    "temp_c": 58.2,
    "disk_pct": 40.0,
    "models": [{"name": "churn", "version": "3"}],
    "inference": {"count": 120, "p50_ms": 4.1, "p95_ms": 9.8, "p99_ms": 15.0},
}


def test_enrol_then_heartbeats_are_all_stored(api):
    credential = api.new_device(site="Lyon", lat=45.76, lon=4.84)
    assert credential.startswith("bcn_dev_")
    with api.client(headers=bearer(credential)) as c, ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: c.post("/v1/devices/heartbeat", json=HEARTBEAT), range(40))
        )
        state = c.get("/v1/devices/desired-state").json()
    assert {a.status_code for a in answers} == {202}
    assert answers[0].json() == {"accepted": True, "next_in_seconds": 30}
    assert stored_heartbeats(api) == 40  # acknowledged means stored
    device = devices.get_device(api.services.store, SYSTEM, "pi-1")
    assert (device.status, device.arch, device.heartbeat_count) == ("active", "arm64", 40)
    assert device.last_status["latency_p99_ms"] == 15.0
    assert device.last_status["health"] == "healthy"
    assert state == {"device": "pi-1", "tags": [], "models": [], "heartbeat_seconds": 30}


def test_enrolment_tokens_are_one_time_and_expire(api):
    enrolment = devices.add_device(
        api.services.store, api.hasher, SYSTEM, devices.DeviceSpec("gw-1", "x86-gateway")
    )
    with api.client() as c:
        assert c.post("/v1/devices/enrol", json={"token": enrolment.token}).status_code == 201
        again = c.post("/v1/devices/enrol", json={"token": enrolment.token})
        assert again.status_code == 401
        assert again.json() == {"error": "The enrolment token is not valid or was already used."}

        late = devices.add_device(
            api.services.store, api.hasher, SYSTEM, devices.DeviceSpec("gw-2", "x86-gateway")
        )
        with api.services.store.session() as s:
            s.execute(
                update(DeviceRow)
                .where(DeviceRow.name == "gw-2")
                .values(enrol_expires_at=utcnow() - timedelta(minutes=1))
            )
        expired = c.post("/v1/devices/enrol", json={"token": late.token})
        assert expired.status_code == 401 and "expired" in expired.json()["error"]


def test_revoke_rotate_and_reenrol(api):
    credential = api.new_device()
    with api.client() as c:
        rotated = c.post("/v1/devices/credential/rotate", headers=bearer(credential))
        assert rotated.status_code == 200
        fresh = rotated.json()["credential"]
        assert (
            c.post("/v1/devices/heartbeat", json={}, headers=bearer(credential)).status_code == 401
        )
        assert c.post("/v1/devices/heartbeat", json={}, headers=bearer(fresh)).status_code == 202

        devices.revoke(api.services.store, SYSTEM, "pi-1")
        refused = c.post("/v1/devices/heartbeat", json={}, headers=bearer(fresh))
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"

        again = devices.reissue_enrolment(api.services.store, api.hasher, SYSTEM, "pi-1")
        enrolled = c.post("/v1/devices/enrol", json={"token": again.token})
        assert enrolled.status_code == 201
        newest = enrolled.json()["credential"]
        assert c.post("/v1/devices/heartbeat", json={}, headers=bearer(fresh)).status_code == 401
        assert c.post("/v1/devices/heartbeat", json={}, headers=bearer(newest)).status_code == 202


def test_rate_limit_per_credential_answers_429_with_retry_after(start_api):
    api = start_api(limiter=TokenBucketLimiter(rate=1, burst=3))
    first, second = api.new_device("pi-1"), api.new_device("pi-2")
    with api.client() as c:
        codes = [
            c.post("/v1/devices/heartbeat", json={}, headers=bearer(first)).status_code
            for _ in range(4)
        ]
        assert codes == [202, 202, 202, 429]
        limited = c.post("/v1/devices/heartbeat", json={}, headers=bearer(first))
        assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
        # Another device has its own bucket.
        assert c.post("/v1/devices/heartbeat", json={}, headers=bearer(second)).status_code == 202
        time.sleep(1.1)
        assert c.post("/v1/devices/heartbeat", json={}, headers=bearer(first)).status_code == 202
    assert stored_heartbeats(api) == 5


def test_bad_tokens_are_refused_and_guessing_is_slowed(api):
    api.new_device()
    with api.client() as c:
        missing = c.post("/v1/devices/heartbeat", json={})
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer" in missing.json()["error"]
        basic = c.post("/v1/devices/heartbeat", json={}, headers={"Authorization": "Basic eDp5"})
        assert basic.status_code == 401
        codes = [
            c.post(
                "/v1/devices/heartbeat", json={}, headers=bearer(f"bcn_dev_guess{i}")
            ).status_code
            for i in range(12)
        ]
    # Ten failures per address are let through, then the address must wait.
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert stored_heartbeats(api) == 0


def test_oversized_malformed_and_invalid_bodies(start_api):
    api = start_api(BEACON_API_MAX_BODY_KB="1")
    credential = api.new_device()
    headers = bearer(credential) | {"Content-Type": "application/json"}
    with api.client(headers=headers) as c:
        big = json.dumps({"cpu_pct": 1, "pad": "x" * 2000})
        declared = c.post("/v1/devices/heartbeat", content=big)
        assert declared.status_code == 413
        assert declared.json() == {"error": "The request body is larger than 1 KB."}

        def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(10):
                yield b" " * 300

        streamed = c.post("/v1/devices/heartbeat", content=chunks())
        assert streamed.status_code == 413

        broken = c.post("/v1/devices/heartbeat", content=b'{"cpu_pct": 4')
        assert broken.status_code == 400
        assert broken.json() == {"error": "The body is not valid JSON."}
        out_of_range = c.post("/v1/devices/heartbeat", json={"cpu_pct": 140})
        assert out_of_range.status_code == 422
        assert out_of_range.json()["error"] == "cpu_pct: Input should be less than or equal to 100"
        not_object = c.post("/v1/devices/heartbeat", json=[1, 2])
        assert not_object.status_code == 422
    assert stored_heartbeats(api) == 0


def signed(
    body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None, signer: str | None = None
) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    return {
        "Authorization": f"Bearer {secret}",
        "X-Beacon-Timestamp": str(at),
        "X-Beacon-Signature": sign(signer or secret, at, body),
        "Content-Type": "application/json",
    }


def test_webhooks_need_a_fresh_valid_signature_and_refuse_replays(api):
    body = json.dumps({"sku": "A-100", "on_hand": 3}).encode()
    headers = signed(body) | {"Idempotency-Key": "delivery-1"}
    with api.client() as c:
        accepted = c.post("/v1/webhooks/restock", content=body, headers=headers)
        assert accepted.status_code == 202 and accepted.json() == {"accepted": True, "run": "run-1"}
        replay = c.post("/v1/webhooks/restock", content=body, headers=headers)
        assert replay.status_code == 409 and "replay" in replay.json()["error"]

        tampered = c.post("/v1/webhooks/restock", content=body + b" ", headers=headers)
        assert tampered.status_code == 401
        assert tampered.json() == {"error": "The signature does not match."}
        other_key = signed(body, signer="not-the-secret")
        assert c.post("/v1/webhooks/restock", content=body, headers=other_key).status_code == 401
        stale = signed(body, at=int(time.time()) - 600)
        old = c.post("/v1/webhooks/restock", content=body, headers=stale)
        assert old.status_code == 401 and "too old" in old.json()["error"]
        unsigned = c.post("/v1/webhooks/restock", content=body, headers=bearer(WEBHOOK_SECRET))
        assert unsigned.status_code == 401
        wrong_secret = signed(body, secret="guessed-secret")  # signed consistently, but not ours
        refused = c.post("/v1/webhooks/restock", content=body, headers=wrong_secret)
        assert refused.status_code == 401
        other = b'{"sku": "B-7"}'
        unknown = c.post("/v1/webhooks/nope", content=other, headers=signed(other))
        assert unknown.status_code == 401  # unknown workflows look like wrong secrets
        array = b"[1, 2]"
        assert (
            c.post("/v1/webhooks/restock", content=array, headers=signed(array)).status_code == 400
        )
    assert api.receiver.runs == [("restock", {"sku": "A-100", "on_hand": 3}, "delivery-1")]


def test_webhooks_start_real_workflow_runs(start_api):
    from core.workflows import service
    from core.workflows.definition import from_data
    from core.workflows.history import list_runs

    api = start_api(receiver=None)
    definition = {
        "name": "restock",
        "triggers": [{"type": "webhook"}],
        "steps": [{"id": "pause", "type": "wait", "params": {"seconds": 0}}],
    }
    service.save_workflow(api.services, SYSTEM, from_data(definition))
    secret = service.issue_webhook_token(api.services, SYSTEM, "restock")
    body = b'{"sku": "A-100"}'
    with api.client() as c:
        started = c.post("/v1/webhooks/restock", content=body, headers=signed(body, secret=secret))
        assert started.status_code == 202, started.text
        wrong = c.post("/v1/webhooks/restock", content=body, headers=signed(body, secret="x" * 20))
        assert wrong.status_code == 401
    (run,) = list_runs(api.services, SYSTEM, "restock")
    assert str(run.id) == started.json()["run"]


def test_service_accounts_with_scopes_api_keys_and_jwts(api):
    api.new_device("pi-1", tags=("store-9",))
    store = api.services.store
    _, reader = service_accounts.create_key(
        store, api.hasher, SYSTEM, "dashboards", ["devices:read"]
    )
    _, writer = service_accounts.create_key(
        store, api.hasher, SYSTEM, "provisioning", ["devices:read", "devices:write"]
    )
    with api.client() as c:
        listed = c.get("/v1/fleet/devices", headers=bearer(reader))
        assert listed.status_code == 200
        (row,) = listed.json()
        assert (row["name"], row["status"], row["liveness"], row["tags"]) == (
            "pi-1",
            "active",
            "never seen",
            ["store-9"],
        )
        denied = c.post(
            "/v1/fleet/devices", json={"name": "pi-2", "kind": "jetson"}, headers=bearer(reader)
        )
        assert denied.status_code == 403 and "devices:write" in denied.json()["error"]

        made = c.post(
            "/v1/fleet/devices", json={"name": "pi-2", "kind": "jetson"}, headers=bearer(writer)
        )
        assert made.status_code == 201
        assert made.json()["enrolment_token"].startswith("bcn_enrol_")

        issued = c.post("/v1/auth/token", json={"scopes": ["devices:read"]}, headers=bearer(writer))
        assert issued.status_code == 200
        token = issued.json()
        assert (token["token_type"], token["expires_in"], token["scope"]) == (
            "bearer",
            900,
            "devices:read",
        )
        jwt = token["access_token"]
        assert c.get("/v1/fleet/devices", headers=bearer(jwt)).status_code == 200
        narrowed = c.post("/v1/fleet/devices/pi-2/revoke", headers=bearer(jwt))
        assert narrowed.status_code == 403  # the JWT holds only devices:read
        beyond = c.post(
            "/v1/auth/token", json={"scopes": ["devices:write"]}, headers=bearer(reader)
        )
        assert beyond.status_code == 403

        forged = jwt[:-4] + ("AAAA" if not jwt.endswith("AAAA") else "BBBB")
        assert c.get("/v1/fleet/devices", headers=bearer(forged)).status_code == 401

        service_accounts.revoke_key(store, SYSTEM, "provisioning")
        assert c.get("/v1/fleet/devices", headers=bearer(jwt)).status_code == 401
        assert c.get("/v1/fleet/devices", headers=bearer(writer)).status_code == 401
    from core import audit

    actions = [
        (e.actor, e.action) for e in audit.list_events(store, SYSTEM, action="device.create")
    ]
    assert ("key:provisioning", "device.create") in actions


def test_jwts_need_the_secret_key(start_api, monkeypatch):
    api = start_api()
    _, key = service_accounts.create_key(
        api.services.store, api.hasher, SYSTEM, "ci", ["devices:read"]
    )
    monkeypatch.delenv("BEACON_SECRET_KEY")
    bare = open_services(load_settings())
    server, thread, url = serve(create_app(bare))
    try:
        with httpx.Client(base_url=url, timeout=10) as c:
            answer = c.post("/v1/auth/token", headers=bearer(key))
    finally:
        server.should_exit = True
        thread.join(10)
    assert answer.status_code == 400 and "BEACON_SECRET_KEY" in answer.json()["error"]


def test_access_log_names_callers_but_never_their_secrets(api, caplog):
    credential = api.new_device()
    with caplog.at_level(logging.INFO, logger="core.api.access"), api.client() as c:
        c.post("/v1/devices/heartbeat?token=leak", json={}, headers=bearer(credential))
        c.post("/v1/devices/heartbeat", json={}, headers=bearer("bcn_dev_wrong-secret"))

        def logged() -> list[dict]:
            return [
                json.loads(r.getMessage()) for r in caplog.records if r.name == "core.api.access"
            ]

        deadline = time.monotonic() + 5  # the line is written just after the answer is sent
        while len(logged()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = logged()
    assert [(x["path"], x["status"], x["principal"]) for x in lines] == [
        ("/v1/devices/heartbeat", 202, "device:pi-1"),
        ("/v1/devices/heartbeat", 401, ""),
    ]
    text = caplog.text
    assert credential not in text and "wrong-secret" not in text and "leak" not in text


def test_cors_allow_list_and_openapi_docs(start_api):
    api = start_api(BEACON_API_CORS_ORIGINS="https://ops.example.com")
    with api.client() as c:
        allowed = c.options(
            "/v1/fleet/devices",
            headers={"Origin": "https://ops.example.com", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://ops.example.com"
        other = c.get("/v1/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers
        spec = c.get("/v1/openapi.json").json()
        assert {"/v1/devices/enrol", "/v1/devices/heartbeat", "/v1/webhooks/{workflow}"} <= set(
            spec["paths"]
        )
        assert c.get("/v1/docs").status_code == 200
