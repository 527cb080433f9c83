"""``%mlops job schedule``, ``%mlops schedules`` and ``%mlops schedule ...`` in an in-process
IPython, against a temp root's real store (creating a schedule inspects the notebook and
the installed kernels; nothing here starts a kernel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from mlops_lab.core.config import EXECUTION_ENV
from tests.faces.job_notebooks import adds
from tests.faces.magics.shells import mlops, plain_shell


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLOPS_LAB_ROOT", str(tmp_path))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv(EXECUTION_ENV, raising=False)
    adds(tmp_path)
    return tmp_path


@pytest.fixture
def shell(root: Path) -> Iterator[InteractiveShell]:
    with plain_shell() as ipython:
        yield ipython


def table(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    frame = shell.run_line_magic("mlops", "schedules")
    capsys.readouterr()
    return frame.to_dict("records")


def test_job_schedule_prints_the_schedule_and_the_table_lists_it(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    out, err = mlops(
        shell,
        'job schedule work/adds.ipynb --cron "0 7 * * 1-5" --tz America/New_York -p alpha=3 '
        '--name "weekday mornings" --catch-up none --end "2099-06-01 12:00"',
        capsys,
    )

    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("schedule   ") and lines[0].endswith(" (weekday mornings)")
    schedule_id = lines[0].split()[1]
    assert "parameters alpha=3.0" in lines
    assert "runs       At 07:00, Monday through Friday (0 7 * * 1-5), America/New_York" in lines
    nexts = [line for line in lines if " 07:00 E" in line and "(in " in line]
    assert len(nexts) == 3 and lines[lines.index(nexts[0]) - 1] == "state      ACTIVE"
    assert "ends       Mon 2099-06-01 12:00 EDT" in lines
    assert lines[-1] == (
        "mlops: it fires while a scheduler runs for this project: JupyterLab with mlops-lab, "
        f"or `mlops-lab scheduler`; %mlops schedule show {schedule_id[:8]} tells what it did"
    )

    (row,) = table(shell, capsys)
    assert (row["id"], row["name"], row["notebook"]) == (
        schedule_id,
        "weekday mornings",
        "work/adds.ipynb",
    )
    assert (row["cron"], row["when"], row["zone"], row["state"]) == (
        "0 7 * * 1-5",
        "At 07:00, Monday through Friday",
        "America/New_York",
        "ACTIVE",
    )
    assert " 07:00 E" in row["next_run"] and row["last_result"] == "-" and row["problem"] == ""


def test_show_pause_resume_delete(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    mlops(shell, 'job schedule work/adds.ipynb --cron "@hourly" --tz UTC', capsys)
    (row,) = table(shell, capsys)
    prefix = row["id"][:6]

    out, _ = mlops(shell, f"schedule show {prefix}", capsys)
    assert out.startswith(f"schedule   {row['id']} (adds)\n")
    assert out.endswith("recent slots: none yet\n\nrecent executions: none yet\n")
    out, _ = mlops(shell, f"schedule pause {prefix}", capsys)
    assert out == f"mlops: schedule {row['id']} PAUSED: no slot fires until it is resumed\n"
    assert table(shell, capsys)[0]["next_run"] == "-"
    out, _ = mlops(shell, f"schedule resume {prefix}", capsys)
    assert out.startswith(f"mlops: schedule {row['id']} ACTIVE: next run ")
    out, _ = mlops(shell, f"schedule delete {prefix}", capsys)
    assert out == f"mlops: deleted schedule {row['id']}; its executions stay (%mlops jobs)\n"
    assert table(shell, capsys) == []


def test_without_a_notebook_it_schedules_the_kernels_own(
    root: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As ``job run`` does; no "as saved at" line: each slot runs the notebook as saved then."""
    monkeypatch.setenv("JPY_SESSION_NAME", "work/adds.ipynb")
    (root / "work" / "adds.ipynb").touch()  # saved as the cell runs
    out, err = mlops(shell, 'job schedule --cron "0 3 * * *"', capsys)

    assert err == "" and "as saved at" not in out
    assert "notebook   work/adds.ipynb" in out.splitlines()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('job schedule work/adds.ipynb --cron "0 3 * * 8"', "the day of week field '8' is wrong"),
        ('job schedule work/adds.ipynb --cron "0 3 * *"', "it has 4 field(s)"),
        ('job schedule work/adds.ipynb --cron "0 3 * * *" --tz Atlantis', "Unknown time zone"),
        ('job schedule work/adds.ipynb --cron "0 3 * * *" --end 2020-02-02', "is in the past"),
        ('job schedule work/adds.ipynb --cron "0 3 * * *" --end later', "--end must be a date"),
        ('job schedule work/adds.ipynb --cron "0 3 * * *" -p alpha=x', "alpha expects float"),
        ('job schedule work/adds.ipynb --cron "0 3 * * *" -p beta={nothing_here}', "NameError"),
        ('job schedule work/nope.ipynb --cron "0 3 * * *"', "nope.ipynb"),
        ('job schedule --cron "0 3 * * *"', "This kernel does not know its notebook"),
        ("job schedule work/adds.ipynb", "the following arguments are required: --cron"),
        ("schedule pause nosuchid", "No schedule 'nosuchid'"),
        ("schedule", "the following arguments are required"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    out, err = mlops(shell, line, capsys)

    assert out == ""
    assert err.startswith("mlops: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert table(shell, capsys) == []


def test_a_schedule_whose_notebook_is_gone_is_flagged(
    root: Path, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    mlops(shell, 'job schedule work/adds.ipynb --cron "0 3 * * *"', capsys)
    (root / "work" / "adds.ipynb").unlink()

    frame = shell.run_line_magic("mlops", "schedules")
    out = capsys.readouterr().out
    (row,) = frame.to_dict("records")
    assert row["problem"].startswith("its notebook work/adds.ipynb no longer exists")
    assert out == f"mlops: ! schedule {row['id'][:8]}: {row['problem']}\n"


def test_a_job_execution_cannot_schedule_its_own_notebook(
    root: Path,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each execution would add a schedule, without end."""
    monkeypatch.setenv("JPY_SESSION_NAME", "work/adds.ipynb")
    monkeypatch.setenv(EXECUTION_ENV, "e123")
    _, err = mlops(shell, 'job schedule work/adds.ipynb --cron "0 3 * * *"', capsys)

    assert "as the job execution e123: running or scheduling adds.ipynb" in err
    assert table(shell, capsys) == []
