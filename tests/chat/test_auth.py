"""Optional authentication: an HS256 token at the Socket.IO CONNECT, two keys for rotation.

The token rules alone (`escala.chat.auth`, pure), then a real replica started with
`--auth-secret-file` and python-socketio clients: refused without a valid token with a
`connect_error` saying why, the token's name kept whatever `add user` asks, and
`escala chat token` minting tokens without ever printing the secret.
"""

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio

from escala.chat.auth import Identity, Refused, Verifier, mint, parse_keys
from escala.cli.main import main
from tests.chat.servers import LoggedReplica, logged_replica
from tests.chat.test_server import Client

CURRENT, PREVIOUS, OTHER = (secrets.token_urlsafe(32) for _ in range(3))
# Tokens minted in a parametrize list exist from collection on: they must still be valid
# when their test comes, however long the tests before it take (on a slow machine, over
# a minute: the NUL case was refused as expired).
COLLECTED_TTL = 24 * 3600


def test_a_token_of_either_key_passes_and_names_the_user() -> None:
    verifier = Verifier(parse_keys(f"{CURRENT}\n{PREVIOUS}\n"))
    for key in (CURRENT, PREVIOUS):
        token = mint(key.encode(), "u-42", "Ana", 60)
        assert verifier.verify({"token": token}) == Identity(user="u-42", name="Ana")
    assert verifier.verify({"token": mint(CURRENT.encode(), "bo", None, 60)}).name == "bo"


@pytest.mark.parametrize(
    "auth, why",
    [
        (None, "authentication required"),
        ({"token": ""}, "authentication required"),
        ({"token": mint(OTHER.encode(), "eve", None, COLLECTED_TTL)}, "signature does not match"),
        ({"token": mint(CURRENT.encode(), "ana", None, 60, now=time.time() - 120)}, "expired"),
        ({"token": jwt.encode({"sub": "ana"}, CURRENT, algorithm="HS256")}, "no 'exp'"),
        ({"token": jwt.encode({"exp": 2**40}, CURRENT, algorithm="HS256")}, "no 'sub'"),
        ({"token": "not.a.jwt"}, "not a valid token"),
        ({"token": mint(CURRENT.encode(), "x", "n\x00", COLLECTED_TTL)}, "NUL"),
        # alg=none, or an RS256 header: only HS256 is accepted
        ({"token": jwt.encode({"sub": "a", "exp": 2**40}, None, algorithm="none")}, "valid"),
    ],
)
def test_a_missing_bad_or_expired_token_is_refused_saying_why(auth: Any, why: str) -> None:
    with pytest.raises(Refused, match=why):
        Verifier(parse_keys(CURRENT)).verify(auth)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "chat-secret"
    path.write_text(f"{CURRENT}\n{PREVIOUS}\n")
    return path


@pytest.fixture
def replica(tmp_path: Path, secret_file: Path) -> Iterator[LoggedReplica]:
    with logged_replica(tmp_path, "--auth-secret-file", str(secret_file)) as running:
        yield running


class AuthClient(Client):
    """A recording client that also keeps what `connect_error` said."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: list[Any] = []
        self.sio.on("connect_error", self.refusals.append)


async def test_without_a_valid_token_the_connect_is_refused_with_the_reason(
    replica: LoggedReplica,
) -> None:
    for auth, why in [
        (None, "authentication required"),
        ({"token": mint(OTHER.encode(), "eve", None, 60)}, "signature does not match"),
        ({"token": mint(CURRENT.encode(), "ana", None, 1, now=time.time() - 60)}, "expired"),
    ]:
        c = AuthClient()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await c.sio.connect(replica.url, auth=auth, transports=["websocket"], retry=False)
        assert why in c.refusals[0]["message"]
        await c.sio.disconnect()
    log = replica.log.read_text()
    assert "Traceback" not in log and CURRENT not in log


async def test_the_name_comes_from_the_token_and_add_user_cannot_change_it(
    replica: LoggedReplica,
) -> None:
    ana, watcher = Client(), Client()
    await watcher.sio.connect(
        replica.url, auth={"token": mint(CURRENT.encode(), "w", "watcher", 60)}
    )
    await watcher.sio.call("add user", "ignored")
    # signed with the previous key: still accepted during the rotation
    await ana.sio.connect(replica.url, auth={"token": mint(PREVIOUS.encode(), "u1", "ana", 60)})
    reply = await ana.sio.call("add user", "admin")
    assert reply["username"] == "ana"
    assert (await watcher.next("user joined"))["username"] == "ana"
    await ana.sio.call("new message", "hola")
    assert (await watcher.next("new message"))["username"] == "ana"
    assert (await ana.sio.call("users"))["users"] == ["ana", "watcher"]
    for c in (ana, watcher):
        await c.sio.disconnect()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run `escala ARGV` in-process: its exit code and everything it printed."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out + out.err


def test_chat_token_mints_a_token_the_server_accepts_and_never_prints_the_secret(
    secret_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["chat", "token", "--user", "u7", "--name", "Ana", "--ttl", "10m"]
    code, said = cli(capsys, *argv, "--auth-secret-file", str(secret_file))
    assert code == 0, said
    assert CURRENT not in said and PREVIOUS not in said
    token = said.strip()
    assert Verifier(parse_keys(CURRENT)).verify({"token": token}) == Identity("u7", "Ana")
    left = jwt.decode(token, CURRENT, algorithms=["HS256"])["exp"] - time.time()
    assert 590 < left <= 600

    monkeypatch.setenv("ESCALA_CHAT_AUTH_SECRET", PREVIOUS)
    code, said = cli(capsys, *argv)
    assert code == 0 and PREVIOUS not in said
    assert Verifier(parse_keys(PREVIOUS)).verify({"token": said.strip()}).user == "u7"


@pytest.mark.parametrize(
    "content, named",
    [
        ("short-key", "key 1 is shorter than 32"),
        ("", "empty"),
        (f"{CURRENT} {PREVIOUS} {OTHER}", "3 keys"),
    ],
)
def test_a_secret_that_cannot_work_is_refused_naming_the_flag_not_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, named: str
) -> None:
    path = tmp_path / "secret"
    path.write_text(content)
    data = tmp_path / "data"
    for command in (["chat", "token", "--user", "a"], ["chat", "serve", "--data-dir", str(data)]):
        code, said = cli(capsys, *command, "--auth-secret-file", str(path))
        assert code == 2, said
        assert "--auth-secret-file" in said and named in said
        assert not content or content.split()[0] not in said
    assert not data.exists()
    code, said = cli(capsys, "chat", "serve", "--auth-secret-file", str(tmp_path / "none"))
    assert code == 2 and "cannot be read" in said
