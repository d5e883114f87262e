"""Outbound webhooks over real HTTP: a loopback receiver verifies every request with the
``standardwebhooks`` library; the SSRF guard is checked with real resolution."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from intime.netguard import Target, TargetGuard, TargetRefused, parse_allow
from intime_cli.serving import free_port, serve_in_thread
from tests.support import TESTDATA
from worker.webhooks import (
    WEBHOOK_TIMEOUT_SECONDS,
    DeliveryOutcome,
    WebhookRequest,
    deliver,
    new_client,
    sign,
)

SECRET_A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_B = "whsec_" + base64.b64encode(b"the-secret-after-rotation").decode()
SECRET_C = "whsec_" + base64.b64encode(b"a-secret-nobody-signs-with").decode()
KNOWN_SECRETS = {"a": SECRET_A, "b": SECRET_B, "c": SECRET_C}
BODY = json.dumps({"type": "deal.won", "data": {"name": "Café & Co"}}).encode()
LOOPBACK = TargetGuard(["127.0.0.0/8"])
VECTORS = json.loads((TESTDATA / "svix_vectors.json").read_text())
SIGN_CASES = [c for c in VECTORS["cases"] if c["kind"] == "sign"]


@dataclasses.dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    client_ip: str
    verified_with: frozenset[str]  # labels of the KNOWN_SECRETS the library accepts


@dataclasses.dataclass
class Receiver:
    port: int
    got: list[Received] = dataclasses.field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def one(self) -> Received:
        [received] = self.got
        return received


def receiver_app(receiver: Receiver) -> Starlette:
    """POST /{status}: answers that status; ?retry_after=, ?location=, ?sleep=, ?repeat=."""

    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        headers = dict(request.headers)
        verified = set()
        for label, secret in KNOWN_SECRETS.items():
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified.add(label)
        client_ip = request.client.host if request.client else ""
        receiver.got.append(
            Received(request.url.path, headers, body, client_ip, frozenset(verified))
        )
        params = request.query_params
        if "sleep" in params:
            await asyncio.sleep(float(params["sleep"]))
        answer = {"retry-after": params.get("retry_after"), "location": params.get("location")}
        status = request.path_params["status"]
        text = "x" * int(params["repeat"]) if "repeat" in params else f"answer {status}"
        return PlainTextResponse(
            text, status, headers={k: v for k, v in answer.items() if v is not None}
        )

    return Starlette(routes=[Route("/{status:int}", hook, methods=["POST"])])


@pytest.fixture(scope="module")
def _server() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    with serve_in_thread(receiver_app(receiver), port=receiver.port):
        yield receiver


@pytest.fixture
def receiver(_server: Receiver) -> Receiver:
    _server.got.clear()
    return _server


def post(
    url: str,
    *,
    guard: TargetGuard = LOOPBACK,
    secrets: tuple[str, ...] = (SECRET_A,),
    msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    headers: dict[str, str] | None = None,
    timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    verify: ssl.SSLContext | bool = True,
) -> DeliveryOutcome:
    request = WebhookRequest(url, BODY, msg_id, secrets, headers or {})

    async def go() -> DeliveryOutcome:
        async with new_client(verify=verify) as client:
            return await deliver(client, guard, request, timeout=timeout)

    return asyncio.run(go())


def resolve(url: str, guard: TargetGuard | None = None) -> Target:
    return asyncio.run((guard or TargetGuard()).resolve(url))


# -- signing -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", SIGN_CASES, ids=[c["id"] for c in SIGN_CASES])
def test_sign_reproduces_the_shared_vectors(case: dict) -> None:
    generator = case.get("payload_generator")
    payload = case["payload"] or generator["repeat_char"] * generator["count"]
    signature = sign([case["secret"]], case["msg_id"], case["timestamp"], payload.encode())
    assert signature == case["expected_signature_header"]


@pytest.mark.parametrize(
    "secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr"]
)
def test_unpadded_secrets_sign_like_the_library(secret: str) -> None:
    stamp = datetime.fromtimestamp(1614265330, tz=UTC)
    expected = Webhook(secret).sign("msg_1", stamp, BODY.decode())
    assert sign([secret], "msg_1", 1614265330, BODY) == expected


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not-base64!", "re_123"])
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign([secret], "msg_1", 1614265330, BODY)


# -- delivery ----------------------------------------------------------------------------


def test_a_2xx_is_delivered_with_a_signature_the_library_verifies(receiver: Receiver) -> None:
    outcome = post(receiver.url("/200"), msg_id="msg_abc")
    assert (outcome.kind, outcome.status_code, outcome.error) == ("delivered", 200, None)
    assert outcome.response_excerpt == "answer 200"
    assert outcome.retry_after is None
    assert 0 < outcome.duration_ms < 2000
    got = receiver.one
    assert got.verified_with == {"a"}
    assert got.body == BODY
    assert got.headers["webhook-id"] == got.headers["idempotency-key"] == "msg_abc"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 5
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == "InTime-Webhooks/1"


def test_with_two_secrets_the_library_verifies_with_either(receiver: Receiver) -> None:
    assert post(receiver.url("/204"), secrets=(SECRET_A, SECRET_B)).kind == "delivered"
    got = receiver.one
    assert got.verified_with == {"a", "b"}
    assert len(got.headers["webhook-signature"].split(" ")) == 2


def test_a_retry_with_the_same_msg_id_sends_the_same_webhook_id(receiver: Receiver) -> None:
    post(receiver.url("/503"), msg_id="msg_same")
    post(receiver.url("/200"), msg_id="msg_same")
    first, second = receiver.got
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "msg_same"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == "msg_same"


def test_extra_headers_are_sent_alongside_the_signature(receiver: Receiver) -> None:
    post(receiver.url("/200"), headers={"X-Tenant": "acme", "Authorization": "Bearer t"})
    got = receiver.one
    assert (got.headers["x-tenant"], got.headers["authorization"]) == ("acme", "Bearer t")
    assert got.verified_with == {"a"}


@pytest.mark.parametrize(
    "name", ["webhook-id", "Webhook-Signature", "Idempotency-Key", "Content-Type", "Host"]
)
def test_extra_headers_may_not_replace_the_senders_own(name: str) -> None:
    with pytest.raises(ValueError, match="set by the webhook sender"):
        WebhookRequest("https://hooks.example/", BODY, "msg_1", (SECRET_A,), {name: "x"})


@pytest.mark.parametrize("status", [500, 502, 408])
def test_a_server_error_or_request_timeout_is_retried(receiver: Receiver, status: int) -> None:
    outcome = post(receiver.url(f"/{status}"))
    assert (outcome.kind, outcome.status_code, outcome.error) == ("retry", status, f"HTTP {status}")
    assert outcome.retry_after is None
    assert outcome.response_excerpt == f"answer {status}"


def test_a_503_with_retry_after_seconds_sets_retry_after(receiver: Receiver) -> None:
    outcome = post(receiver.url("/503?retry_after=7"))
    assert (outcome.kind, outcome.status_code, outcome.retry_after) == ("retry", 503, 7.0)


def test_a_429_with_an_http_date_retry_after_is_retried_then(receiver: Receiver) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    outcome = post(receiver.url(f"/429?retry_after={when}"))
    assert (outcome.kind, outcome.status_code) == ("retry", 429)
    assert outcome.retry_after is not None
    assert 115 < outcome.retry_after <= 120


def test_retry_after_is_capped_at_an_hour(receiver: Receiver) -> None:
    assert post(receiver.url("/503?retry_after=86400")).retry_after == 3600


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_client_error_is_permanent(receiver: Receiver, status: int) -> None:
    outcome = post(receiver.url(f"/{status}"))
    assert (outcome.kind, outcome.status_code, outcome.error) == (
        "permanent",
        status,
        f"HTTP {status}",
    )
    assert outcome.retry_after is None


def test_a_redirect_is_permanent_and_not_followed(receiver: Receiver) -> None:
    elsewhere = receiver.url("/200")
    outcome = post(receiver.url(f"/302?location={elsewhere}"))
    assert (outcome.kind, outcome.status_code) == ("permanent", 302)
    assert outcome.error == f"redirect not followed (HTTP 302 to {elsewhere})"
    assert [got.path for got in receiver.got] == ["/302"]


def test_the_response_excerpt_is_the_first_500_characters(receiver: Receiver) -> None:
    outcome = post(receiver.url("/400?repeat=100000"))
    assert outcome.response_excerpt == "x" * 500


def test_a_slow_receiver_times_out_and_is_retried(receiver: Receiver) -> None:
    outcome = post(receiver.url("/200?sleep=0.6"), timeout=0.2)
    assert (outcome.kind, outcome.status_code) == ("retry", None)
    assert outcome.error == "timeout after 0.2 s"
    assert outcome.duration_ms < 500
    assert len(receiver.got) == 1  # it did arrive; the retry repeats its webhook-id


def test_a_closed_port_is_retried() -> None:
    outcome = post(f"http://127.0.0.1:{free_port()}/hook")
    assert (outcome.kind, outcome.status_code) == ("retry", None)
    assert outcome.error is not None
    assert outcome.error.startswith("cannot connect")


def test_an_unknown_host_is_retried() -> None:
    outcome = post("http://no-such-host.invalid/hook", timeout=1.0)
    assert outcome.kind == "retry"
    assert outcome.error is not None
    assert outcome.error.startswith(("cannot resolve no-such-host.invalid", "timeout"))


# -- the SSRF guard ----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_is_refused_when_not_allow_listed(receiver: Receiver, host: str) -> None:
    outcome = post(receiver.url("/200", host=host), guard=TargetGuard())
    assert (outcome.kind, outcome.status_code) == ("permanent", None)
    assert outcome.error is not None
    assert outcome.error.endswith("is a loopback address")
    assert receiver.got == []


def test_a_private_address_is_refused_with_a_readable_reason() -> None:
    outcome = post("http://10.0.0.1/hook", guard=TargetGuard())
    assert (outcome.kind, outcome.error) == ("permanent", "refused: 10.0.0.1 is a private address")


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("10.0.0.1", "10.0.0.1 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is a loopback address"),
        ("[::ffff:10.0.0.1]", "::ffff:10.0.0.1 is a private address"),
        ("[64:ff9b::a00:1]", "64:ff9b::a00:1 is a private address"),
        ("[2002:7f00:1::]", "2002:7f00:1:: is a loopback address"),
        ("[::7f00:1]", "::127.0.0.1 is a loopback address"),
        ("[fe80::1]", "fe80::1 is a link-local address"),
        ("[fc00::1]", "fc00::1 is a private address"),
        ("0", "0.0.0.0 is an unspecified address"),
        ("2130706433", "127.0.0.1 is a loopback address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("100.64.0.1", "100.64.0.1 is not a public address"),
    ],
)
def test_a_non_public_address_is_refused_by_the_guard(host: str, reason: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        resolve(f"https://{host}/hook")
    assert refused.value.reason == reason


def test_a_public_address_passes_the_guard() -> None:
    target = resolve("https://[2606:4700::1111]/hook?x=1")
    assert (target.ip, target.port, target.host_header) == (
        "2606:4700::1111",
        443,
        "[2606:4700::1111]",
    )
    assert target.url_for(target.ip) == "https://[2606:4700::1111]:443/hook?x=1"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "//example.com/"]
)
def test_a_non_http_scheme_is_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="only http and https"):
        resolve(url)


@pytest.mark.parametrize(
    "url",
    ["http://user:pw@example.com/", "http://user@127.0.0.1/", "http://example.com\\@127.0.0.1/"],
)
def test_credentials_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="credentials"):
        resolve(url)


@pytest.mark.parametrize("url", ["http:///hook", "http://:8080/hook", "https://"])
def test_a_url_without_a_host_is_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="no host"):
        resolve(url)


def test_an_allow_listed_cidr_lets_loopback_through(receiver: Receiver) -> None:
    outcome = post(receiver.url("/200"), guard=TargetGuard(["127.0.0.0/8", "::1/128"]))
    assert outcome.kind == "delivered"
    assert receiver.one.verified_with == {"a"}


def test_an_allow_listed_hostname_lets_it_through(receiver: Receiver) -> None:
    outcome = post(receiver.url("/200", host="localhost"), guard=TargetGuard(["LOCALHOST"]))
    assert outcome.kind == "delivered"


def test_an_allow_listed_hostname_does_not_allow_its_address() -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        resolve("http://127.0.0.1/hook", TargetGuard(["localhost"]))


def test_an_allow_list_entry_must_be_a_cidr_or_a_hostname() -> None:
    with pytest.raises(ValueError, match="neither a CIDR nor a host name"):
        TargetGuard(["10.0.0.0/33"])


def test_the_request_goes_to_the_pinned_address_with_the_original_host(
    receiver: Receiver,
) -> None:
    guard = TargetGuard(["localhost"])
    url = receiver.url("/200", host="localhost")
    assert resolve(url, guard).ip == "127.0.0.1"
    assert post(url, guard=guard).kind == "delivered"
    got = receiver.one
    assert got.headers["host"] == f"localhost:{receiver.port}"
    assert got.client_ip == "127.0.0.1"


def test_parse_allow_splits_on_commas_and_spaces() -> None:
    assert parse_allow(" 127.0.0.0/8, ::1/128\thooks.internal,,") == (
        "127.0.0.0/8",
        "::1/128",
        "hooks.internal",
    )
    assert parse_allow("") == ()


# -- https: the pinned address, the host name for SNI and the certificate ----------------


@dataclasses.dataclass(frozen=True)
class TlsReceiver:
    port: int
    context: ssl.SSLContext  # trusts the receiver's self-signed certificate for localhost
    got: list[Received]


@contextlib.contextmanager
def _serve_tls(app: Starlette, port: int, cert: Path, key: Path) -> Iterator[None]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"uvicorn (TLS) did not start on port {port}")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def tls_receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsReceiver]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:localhost"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    receiver = Receiver(free_port())
    with _serve_tls(receiver_app(receiver), receiver.port, cert, key):
        yield TlsReceiver(receiver.port, ssl.create_default_context(cafile=str(cert)), receiver.got)


def test_https_verifies_the_certificate_against_the_host_name(
    tls_receiver: TlsReceiver,
) -> None:
    tls_receiver.got.clear()
    url = f"https://localhost:{tls_receiver.port}/200"
    outcome = post(url, guard=TargetGuard(["localhost"]), verify=tls_receiver.context)
    assert (outcome.kind, outcome.error) == ("delivered", None)
    [got] = tls_receiver.got
    assert got.headers["host"] == f"localhost:{tls_receiver.port}"
    assert got.verified_with == {"a"}


def test_https_to_a_name_the_certificate_does_not_cover_is_retried(
    tls_receiver: TlsReceiver,
) -> None:
    tls_receiver.got.clear()
    url = f"https://127.0.0.1:{tls_receiver.port}/200"
    outcome = post(url, verify=tls_receiver.context)
    assert outcome.kind == "retry"
    assert outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert tls_receiver.got == []
