"""The ``srgan`` command's error handling: user errors are one line with exit status 2, every other
exception keeps its traceback, ``--debug`` shows the traceback of user errors too."""
import os
import subprocess
import sys

import numpy as np
import pytest

from srgan_lib import cli
from srgan_lib.cli import eval as evaluate_module  # the module of `srgan eval`
from srgan_lib.errors import InputNotFoundError, TrainingDiverged


def _srgan(*argv, env=None, code=None):
    """Run ``srgan ARGV`` in a fresh interpreter (``code`` first, e.g. to replace a command)."""
    prog = (code or "") + "\nimport sys\nfrom srgan_lib import cli\nsys.exit(cli.main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", prog, *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_user_error_is_one_line_with_status_2(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "folder"
    assert cli.main(["eval", "--dataset", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"srgan eval: error: folder not found: {str(missing)!r}\n"
    p = _srgan("eval", "--dataset", str(missing))
    assert p.returncode == 2 and p.stderr.strip() == err.strip() and "Traceback" not in p.stderr


def test_internal_error_keeps_its_traceback(monkeypatch, tmp_path):
    """A ValueError from numpy inside a command is a bug, not a user error: it is not caught."""
    def broken(args):
        return np.zeros(2) + np.zeros(3)  # ValueError: operands could not be broadcast together

    monkeypatch.setattr(evaluate_module, "main", broken)
    with pytest.raises(ValueError, match="could not be broadcast"):
        cli.main(["eval", "--dataset", str(tmp_path)])
    p = _srgan("eval", "--dataset", str(tmp_path),
               code="import numpy as np\nimport srgan_lib.cli.eval as E\n"
                    "E.main = lambda args: np.zeros(2) + np.zeros(3)")
    assert p.returncode not in (0, 2)
    assert "Traceback (most recent call last)" in p.stderr and "could not be broadcast" in p.stderr
    assert "srgan eval: error" not in p.stderr


def test_debug_shows_the_traceback_of_a_user_error(tmp_path):
    missing = str(tmp_path / "missing")
    for p in (_srgan("--debug", "eval", "--dataset", missing),
              _srgan("eval", "--dataset", missing, env={"SRGAN_DEBUG": "1"})):
        assert p.returncode not in (0, 2)
        assert "Traceback (most recent call last)" in p.stderr
        assert "InputNotFoundError: folder not found" in p.stderr


@pytest.mark.parametrize("exc,status,message", [
    (TrainingDiverged("loss is nan at step 7"), 3, "srgan eval: error: loss is nan at step 7\n"),
    (InputNotFoundError("first\nsecond"), 2, "srgan eval: error: first second\n"),
    (KeyboardInterrupt(), 130, "srgan eval: interrupted\n"),
])
def test_exit_status_of_the_error_class_and_interrupt(monkeypatch, capsys, tmp_path, exc, status, message):
    def command(args):
        raise exc

    monkeypatch.setattr(evaluate_module, "main", command)
    assert cli.main(["eval", "--dataset", str(tmp_path)]) == status
    assert capsys.readouterr().err == message


def test_unknown_command_and_bad_option_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["nonsense"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["eval", "--dataset", "Set5", "--scale", "four"])
    assert exc.value.code == 2 and "invalid int value" in capsys.readouterr().err
