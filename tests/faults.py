"""Whole lives of a cluster and of both chat services, run by the real `escala` command
against `escala sandbox --faults`: seeded faults on every AWS call, SIGKILL at a chosen
call, and after each step what a user would check (the next plan says "No changes", the
delete leaves nothing: tests/leaks.py).

Shared by tests/reconcile/test_faults.py (a few seeds) and benchmarks/faults.py (the
campaign). Each step that fails is run again, plainly, up to `RUNS` times: the count of
runs a step needed is what the table reports, and 1 is what escala aims for.
"""

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from tests.cli.run import public_key
from tests.leaks import leftovers
from tests.servers import free_port

RUNS = 3  # a step that still fails on its third run has not converged
STEP_TIMEOUT = 600.0
REGION = "eu-west-1"
STATE_BUCKET = "faults-state"
CLUSTER = "faults.k8s.local"
SERVICE = "chat"
PARAMETERS = {"/faults/redis": "redis://:pw@redis.internal:6379/0"}
AMI = "099720109477/ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*"
FAULTS_OFF = ("--faults", "0:0")  # the proxy on, failing nothing until told
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/escala:0.1.0"


class Sandbox:
    """`escala sandbox --faults` as a process; its fault proxy is told what to do over HTTP."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "escala", "sandbox", "--port", str(self.port), *FAULTS_OFF],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("# AWS sandbox (moto) running"):
            self.proc.kill()
            raise RuntimeError(f"escala sandbox --faults did not start: {first!r}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def faults(
        self,
        seed: int = 0,
        rate: float = 0.0,
        hold_after: int | None = None,
        kinds: tuple[str, ...] = (),
    ) -> None:
        """New fault settings (`kinds`: all unless named); the counts start over."""
        settings = {"seed": seed, "rate": rate, "hold_after": hold_after, "kinds": list(kinds)}
        body = json.dumps(settings).encode()
        self._post("/__faults__", body)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__faults__") as answer:
            return dict(json.load(answer))

    def reset(self) -> None:
        """An empty account, faults off."""
        self.faults()
        self._post("/moto-api/reset", b"")

    def _post(self, path: str, body: bytes) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=body, method="POST")
        urllib.request.urlopen(request).close()

    def env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_DEFAULT_REGION": REGION,
            "ESCALA_STATE_STORE": f"s3://{STATE_BUCKET}",
        }
        env.pop("AWS_PROFILE", None)
        return env

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox()
    try:
        yield box
    finally:
        box.stop()


@contextmanager
def aws_env(box: Sandbox) -> Iterator[None]:
    """This process's boto3 pointed at the sandbox (for set-up and the leak check)."""
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                            "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
                                            "AWS_PROFILE")}  # fmt: skip
    os.environ.update({k: v for k, v in box.env().items() if k.startswith("AWS_")})
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclasses.dataclass
class Lifecycle:
    """One thing's life, as the commands a user types."""

    name: str
    create: list[str]
    plan: list[str]
    change: list[str]  # writes the spec only: never faulted
    update: list[str]
    delete: list[str]
    # about how many AWS calls a create and a delete make: the SIGKILL lands in between
    calls: tuple[int, int] = (75, 45)


def _cluster(tmp: Path, life: str = "cluster", *topology: str) -> Lifecycle:
    """A three-master cluster; `topology` flags (`--topology private --bastion`) give it
    NAT gateways, Elastic IPs, utility subnets and a bastion group, and more calls."""
    key = tmp / "admin.pub"
    key.write_text(public_key())
    name = ["--name", CLUSTER]
    return Lifecycle(
        life,
        create=[
            *("create", "cluster", *name, "--zones", "eu-west-1a,eu-west-1b,eu-west-1c"),
            *("--master-count", "3", "--node-count", "1", *topology),
            *("--master-size", "t3.small", "--node-size", "t3.small"),
            *("--image", AMI, "--ssh-public-key", str(key), "--yes"),
        ],
        plan=["update", "cluster", *name],
        change=["set", "instancegroup", "nodes", *name, "spec.maxSize=3"],
        update=["update", "cluster", *name, "--yes"],
        delete=["delete", "cluster", *name, "--yes"],
        calls=(220, 130) if topology else (150, 90),
    )


def _chat(platform: str) -> Lifecycle:
    sizes = ["--ami", AMI, "--machine-type", "t3.small"] if platform == "ec2" else [
        "--cpu", "512", "--memory", "1024"]  # fmt: skip
    return Lifecycle(
        f"chat-{platform}",
        create=[
            *("create", "chatservice", SERVICE, "--platform", platform, "--image", IMAGE),
            *("--zones", "eu-west-1a,eu-west-1b", "--redis-parameter", next(iter(PARAMETERS))),
            *sizes,
            *("--min", "2", "--max", "4", "--yes"),
        ],
        plan=["update", "chatservice", SERVICE],
        change=["set", "chatservice", SERVICE, "spec.maxSize=5", "spec.cpuTarget=40"],
        update=["update", "chatservice", SERVICE, "--yes"],
        delete=["delete", "chatservice", SERVICE, "--yes"],
    )


def lifecycles(tmp: Path) -> dict[str, Lifecycle]:
    return {
        "cluster": _cluster(tmp),
        "cluster-private": _cluster(tmp, "cluster-private", "--topology", "private", "--bastion"),
        "chat-ec2": _chat("ec2"),
        "chat-fargate": _chat("fargate"),
    }


@dataclasses.dataclass
class Outcome:
    """What one seeded life did: the table's row."""

    lifecycle: str
    seed: int
    kill: str = ""  # "apply@N" / "delete@N": SIGKILLed after N calls
    calls: int = 0
    faults: int = 0
    retries: int = 0
    runs: dict[str, int] = dataclasses.field(default_factory=dict)  # step -> runs needed
    no_changes: bool = False  # the plans after create and update were empty
    leaks: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)  # last lines of failed runs

    @property
    def converged(self) -> bool:
        return self.no_changes and all(n <= RUNS for n in self.runs.values())


class Runner:
    """Runs lifecycles against one sandbox, counting what the proxy saw."""

    def __init__(self, box: Sandbox, tmp: Path) -> None:
        self.box = box
        self.tmp = tmp

    def escala(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "escala", *args],
            capture_output=True, text=True, env=self.box.env(), timeout=STEP_TIMEOUT,
        )  # fmt: skip

    def _count(self, outcome: Outcome) -> None:
        stats = self.box.stats()
        outcome.calls += stats["calls"]
        outcome.faults += stats["faulted"]
        outcome.retries += stats["retries"]

    def step(
        self,
        outcome: Outcome,
        name: str,
        args: list[str],
        rate: float,
        again: Callable[[], list[str]] | None = None,
    ) -> bool:
        """Run `args` (then `again()`, when given) until it succeeds, at most RUNS times,
        faults on; True if it did."""
        for run in range(1, RUNS + 1):
            self.box.faults(seed=outcome.seed * 100 + run, rate=rate)
            done = self.escala(args if run == 1 or again is None else again())
            self._count(outcome)
            if done.returncode == 0:
                outcome.runs[name] = run
                return True
            lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
            outcome.errors.append(f"{name} run {run}: {lines[-1][:300]}")
        outcome.runs[name] = RUNS + 1
        return False

    def killed(self, outcome: Outcome, args: list[str], after: int, rate: float) -> None:
        """Run `args` and SIGKILL it once it has made `after` AWS calls (the next one is
        done by AWS, its answer never arrives)."""
        self.box.faults(seed=outcome.seed, rate=rate, hold_after=after)
        proc = subprocess.Popen(
            [sys.executable, "-m", "escala", *args], env=self.box.env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + STEP_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if self.box.stats()["held"]:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self._count(outcome)
        self.box.faults()  # releases the held call

    def plan_is_empty(self, args: list[str], outcome: Outcome | None = None) -> bool:
        """The plan (faults off) says "No changes"; what it says instead goes in
        `outcome.errors`."""
        self.box.faults()
        done = self.escala(args)
        empty = done.returncode == 0 and done.stdout.strip() == "No changes need to be applied"
        if not empty and outcome is not None:
            outcome.errors.append(f"plan: {(done.stdout + done.stderr).strip()[-600:]}")
        return empty

    def leaks(self) -> list[str]:
        self.box.faults()
        with aws_env(self.box):
            return leftovers(
                keep=frozenset(f"SSMParameter/{p}" for p in PARAMETERS),
                state_bucket=STATE_BUCKET,
            )

    def prepare(self) -> None:
        """An empty account with the state bucket and the chat's SSM parameter."""
        self.box.reset()
        with aws_env(self.box):
            ssm = boto3.client("ssm")
            for name, value in PARAMETERS.items():
                ssm.put_parameter(Name=name, Value=value, Type="SecureString")
        done = self.escala(["state", "create", "--bucket", STATE_BUCKET])
        assert done.returncode == 0, done.stderr

    def life(
        self,
        lifecycle: Lifecycle,
        seed: int,
        rate: float,
        kill: tuple[str, ...] = (),
        update: bool = True,
    ) -> Outcome:
        """create -> plan -> change -> update -> plan -> delete, faults at `rate` (without
        `update`, create -> plan -> delete); the steps named in `kill` ("apply",
        "delete") are first SIGKILLed at a seeded call."""
        outcome = Outcome(lifecycle.name, seed)
        self.prepare()

        # a create that stored its spec and failed is finished by `update --yes`
        def again() -> list[str]:
            return lifecycle.update if self._stored(lifecycle) else lifecycle.create

        create = lifecycle.create
        kills = random.Random(f"kill:{seed}")
        if "apply" in kill:
            after = kills.randint(5, lifecycle.calls[0])
            outcome.kill = f"apply@{after}"
            self.killed(outcome, lifecycle.create, after, rate)
            create = again()
        if not self.step(outcome, "create", create, rate, again):
            outcome.leaks = self._clean_up(lifecycle)
            return outcome
        outcome.no_changes = self.plan_is_empty(lifecycle.plan, outcome)
        if update:
            self.box.faults()
            changed = self.escala(lifecycle.change)
            assert changed.returncode == 0, changed.stderr
            updated = self.step(outcome, "update", lifecycle.update, rate)
            outcome.no_changes &= updated and self.plan_is_empty(lifecycle.plan, outcome)
        if "delete" in kill:
            after = kills.randint(3, lifecycle.calls[1])
            outcome.kill = f"{outcome.kill} delete@{after}".strip()
            self.killed(outcome, lifecycle.delete, after, rate)
        if self.step(outcome, "delete", lifecycle.delete, rate):
            outcome.leaks = self.leaks()
        else:
            outcome.leaks = self._clean_up(lifecycle)
        return outcome

    def _stored(self, lifecycle: Lifecycle) -> bool:
        self.box.faults()
        return self.escala(lifecycle.plan).returncode == 0

    def _clean_up(self, lifecycle: Lifecycle) -> list[str]:
        """What a faultless delete leaves after a failed life (reported, not hidden)."""
        self.box.faults()
        self.escala(lifecycle.delete)
        return self.leaks()
