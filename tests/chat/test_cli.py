"""`escala chat serve` refuses bad flags with exit 2, naming the flag, before it starts."""

from pathlib import Path

import pytest

from escala.cli.main import main


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
    data = tmp_path / "data"
    with pytest.raises(SystemExit) as exit_:
        main(["chat", "serve", "--port", "1", "--data-dir", str(data), flag, url])
    assert exit_.value.code == 2
    out = capsys.readouterr()
    assert flag in out.err
    assert "s3cret" not in out.err + out.out
    assert not data.exists()  # nothing created
