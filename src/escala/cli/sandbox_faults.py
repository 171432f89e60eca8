"""`escala sandbox --faults SEED:RATE`: a proxy in front of the sandbox that fails AWS calls
the way AWS does, so anyone can watch escala retry and converge (the tests and
benchmarks/faults.py put it between escala and moto too).

A signed request (one of escala's AWS calls; the unsigned `/moto-api/` calls pass
untouched) meets, with probability RATE, one of these faults:

- `throttled`: the service's own throttling error, in its protocol's error shape
  (`THROTTLING` names each service's code and status, with the AWS pages they come from);
- `500` / `503`: `InternalError` / `ServiceUnavailable`, the request not forwarded;
- `reset`: the connection reset before the request is forwarded;
- `lost`: the request forwarded, so AWS did it, and the connection reset before the
  answer: the client cannot tell whether it happened (what a retried create must survive);
- `slow`: forwarded after an added delay.

Which fault, if any, is drawn from `Random(f"{seed}:{service}:{operation}:{n}")` for the
n-th call of an operation: the same seed fails the same calls of the same run, whatever
the other calls' timing. `GET /__faults__` answers the counts so far (calls, retries as
botocore numbers them in `amz-sdk-request`, faults by kind); `POST /__faults__` with
`{"seed": S, "rate": R, "hold_after": N, "kinds": [...]}` starts over with new settings
(`kinds` narrows the draw to those faults). `hold_after` stops the run at a known point:
the call after the N-th is forwarded and its answer held back until the next POST (a
harness SIGKILLs escala meanwhile, as if it died there).
"""

import dataclasses
import http.client
import json
import random
import socket
import struct
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTROL_PATH = "/__faults__"
KINDS = ("throttled", "500", "503", "reset", "lost", "slow")
WEIGHTS = (40, 10, 10, 15, 10, 15)  # throttling is what AWS answers most
SLOW_SECONDS = (0.05, 0.4)


@dataclasses.dataclass(frozen=True)
class Throttle:
    code: str
    status: int


# By the signing name in the request's credential scope.
# EC2: `RequestLimitExceeded`, among its *server* errors (hence 503),
#   https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html and
#   https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
# Query services (Auto Scaling, IAM, ELB, CloudWatch, STS): `Throttling`, 400, the code
#   botocore's retry handler and the SDKs' throttling lists name for them
#   (https://docs.aws.amazon.com/boto3/latest/guide/retries.html).
# JSON services (ECS, CloudWatch Logs, Application Auto Scaling, SSM, ECR):
#   `ThrottlingException`, 400, the common error of their API references
#   (e.g. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html).
# S3: `SlowDown`, 503, https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html
THROTTLING: dict[str, Throttle] = {
    "ec2": Throttle("RequestLimitExceeded", 503),
    "autoscaling": Throttle("Throttling", 400),
    "iam": Throttle("Throttling", 400),
    "elasticloadbalancing": Throttle("Throttling", 400),
    "monitoring": Throttle("Throttling", 400),
    "sts": Throttle("Throttling", 400),
    "ecs": Throttle("ThrottlingException", 400),
    "logs": Throttle("ThrottlingException", 400),
    "application-autoscaling": Throttle("ThrottlingException", 400),
    "ssm": Throttle("ThrottlingException", 400),
    "ecr": Throttle("ThrottlingException", 400),
    "s3": Throttle("SlowDown", 503),
}
DEFAULT_THROTTLE = Throttle("ThrottlingException", 400)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclasses.dataclass
class Settings:
    seed: int = 0
    rate: float = 0.0
    hold_after: int | None = None
    kinds: tuple[str, ...] = KINDS  # the faults to draw from


def parse_faults(value: str) -> Settings:
    """`SEED:RATE` (`7:0.1`) -> Settings; ValueError saying what is wrong."""
    seed, sep, rate = value.partition(":")
    try:
        settings = Settings(seed=int(seed), rate=float(rate) if sep else 0.1)
    except ValueError:
        raise ValueError(f"{value!r} is not SEED:RATE (e.g. 7:0.1)") from None
    if not 0.0 <= settings.rate <= 1.0:
        raise ValueError(f"rate {settings.rate} is not between 0 and 1")
    return settings


@dataclasses.dataclass(frozen=True)
class Call:
    """What the proxy needs to know of one AWS request."""

    service: str  # the signing name: ec2, iam, elasticloadbalancing, s3...
    operation: str
    protocol: str  # ec2 | query | json | cbor | s3
    attempt: int


def describe_call(method: str, path: str, headers: Any, body: bytes) -> Call | None:
    """The AWS call a request is, or None for an unsigned one (moto's own API)."""
    auth = headers.get("Authorization", "")
    if "Credential=" not in auth:
        return None
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    service = scope[3] if len(scope) > 3 else "unknown"
    attempt = 1
    for part in headers.get("amz-sdk-request", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            attempt = int(value)
    target = headers.get("X-Amz-Target")
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return Call(service, path.rsplit("/", 1)[-1], "cbor", attempt)
    if target:
        return Call(service, target.rsplit(".", 1)[-1], "json", attempt)
    if service == "s3":
        depth = len([p for p in urllib.parse.urlsplit(path).path.split("/") if p])
        return Call(service, f"{method} {'object' if depth > 1 else 'bucket'}", "s3", attempt)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if method == "POST" else {}
    action = (form.get("Action") or query.get("Action") or ["unknown"])[0]
    return Call(service, action, "ec2" if service == "ec2" else "query", attempt)


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    return bytes([major << 5 | 26]) + struct.pack(">I", length)


def error_answer(call: Call, code: str, status: int) -> tuple[int, dict[str, str], bytes]:
    """The error `code` as `call`'s service would send it: status, headers, body."""
    message = "Rate exceeded" if status in (400, 429) or code == "SlowDown" else code
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    if call.protocol == "json":
        headers["Content-Type"] = "application/x-amz-json-1.1"
        return status, headers, json.dumps({"__type": code, "message": message}).encode()
    if call.protocol == "cbor":
        # CloudWatch is awsQueryCompatible: botocore takes the code from this header
        fields = {"__type": code, "message": message}
        body = _cbor_head(5, len(fields)) + b"".join(
            _cbor_text(k) + _cbor_text(v) for k, v in fields.items()
        )
        headers.update(
            {
                "Content-Type": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                "x-amzn-query-error": f"{code};{'Sender' if status < 500 else 'Receiver'}",
            }
        )
        return status, headers, body
    headers["Content-Type"] = "text/xml"
    error = f"<Code>{code}</Code><Message>{message}</Message>"
    if call.protocol == "ec2":
        xml = (
            f"<Response><Errors><Error>{error}</Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
    elif call.protocol == "s3":
        xml = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
    else:
        kind = "Sender" if status < 500 else "Receiver"
        xml = (
            f"<ErrorResponse><Error><Type>{kind}</Type>{error}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    return status, headers, f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode()


def fault_answer(call: Call, kind: str) -> tuple[int, dict[str, str], bytes]:
    if kind == "throttled":
        throttle = THROTTLING.get(call.service, DEFAULT_THROTTLE)
        return error_answer(call, throttle.code, throttle.status)
    if kind == "500":
        internal = "InternalError" if call.protocol in ("ec2", "s3") else "InternalFailure"
        return error_answer(call, internal, 500)
    return error_answer(call, "ServiceUnavailable", 503)


class Faults:
    """The seeded decisions and the counts; shared by the proxy's threads."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        with self._lock:
            self.settings = settings
            self._seen: dict[tuple[str, str], int] = {}
            self.calls = 0
            self.retries = 0
            self.held = 0
            self.faults = dict.fromkeys(KINDS, 0)
            self.by_operation: dict[str, int] = {}
            released, self._released = self._released, threading.Event()
        released.set()  # whatever was held goes (its client is gone by now)

    def decide(self, call: Call) -> tuple[str | None, threading.Event | None]:
        """The fault for this call (or None) and, past `hold_after`, the event to hold on."""
        with self._lock:
            key = (call.service, call.operation)
            n = self._seen.get(key, 0)
            self._seen[key] = n + 1
            self.calls += 1
            self.retries += call.attempt > 1
            hold = self.settings.hold_after
            if hold is not None and self.calls > hold:
                self.held += 1
                return None, self._released
            draw = random.Random(f"{self.settings.seed}:{call.service}:{call.operation}:{n}")
            if draw.random() >= self.settings.rate:
                return None, None
            weights = [w for k, w in zip(KINDS, WEIGHTS, strict=True) if k in self.settings.kinds]
            kind = draw.choices([k for k in KINDS if k in self.settings.kinds], weights)[0]
            self.faults[kind] += 1
            name = f"{call.service}:{call.operation}"
            self.by_operation[name] = self.by_operation.get(name, 0) + 1
            return kind, None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.settings.seed,
                "rate": self.settings.rate,
                "calls": self.calls,
                "retries": self.retries,
                "held": self.held,
                "faults": dict(self.faults),
                "faulted": sum(self.faults.values()),
                "by_operation": dict(self.by_operation),
            }


def _handler(upstream: tuple[str, int], faults: Faults) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per AWS call would drown the sandbox's output

        def _body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _reset(self) -> None:
            """Close with a TCP RST, as a dropped connection looks to the client."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
            connection = http.client.HTTPConnection(*upstream, timeout=300)
            try:
                connection.putrequest(
                    self.command, self.path, skip_host=True, skip_accept_encoding=True
                )
                for key, value in self.headers.items():  # Host as signed, untouched
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        connection.putheader(key, value)
                connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                answer = connection.getresponse()
                return answer.status, dict(answer.getheaders()), answer.read()
            finally:
                connection.close()

        def _control(self, body: bytes) -> None:
            if self.command == "POST":
                asked = json.loads(body or b"{}")
                faults.configure(
                    Settings(
                        seed=int(asked.get("seed", 0)),
                        rate=float(asked.get("rate", 0.0)),
                        hold_after=asked.get("hold_after"),
                        kinds=tuple(asked.get("kinds") or KINDS),
                    )
                )
            answer = json.dumps(faults.stats()).encode()
            self._send(200, {"Content-Type": "application/json"}, answer)

        def _handle(self) -> None:
            body = self._body()
            if self.path.split("?")[0] == CONTROL_PATH:
                self._control(body)
                return
            call = describe_call(self.command, self.path, self.headers, body)
            kind, hold = faults.decide(call) if call is not None else (None, None)
            if kind == "reset":
                self._reset()
                return
            if call is not None and kind in ("throttled", "500", "503"):
                self._send(*fault_answer(call, kind))
                return
            if kind == "slow":
                delay = random.Random(f"{faults.settings.seed}:{call}").uniform(*SLOW_SECONDS)
                time.sleep(delay)
            answer = self._forward(body)
            if hold is not None:
                hold.wait()
                self._reset()
                return
            if kind == "lost":
                self._reset()
                return
            self._send(*answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

    return Handler


class FaultProxy:
    """The proxy as a server: `start()` serves on a thread, `stop()` ends it."""

    def __init__(self, host: str, port: int, upstream: tuple[str, int], settings: Settings):
        self.faults = Faults(settings)
        self.server = ThreadingHTTPServer((host, port), _handler(upstream, self.faults))
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.faults.configure(Settings())  # release anything held
        self.server.shutdown()
        self.server.server_close()
