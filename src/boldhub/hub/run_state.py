"""A linkage run's state in the hub's database: running, then done or failed.

A run's row is written when it starts, naming the process that runs it (its ``worker``:
host, process id and the process's start time, so that a process id reused after a
restart is not mistaken for the old process). The run is marked done in the transaction
that records its results, or failed when it raises. A process killed outright (``kill
-9``, a power cut) marks nothing: ``recover`` finds runs whose worker no longer exists on
this host and marks them failed, removes what they left, and audits it. The service
calls it at start-up and before every run.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from boldhub import clock
from boldhub.errors import HubStateError, UserError
from boldhub.hub import audit
from boldhub.hub.store import MODELS_DIR, RUNS_DIR, Hub
from boldhub.hub.store.models import LinkageRun

log = logging.getLogger("boldhub.linking")

INTERRUPTED = "interrupted: the process running it stopped before it finished"
ABANDONED = "abandoned by the hub's team: the process running it had stopped"


def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux); "" elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name, in parentheses, may hold spaces: count fields after it.
    return stat.rsplit(")", 1)[1].split()[19]


def this_worker() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def _alive(worker: str) -> bool:
    """Whether ``worker`` is a process still running; a worker on another host is taken
    to be alive (only its own host can tell)."""
    _, _, rest = worker.partition(":")
    pid_text, _, ticks = rest.partition(":")
    if not _on_this_host(worker) or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return not ticks or _start_ticks(pid) == ticks


def begin(
    hub: Hub,
    run_id: str,
    *,
    agreement: str,
    submissions: dict[str, str],
    threshold: float,
    actor: str,
) -> None:
    """Record run ``run_id`` as running; refused while another run of the agreement runs."""
    recover(hub)
    with hub.sessions() as session, session.begin():
        for other in session.execute(
            select(LinkageRun).where(LinkageRun.state == "running").with_for_update()
        ).scalars():
            if (other.summary or {}).get("agreement") == agreement:
                raise HubStateError(
                    f"a linkage run of agreement {agreement} is already running (run "
                    f"{other.id}, started {other.started_at:%Y-%m-%d %H:%M}); wait for it to "
                    "finish, or, if its process is gone, `boldhub links abandon "
                    f"{other.id}`"
                )
        session.add(
            LinkageRun(
                id=run_id,
                state="running",
                started_at=clock.now(),
                finished_at=None,
                worker=this_worker(),
                records=0,
                persons=0,
                threshold=threshold,
                submissions=submissions,
                summary={"agreement": agreement, "started_by": actor},
            )
        )


def fail(hub: Hub, run_id: str, exc: BaseException, *, actor: str) -> None:
    """Mark a run that raised as failed: a user error keeps its message, a bug only its
    kind (the log has the rest)."""
    reason = str(exc) if isinstance(exc, UserError) else f"internal error ({type(exc).__name__})"
    with hub.sessions() as session, session.begin():
        _mark_failed(session, run_id, reason, actor)


def _mark_failed(session: Session, run_id: str, reason: str, actor: str) -> bool:
    run = session.get(LinkageRun, run_id, with_for_update=True)
    if run is None or run.state != "running":
        return False
    run.state = "failed"
    run.finished_at = clock.now()
    run.error = reason[:500]
    audit.append(
        session,
        actor=actor,
        action="linkage.failed",
        subject=run_id,
        details={"reason": run.error},
    )
    return True


def recover(hub: Hub) -> list[str]:
    """Mark failed every running run whose process is gone, and remove its unfinished
    files and any model it saved before it died. Returns the runs marked."""
    with hub.sessions() as session:
        stale = [
            run.id
            for run in session.execute(
                select(LinkageRun).where(LinkageRun.state == "running")
            ).scalars()
            if run.worker is None or not _alive(run.worker)
        ]
    marked = [run_id for run_id in stale if _fail_dead(hub, run_id, INTERRUPTED, "hub")]
    if marked:
        _remove_unrecorded_models(hub)
        log.warning("marked %d interrupted linkage runs as failed", len(marked))
    return marked


def abandon(hub: Hub, run_id: str, *, actor: str) -> None:
    """Mark failed a running run whose process the operator knows is gone: one that ran on
    another host (a container restarted under a new name, say), which ``recover`` cannot
    judge. A run whose process is alive on this host is refused."""
    with hub.sessions() as session:
        run = session.get(LinkageRun, run_id)
    if run is None:
        raise HubStateError(f"the hub has no linkage run {run_id}")
    if run.state != "running":
        raise HubStateError(f"linkage run {run_id} is not running (it is {run.state})")
    if run.worker is not None and _alive(run.worker) and _on_this_host(run.worker):
        raise HubStateError(
            f"linkage run {run_id} is still running in process "
            f"{run.worker.split(':')[1]} on this host; stop that process first"
        )
    _fail_dead(hub, run_id, ABANDONED, actor)
    _remove_unrecorded_models(hub)


def _fail_dead(hub: Hub, run_id: str, reason: str, actor: str) -> bool:
    """Mark failed a run whose process is gone, and remove its unfinished folder; False
    when it was no longer running."""
    with hub.sessions() as session, session.begin():
        marked = _mark_failed(session, run_id, reason, actor)
    shutil.rmtree(hub.path(RUNS_DIR, f".{run_id}.partial"), ignore_errors=True)
    return marked


def _on_this_host(worker: str) -> bool:
    return worker.partition(":")[0] == socket.gethostname()


def _remove_unrecorded_models(hub: Hub) -> None:
    """Saved models that no done run names: a run died between saving its model and
    recording itself. No run may use them, so they go."""
    with hub.sessions() as session:
        named = {
            (run.summary or {}).get("model_version")
            for run in session.execute(
                select(LinkageRun).where(LinkageRun.state == "done")
            ).scalars()
        }
        running = session.execute(
            select(LinkageRun.id).where(LinkageRun.state == "running")
        ).first()
    if running is not None:
        return  # a live run may be saving its model right now; the next recovery cleans
    root = hub.path(MODELS_DIR)
    for folder in sorted(root.glob("*/v*")):
        if folder.is_dir() and f"{folder.parent.name}/{folder.name}" not in named:
            shutil.rmtree(folder, ignore_errors=True)
