"""Jobs, sweeps, executions and runners in our store; entities out, never ORM rows.

Every state change is one transaction, and the ones two processes may race for (a
runner claiming an execution, a cancel against a finish) are conditional UPDATEs, so the
database decides who won, not a process's memory. That is what lets a second runner (a
scheduler, another host in team mode) share the queue later.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs.entities import (
    CellError,
    Execution,
    ExecutionPage,
    ExecutionState,
    Job,
    Submission,
    Sweep,
)
from mlops_lab.core.jobs.rows import (
    error_json,
    execution_entities,
    execution_entity,
    job_entity,
    job_row,
    sweep_entity,
    sweep_row,
)
from mlops_lab.core.store import LabStore
from mlops_lab.core.store.schema import (
    AttemptRow,
    ExecutionRow,
    JobRow,
    RunnerRow,
    ScheduleRow,
    SweepRow,
)

State = ExecutionState
ACTIVE = (State.QUEUED.value, State.RUNNING.value)
ID_PREFIX_MIN = 4


def new_id() -> str:
    """12 hex digits: short enough to type in ``mlops-lab job show``, unique enough."""
    return secrets.token_hex(6)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewExecution:
    parameters: dict[str, Any]
    """Masked, for display."""
    values: dict[str, Any]
    """In clear, for the kernel; erased when the execution ends."""


@dataclass(frozen=True)
class Claimed:
    """What a runner hands a worker: the execution and its values in clear."""

    execution: Execution
    job: Job
    values: dict[str, Any]
    sweep_run_id: str | None


class JobStore:
    """The jobs tables of a :class:`LabStore`."""

    def __init__(self, store: LabStore) -> None:
        self.store = store

    # -- submit -------------------------------------------------------------------------------

    def add(
        self,
        job: Job,
        executions: list[NewExecution],
        sweep: Sweep | None,
        idempotency_key: str | None,
    ) -> Submission:
        """Queue ``executions`` of ``job`` (and their sweep) in one transaction.

        A key already used returns what it queued then, with ``reused`` set: a double
        click or a retried request never runs a notebook twice.
        """
        if idempotency_key:
            earlier = self.by_idempotency_key(idempotency_key)
            if earlier is not None:
                return earlier
        ids = [new_id() for _ in executions]
        try:
            with self.store.transaction() as session:
                session.add(job_row(job))
                session.flush()  # the rows below reference it (no ORM relationship orders them)
                if sweep is not None:
                    session.add(sweep_row(sweep, idempotency_key))
                    session.flush()
                for index, (execution_id, new) in enumerate(zip(ids, executions, strict=True)):
                    key = idempotency_key if sweep is None and index == 0 else None
                    session.add(
                        ExecutionRow(
                            id=execution_id,
                            job_id=job.id,
                            sweep_id=sweep.id if sweep else None,
                            parameters=new.parameters,
                            values=new.values,
                            state=State.QUEUED.value,
                            attempt=1,
                            max_attempts=job.retries + 1,
                            cells_done=0,
                            cells_total=0,
                            cancel_requested=False,
                            created_at=job.created_at,
                            created_by=job.created_by,
                            idempotency_key=key,
                        )
                    )
        except IntegrityError:
            earlier = self.by_idempotency_key(idempotency_key) if idempotency_key else None
            if earlier is None:
                raise
            return earlier  # the same key committed by a concurrent request first
        return Submission(
            executions=[self.get(i) for i in ids],
            sweep=self.get_sweep(sweep.id) if sweep else None,
        )

    def by_idempotency_key(self, key: str) -> Submission | None:
        with self.store.transaction() as session:
            sweep = session.scalar(select(SweepRow).where(SweepRow.idempotency_key == key))
            if sweep is not None:
                rows = _sweep_executions(session, sweep.id)
                return Submission(
                    executions=execution_entities(session, rows),
                    sweep=sweep_entity(session, sweep),
                    reused=True,
                )
            row = session.scalar(select(ExecutionRow).where(ExecutionRow.idempotency_key == key))
            if row is None:
                return None
            return Submission(executions=[execution_entity(session, row)], reused=True)

    # -- read ---------------------------------------------------------------------------------

    def get(self, execution_id: str) -> Execution:
        """One execution by id or by a unique prefix of at least 4 characters."""
        with self.store.transaction() as session:
            return execution_entity(session, _find(session, execution_id))

    def many(self, execution_ids: list[str]) -> list[Execution]:
        """Executions by exact id, in the order asked (one round of queries, for ``wait``)."""
        with self.store.transaction() as session:
            rows = list(
                session.scalars(select(ExecutionRow).where(ExecutionRow.id.in_(execution_ids)))
            )
            found = {e.id: e for e in execution_entities(session, rows)}
        missing = [i for i in execution_ids if i not in found]
        if missing:
            raise NotFound(f"No execution '{missing[0]}'.")
        return [found[i] for i in execution_ids]

    def job(self, job_id: str) -> Job:
        with self.store.transaction() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFound(f"No job '{job_id}'.")
            return job_entity(row)

    def values(self, execution_id: str) -> dict[str, Any] | None:
        """The parameters in clear while the execution is not finished (None after)."""
        with self.store.transaction() as session:
            row = session.get(ExecutionRow, execution_id)
            return None if row is None or row.values is None else dict(row.values)

    def page(
        self,
        *,
        job_id: str | None = None,
        sweep_id: str | None = None,
        schedule_id: str | None = None,
        state: str | None = None,
        max_results: int = 50,
        page_token: str | None = None,
    ) -> ExecutionPage:
        """Newest first; the token is the last row's (created_at, id), opaque to callers."""
        query = select(ExecutionRow)
        if job_id:
            query = query.where(ExecutionRow.job_id == job_id)
        if sweep_id:
            query = query.where(ExecutionRow.sweep_id == sweep_id)
        if schedule_id:
            query = query.where(ExecutionRow.schedule_id == schedule_id)
        if state:
            states = [s.strip().upper() for s in state.split(",") if s.strip()]
            unknown = [s for s in states if s not in State.__members__]
            if unknown:
                raise InvalidInput(
                    f"Unknown execution state '{unknown[0]}': use one of "
                    f"{', '.join(State.__members__)}.",
                    param="state",
                )
            query = query.where(ExecutionRow.state.in_(states))
        if page_token:
            created, last_id = _read_token(page_token)
            query = query.where(
                or_(
                    ExecutionRow.created_at < created,
                    and_(ExecutionRow.created_at == created, ExecutionRow.id < last_id),
                )
            )
        query = query.order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
        with self.store.transaction() as session:
            rows = list(session.scalars(query.limit(max_results + 1)))
            more = len(rows) > max_results
            rows = rows[:max_results]
            token = _token(rows[-1]) if more and rows else None
            return ExecutionPage(
                executions=execution_entities(session, rows), next_page_token=token
            )

    def get_sweep(self, sweep_id: str) -> Sweep:
        with self.store.transaction() as session:
            row = session.get(SweepRow, sweep_id)
            if row is None:
                raise NotFound(f"No sweep '{sweep_id}'. `mlops-lab job list` shows executions.")
            return sweep_entity(session, row)

    # -- the runner's side --------------------------------------------------------------------

    def claim(self, runner_id: str, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` queued executions whose time has come, oldest first.

        A sweep's executions count against its concurrency, a schedule's against its
        ``max_active``. Each claim is a conditional
        UPDATE (``state = 'QUEUED'``): of two runners, exactly one gets an execution.
        """
        if limit <= 0:
            return []
        moment = now()
        claimed: list[Claimed] = []
        with self.store.transaction() as session:
            candidates = list(
                session.scalars(
                    select(ExecutionRow)
                    .where(ExecutionRow.state == State.QUEUED.value)
                    .where(
                        or_(ExecutionRow.not_before.is_(None), ExecutionRow.not_before <= moment)
                    )
                    .order_by(ExecutionRow.created_at, ExecutionRow.id)
                    .limit(limit * 4 + 8)
                )
            )
            room = _sweep_room(session, {r.sweep_id for r in candidates if r.sweep_id})
            schedules = _schedule_room(
                session, {r.schedule_id for r in candidates if r.schedule_id}
            )
            for row in candidates:
                if len(claimed) >= limit:
                    break
                if row.sweep_id is not None and room.get(row.sweep_id, 0) <= 0:
                    continue
                if row.schedule_id is not None and schedules.get(row.schedule_id, 0) <= 0:
                    continue
                won = session.execute(
                    update(ExecutionRow)
                    .where(ExecutionRow.id == row.id, ExecutionRow.state == State.QUEUED.value)
                    .values(state=State.RUNNING.value, claimed_by=runner_id, started_at=moment)
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                if row.sweep_id is not None:
                    room[row.sweep_id] -= 1
                if row.schedule_id is not None:
                    schedules[row.schedule_id] -= 1
                session.refresh(row)
                sweep_run = None
                if row.sweep_id is not None:
                    sweep_row = session.get(SweepRow, row.sweep_id)
                    sweep_run = sweep_row.run_id if sweep_row else None
                job_row = session.get(JobRow, row.job_id)
                assert job_row is not None
                claimed.append(
                    Claimed(
                        execution=execution_entity(session, row),
                        job=job_entity(job_row),
                        values=dict(row.values or {}),
                        sweep_run_id=sweep_run,
                    )
                )
        return claimed

    def take_attempt(self, execution_id: str, attempt: int) -> bool:
        """Take ``attempt`` of an execution: True for the first caller only, ever.

        The attempt's row is inserted (its primary key is the execution and the number),
        so of two callers exactly one wins, whichever process or host they run in. A Dask
        task takes its attempt before running it, so the copy Dask starts again after its
        worker died refuses to run the notebook a second time; the runner takes an attempt
        that a lost worker may not have begun, so that no copy begins it afterwards.
        """
        try:
            with self.store.transaction() as session:
                session.add(
                    AttemptRow(
                        execution_id=execution_id,
                        number=attempt,
                        state=State.RUNNING.value,
                        started_at=now(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def start_attempt(
        self,
        execution_id: str,
        attempt: int,
        run_id: str | None,
        experiment_id: str | None,
        output_path: str,
    ) -> None:
        """The worker began ``attempt``: its MLflow run exists and its notebook has a path."""
        moment = now()
        with self.store.transaction() as session:
            row = _row(session, execution_id)
            row.run_id = run_id
            row.experiment_id = experiment_id
            row.output_path = output_path
            row.cells_done = 0
            row.current_cell = None
            row.error = None
            session.merge(
                AttemptRow(
                    execution_id=execution_id,
                    number=attempt,
                    state=State.RUNNING.value,
                    run_id=run_id,
                    started_at=moment,
                )
            )

    def progress(
        self, execution_id: str, cells_done: int, cells_total: int, current_cell: int | None
    ) -> None:
        with self.store.transaction() as session:
            session.execute(
                update(ExecutionRow)
                .where(ExecutionRow.id == execution_id)
                .values(cells_done=cells_done, cells_total=cells_total, current_cell=current_cell)
            )

    def has_queued(self) -> bool:
        with self.store.transaction() as session:
            query = select(ExecutionRow.id).where(ExecutionRow.state == State.QUEUED.value)
            return session.scalar(query.limit(1)) is not None

    def cancel_requested(self, execution_id: str) -> bool:
        with self.store.transaction() as session:
            return bool(
                session.scalar(
                    select(ExecutionRow.cancel_requested).where(ExecutionRow.id == execution_id)
                )
            )

    def finish_attempt(
        self, execution_id: str, attempt: int, state: ExecutionState, error: CellError | None
    ) -> Execution:
        """Record how ``attempt`` ended; queue the next one when the retry policy allows.

        FAILED and TIMED_OUT are retried (after ``retry_backoff`` seconds, doubled each
        time); CANCELLED and SUCCEEDED never are. Once the execution is final its values
        in clear are erased: a secret parameter is kept no longer than it is needed.
        """
        with self.store.transaction() as session:
            row = _row(session, execution_id)
            _finish(session, row, attempt, state, error)
            return execution_entity(session, row)

    def request_cancel(self, execution_id: str) -> Execution:
        """Cancel: a queued execution at once, a running one through its worker."""
        moment = now()
        with self.store.transaction() as session:
            row = _find(session, execution_id)
            state = State(row.state)
            if state.finished:
                raise InvalidInput(
                    f"Execution {row.id} already ended ({state.value}): nothing to cancel.",
                    param="execution_id",
                )
            row.cancel_requested = True
            if state is State.QUEUED:
                row.state = State.CANCELLED.value
                row.finished_at = moment
                row.values = None
            session.flush()
            return execution_entity(session, row)

    def fail(self, execution_id: str, message: str, name: str = "RunnerError") -> Execution:
        """End an execution whose worker or runner died: FAILED (or retried), with what
        happened. Of two processes failing the same lost execution (a runner and a
        scheduler both reaping it) only the first does: the conditional UPDATE decides,
        so a retry is never spent twice."""
        error = CellError(cell_index=None, name=name, message=message)
        with self.store.transaction() as session:
            won = session.execute(
                update(ExecutionRow)
                .where(
                    ExecutionRow.id == execution_id,
                    ExecutionRow.state == State.RUNNING.value,
                    ExecutionRow.claimed_by.is_not(None),
                )
                .values(claimed_by=None)
                .execution_options(synchronize_session=False)
            )
            row = _row(session, execution_id)
            if won.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(row)
                _finish(session, row, row.attempt, State.FAILED, error)
            return execution_entity(session, row)

    # -- sweeps -------------------------------------------------------------------------------

    def finish_sweep_if_done(self, sweep_id: str) -> Sweep | None:
        """Claim the sweep's ending once its last execution ended; None while some run.

        The conditional UPDATE (``finished_at IS NULL``) lets exactly one of the workers
        finishing a sweep's last executions write its summary. The sweep shows RUNNING
        until :meth:`complete_sweep` writes its state and best execution together.
        """
        with self.store.transaction() as session:
            active = session.scalar(
                select(func.count())
                .select_from(ExecutionRow)
                .where(ExecutionRow.sweep_id == sweep_id, ExecutionRow.state.in_(ACTIVE))
            )
            if active:
                return None
            states = set(
                session.scalars(select(ExecutionRow.state).where(ExecutionRow.sweep_id == sweep_id))
            )
            final = State.SUCCEEDED if states == {State.SUCCEEDED.value} else State.FAILED
            if states == {State.CANCELLED.value}:
                final = State.CANCELLED
            won = session.execute(
                update(SweepRow)
                .where(SweepRow.id == sweep_id, SweepRow.finished_at.is_(None))
                .values(finished_at=now())
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.get(SweepRow, sweep_id)
            assert row is not None
            session.refresh(row)
            return replace(sweep_entity(session, row), state=final)

    def complete_sweep(
        self,
        sweep_id: str,
        state: ExecutionState,
        execution_id: str | None,
        value: float | None,
    ) -> None:
        """The sweep's final state and its best execution, in one write."""
        with self.store.transaction() as session:
            session.execute(
                update(SweepRow)
                .where(SweepRow.id == sweep_id)
                .values(state=state.value, best_execution_id=execution_id, best_value=value)
            )

    # -- runners ------------------------------------------------------------------------------

    def beat(self, runner_id: str, host: str, pid: int) -> None:
        """Say this runner is alive (inserting its row the first time)."""
        moment = now()
        with self.store.transaction() as session:
            row = session.get(RunnerRow, runner_id)
            if row is None:
                session.add(
                    RunnerRow(
                        id=runner_id, host=host, pid=pid, started_at=moment, heartbeat_at=moment
                    )
                )
            else:
                row.heartbeat_at = moment

    def forget_stale_runners(self, stale_after: timedelta) -> list[str]:
        """Delete the rows of runners silent for ``stale_after``; their running executions
        are returned, for the caller to fail."""
        with self.store.transaction() as session:
            stale = list(
                session.scalars(
                    select(RunnerRow.id).where(RunnerRow.heartbeat_at < now() - stale_after)
                )
            )
            orphans = list(
                session.scalars(
                    select(ExecutionRow.id).where(
                        ExecutionRow.state == State.RUNNING.value,
                        or_(
                            ExecutionRow.claimed_by.in_(stale),
                            ExecutionRow.claimed_by.not_in(select(RunnerRow.id)),
                        ),
                    )
                )
            )
            if stale:
                session.execute(delete(RunnerRow).where(RunnerRow.id.in_(stale)))
            return orphans

    def forget_runner(self, runner_id: str) -> None:
        with self.store.transaction() as session:
            session.execute(delete(RunnerRow).where(RunnerRow.id == runner_id))


def _finish(
    session: Session,
    row: ExecutionRow,
    attempt: int,
    state: ExecutionState,
    error: CellError | None,
) -> None:
    """How ``attempt`` of ``row`` ended: final, or queued again for its retry."""
    moment = now()
    error_data = error_json(error)
    attempt_row = session.get(AttemptRow, (row.id, attempt))
    if attempt_row is None:
        attempt_row = AttemptRow(execution_id=row.id, number=attempt)
        session.add(attempt_row)
    attempt_row.state = state.value
    attempt_row.finished_at = moment
    attempt_row.error = error_data
    job = session.get(JobRow, row.job_id)
    retry = (
        state in (State.FAILED, State.TIMED_OUT)
        and not row.cancel_requested
        and attempt < row.max_attempts
    )
    row.error = error_data
    row.current_cell = None
    if retry:
        backoff = (job.retry_backoff if job else 10.0) * 2 ** (attempt - 1)
        row.state = State.QUEUED.value
        row.attempt = attempt + 1
        row.not_before = moment + timedelta(seconds=backoff)
        row.claimed_by = None
    else:
        row.state = state.value
        row.finished_at = moment
        row.values = None
    session.flush()


# -- rows <-> entities --------------------------------------------------------------------------


def _find(session: Session, execution_id: str) -> ExecutionRow:
    execution_id = execution_id.strip()
    row = session.get(ExecutionRow, execution_id)
    if row is not None:
        return row
    if len(execution_id) >= ID_PREFIX_MIN:
        matches = list(
            session.scalars(
                select(ExecutionRow).where(ExecutionRow.id.startswith(execution_id)).limit(2)
            )
        )
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidInput(
                f"Execution id '{execution_id}' matches several executions: give more of it.",
                param="execution_id",
            )
    raise NotFound(
        f"No execution '{execution_id}'. `%mlops jobs` or `mlops-lab job list` shows the "
        "recent ones."
    )


def _row(session: Session, execution_id: str) -> ExecutionRow:
    row = session.get(ExecutionRow, execution_id)
    if row is None:
        raise NotFound(f"No execution '{execution_id}'.")
    return row


def _sweep_executions(session: Session, sweep_id: str) -> list[ExecutionRow]:
    return list(
        session.scalars(
            select(ExecutionRow)
            .where(ExecutionRow.sweep_id == sweep_id)
            .order_by(ExecutionRow.created_at, ExecutionRow.id)
        )
    )


def _sweep_room(session: Session, sweep_ids: set[str]) -> dict[str, int]:
    """How many more executions each sweep may start now (its concurrency minus running)."""
    if not sweep_ids:
        return {}
    running = dict(
        session.execute(
            select(ExecutionRow.sweep_id, func.count())
            .where(ExecutionRow.sweep_id.in_(sweep_ids), ExecutionRow.state == State.RUNNING.value)
            .group_by(ExecutionRow.sweep_id)
        ).all()
    )
    limits = dict(
        session.execute(
            select(SweepRow.id, SweepRow.concurrency).where(SweepRow.id.in_(sweep_ids))
        ).all()
    )
    return {s: limits.get(s, 1) - running.get(s, 0) for s in sweep_ids}


def _token(row: ExecutionRow) -> str:
    text = f"{row.created_at.isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _read_token(token: str) -> tuple[datetime, str]:
    try:
        created, last_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return datetime.fromisoformat(created), last_id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(
            f"page_token '{token}' is not one this server gave: start from the first page.",
            param="page_token",
        ) from None


def _schedule_room(session: Session, schedule_ids: set[str]) -> dict[str, int]:
    """How many more executions of each schedule may start running (its ``max_active``
    minus those running): a ``queue`` schedule's slots wait here, not beside each other."""
    if not schedule_ids:
        return {}
    limits = dict(
        session.execute(
            select(ScheduleRow.id, ScheduleRow.max_active).where(ScheduleRow.id.in_(schedule_ids))
        ).all()
    )
    running = dict(
        session.execute(
            select(ExecutionRow.schedule_id, func.count())
            .where(
                ExecutionRow.schedule_id.in_(schedule_ids),
                ExecutionRow.state == State.RUNNING.value,
            )
            .group_by(ExecutionRow.schedule_id)
        ).all()
    )
    return {i: limits.get(i, 1) - running.get(i, 0) for i in schedule_ids}
