"""`escala chat serve` refuses bad flags with exit 2, naming the flag, before it starts."""

from pathlib import Path

import pytest

from escala.cli.main import main


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    """Run `chat serve` with `flags`; it must exit 2 having created nothing. Its output."""
    data = tmp_path / "data"
    with pytest.raises(SystemExit) as exit_:
        main(["chat", "serve", "--port", "1", "--data-dir", str(data), *flags])
    assert exit_.value.code == 2
    assert not data.exists()
    out = capsys.readouterr()
    return out.err + out.out


@pytest.mark.parametrize(
    "flag, url",
    [
        ("--database", "postgresql://ana:s3cret@127.0.0.1:notaport/chat"),
        ("--database", "postgresql://ana:s3cret@[::1/chat"),
        ("--redis", "redis://:s3cret@127.0.0.1:99999"),
    ],
)
def test_a_malformed_store_url_names_the_flag_not_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, url: str
) -> None:
    said = refused(tmp_path, capsys, flag, url)
    assert flag in said
    assert "s3cret" not in said


@pytest.mark.parametrize("flag", ["--rate", "--presence-ttl", "--drain-timeout", "--ping-interval"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_a_number_flag_that_is_not_finite_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    assert flag in refused(tmp_path, capsys, flag, value)


def test_an_unknown_log_level_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "--log-level" in refused(tmp_path, capsys, "--log-level", "loud")
