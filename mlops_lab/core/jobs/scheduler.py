"""The scheduler: turns cron slots into queued executions, and sleeps in between.

It sleeps until the next slot of any schedule (no fixed polling interval), and a change
to any schedule wakes it at once: each scheduler listens on a loopback UDP port recorded
in the store, and :func:`wake_schedulers` sends every live one on this host a datagram.
Any number may run against one store, inside Jupyter servers and as ``mlops-lab
scheduler``: each slot is claimed by inserting its row (:mod:`schedule_store`), so one
of them fires it, and the next one to start picks up from the newest claimed slot.

Which due slots fire:
- a slot at most ``ON_TIME`` old is on time and fires, whatever the catch-up policy (a
  busy machine makes a scheduler late, not a slot missed);
- older slots were missed (no scheduler ran then): ``last`` fires the newest of them
  when no on-time slot fires, ``all`` fires up to ``catch-up-limit`` of them, ``none``
  records the newest as missed and fires none.

Executions run in the job runner (:mod:`service`), started here ``WARM_UP`` before a
slot so its workers are warm when the slot comes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import FrameType

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import MlopsError, one_line
from mlops_lab.core.jobs.cron import Cron
from mlops_lab.core.jobs.entities import CatchUp
from mlops_lab.core.jobs.schedule_store import Cursor, ScheduleStore
from mlops_lab.core.jobs.store import now
from mlops_lab.core.store import store_exists

log = logging.getLogger("mlops_lab.scheduler")

ON_TIME = timedelta(seconds=60)
WARM_UP = timedelta(seconds=30)
"""How long before a slot the job runner is started, when it is not running."""
HEARTBEAT_S = 10.0
RETRY_S = 2.0
"""How soon a scheduler tries again after its store failed to answer."""
MAX_SLEEP_S = 3600.0
"""A bound on one sleep, for a scheduler on another host that no datagram can wake."""
WAKE = b"wake"


def wake_schedulers(settings: Settings) -> None:
    """Wake every live scheduler on this host: a schedule changed, its next slot may too."""
    from mlops_lab.core.jobs.schedules import schedule_store

    stale = timedelta(seconds=settings.heartbeat_timeout)
    ports = schedule_store(settings).wake_ports(socket.gethostname(), stale)
    if not ports:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for port in ports:
            with contextlib.suppress(OSError):
                sender.sendto(WAKE, ("127.0.0.1", port))


class Scheduler:
    """One scheduler: call :meth:`run` in a thread or a process, :meth:`stop` from another."""

    def __init__(self, settings: Settings, store: ScheduleStore, *, runs_jobs: bool = True) -> None:
        """``runs_jobs`` False: only queue (a runner started elsewhere claims the slots)."""
        self.settings = settings
        self.store = store
        self.runs_jobs = runs_jobs
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._stopping = threading.Event()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.fired = 0

    def run(self) -> None:
        """Fire due slots, sleep until the next one (or a wake), until :meth:`stop`."""
        log.info("mlops-lab: scheduler %s for %s", self.id, self.settings.root)
        next_beat = 0.0
        try:
            while not self._stopping.is_set() and not store_exists(self.settings):
                # A folder where nothing was ever tracked or scheduled: no store to create.
                self._sleep(time.monotonic() + HEARTBEAT_S, time.monotonic() + HEARTBEAT_S)
            while not self._stopping.is_set():
                if time.monotonic() >= next_beat:
                    self._beat()
                    next_beat = time.monotonic() + HEARTBEAT_S
                try:
                    upcoming = self.fire_due(now())
                except Exception as exc:  # a store that did not answer: never die of it
                    log.error("mlops-lab: scheduler: %s", one_line(exc), exc_info=True)
                    upcoming = now() + timedelta(seconds=RETRY_S)
                self._sleep(self._wake_at(upcoming), next_beat)
        finally:
            with contextlib.suppress(Exception):
                self.store.forget(self.id)
            self._socket.close()
            log.info("mlops-lab: scheduler %s stopped", self.id)

    def stop(self) -> None:
        """Safe from a signal handler or another thread: the sleep ends at once."""
        self._stopping.set()
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
        ):
            sender.sendto(WAKE, ("127.0.0.1", self.port))

    def fire_due(self, moment: datetime) -> datetime | None:
        """Claim every due slot of every active schedule; return the next slot of any."""
        upcoming: datetime | None = None
        queued = False
        for cursor in self.store.cursors():
            cron = Cron(cursor.cron, cursor.timezone)
            queued |= self._fire_schedule(cursor, cron, moment)
            after = max(moment, cursor.after)
            following = [
                t for t in cron.next_after(after) if cursor.end_at is None or t <= cursor.end_at
            ]
            if following and (upcoming is None or following[0] < upcoming):
                upcoming = following[0]
        warm_up = upcoming is not None and upcoming - moment <= WARM_UP
        if self.runs_jobs and (queued or warm_up):
            self._ensure_runner()
        return upcoming

    def _fire_schedule(self, cursor: Cursor, cron: Cron, moment: datetime) -> bool:
        on_time, late = self._due(cursor, cron, moment)
        if late and cursor.catch_up is CatchUp.NONE and not on_time:
            missed = late[-1]
            reason = "no scheduler ran at its time, and this schedule's catch-up is 'none'"
            self.store.claim_slot(cursor.id, missed, self.id, missed=reason)
            log.info("mlops-lab: schedule %s missed %s (catch-up none)", cursor.id, missed)
        to_fire = on_time
        if cursor.catch_up is CatchUp.ALL:
            to_fire = late + on_time
        elif cursor.catch_up is CatchUp.LAST and late and not on_time:
            to_fire = late[-1:]
        missing = None
        if to_fire and not (self.settings.root / cursor.notebook).is_file():
            missing = f"the notebook {cursor.notebook} no longer exists (it was moved or deleted)"
        queued = False
        for slot in to_fire:
            fired = self.store.claim_slot(cursor.id, slot, self.id, notebook_missing=missing)
            if fired is not None:
                self.fired += 1
                queued |= fired.execution_id is not None and missing is None
                log.info(
                    "mlops-lab: schedule %s slot %s: %s%s",
                    cursor.id,
                    slot.isoformat(),
                    fired.outcome.value,
                    f" ({fired.reason})" if fired.reason else "",
                )
        return queued

    def _due(
        self, cursor: Cursor, cron: Cron, moment: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        """The due slots, oldest first: those on time, and the late ones the policy may
        fire (at most ``catch-up-limit``, or one)."""
        horizon = min(moment, cursor.end_at) if cursor.end_at else moment
        keep_late = self.settings.catch_up_limit if cursor.catch_up is CatchUp.ALL else 1
        on_time: list[datetime] = []
        late: list[datetime] = []
        for slot in _bounded(cron.back_from(horizon), cursor.after):
            if moment - slot <= ON_TIME:
                on_time.append(slot)
            elif len(late) < keep_late:
                late.append(slot)
            else:
                break
        return on_time[::-1], late[::-1]

    def _wake_at(self, upcoming: datetime | None) -> float:
        """The monotonic time to wake: the next slot, or ``WARM_UP`` before it."""
        if upcoming is None:
            return time.monotonic() + MAX_SLEEP_S
        moment = now()
        target = upcoming
        if upcoming - moment > WARM_UP:
            target = upcoming - WARM_UP
        seconds = (target - moment).total_seconds()
        return time.monotonic() + min(max(seconds, 0.0), MAX_SLEEP_S)

    def _sleep(self, until: float, next_beat: float) -> None:
        """Until ``until``, the next heartbeat, a wake datagram or :meth:`stop`."""
        timeout = min(until, next_beat) - time.monotonic()
        if timeout <= 0 or self._stopping.is_set():
            return
        self._socket.settimeout(timeout)
        with contextlib.suppress(TimeoutError, OSError):
            self._socket.recv(64)
        self._socket.setblocking(False)
        with contextlib.suppress(BlockingIOError, OSError):
            while self._socket.recv(64):  # several wakes at once are one
                pass

    def _beat(self) -> None:
        """Say it is alive; fail the executions of runners that stopped saying so."""
        from mlops_lab.core.jobs.api import job_store
        from mlops_lab.core.jobs.service import fail_orphans

        try:
            self.store.beat(self.id, socket.gethostname(), os.getpid(), self.port)
            fail_orphans(self.settings, job_store(self.settings))
        except Exception as exc:
            log.error("mlops-lab: scheduler heartbeat: %s", one_line(exc))

    def _ensure_runner(self) -> None:
        from mlops_lab.core.jobs.service import ensure_runner

        try:
            ensure_runner(self.settings)
        except MlopsError as exc:  # the executions stay queued for the next runner
            log.error("mlops-lab: scheduler could not start the job runner: %s", one_line(exc))


def _bounded(slots: Iterator[datetime], after: datetime) -> Iterator[datetime]:
    for slot in slots:
        if slot <= after:
            return
        yield slot


def run_scheduler(settings: Settings) -> int:
    """``mlops-lab scheduler``: in the foreground until SIGTERM or Ctrl-C."""
    from mlops_lab.core.jobs.schedules import schedule_store

    scheduler = Scheduler(settings, schedule_store(settings))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("mlops-lab: scheduler got %s, stopping", signal.Signals(signum).name)
        scheduler.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.run()
    return 0


def start_in_thread(settings: Settings) -> Scheduler:
    """A scheduler on a daemon thread (the Jupyter server's); :meth:`Scheduler.stop` ends it."""
    from mlops_lab.core.jobs.schedules import schedule_store

    scheduler = Scheduler(settings, schedule_store(settings))
    threading.Thread(target=scheduler.run, name="mlops-lab-scheduler", daemon=True).start()
    return scheduler
