"""Prometheus metrics of the hub's work, beside the HTTP and process metrics.

Totals (submissions accepted, linkage runs, report releases) are read from the hub's
database at each scrape, so they hold across restarts and count the command line's work
too; refusals are counted by this process as they happen, by a reason from a fixed set
(never the message: it may name a file or an organisation); runs in progress come from
the service's job runner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, GCCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from boldhub.errors import NotYours, UploadTooLarge, UserError
from boldhub.hub.service import LinkageJobs
from boldhub.hub.store import Hub
from boldhub.hub.store.models import AuditEvent, LinkageRun, Submission

# The first words of a refusal ("signature check failed: ...") to its label.
_CHECKS = {
    "upload": "upload",
    "manifest": "manifest",
    "signature": "signature",
    "agreement": "agreement",
    "key": "key",
    "parameter": "parameters",
    "hash": "files",
    "count": "files",
    "schema": "schema",
    "record key": "schema",
}
REASONS = (*sorted(set(_CHECKS.values())), "too_large", "not_yours", "other")
_PREFIX = re.compile(r"^([a-z ]+) check failed")


def reason(exc: UserError) -> str:
    """The refusal's reason label: one of REASONS."""
    if isinstance(exc, UploadTooLarge):
        return "too_large"
    if isinstance(exc, NotYours):
        return "not_yours"
    found = _PREFIX.match(str(exc))
    return _CHECKS.get(found.group(1), "other") if found else "other"


class HubCollector(Collector):
    def __init__(self, hub: Hub, jobs: LinkageJobs) -> None:
        self.hub = hub
        self.jobs = jobs

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        with self.hub.sessions() as s:
            accepted = s.execute(
                select(Submission.dataset, func.count()).group_by(Submission.dataset)
            ).all()
            runs = s.execute(select(func.count()).select_from(LinkageRun)).scalar_one()
            releases = s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "reports.released")
            ).scalar_one()
            current = s.execute(
                select(func.count()).select_from(Submission).where(Submission.status == "current")
            ).scalar_one()
        subs = CounterMetricFamily(
            "boldhub_submissions_accepted",
            "Packages accepted by the hub, by dataset (superseded ones included).",
            labels=["dataset"],
        )
        for dataset, count in accepted:
            subs.add_metric([dataset], count)
        yield subs
        yield CounterMetricFamily(
            "boldhub_linkage_runs", "Linkage runs finished at this hub.", value=runs
        )
        yield CounterMetricFamily(
            "boldhub_report_releases", "Releases of disclosure-controlled reports.", value=releases
        )
        yield GaugeMetricFamily(
            "boldhub_submissions_current",
            "Current submissions (the next run links these).",
            current,
        )
        yield GaugeMetricFamily(
            "boldhub_linkage_runs_in_progress",
            "Linkage runs in progress in this service (at most one).",
            1 if self.jobs.running_since is not None else 0,
        )


class Metrics:
    """The app's own registry: HTTP metrics (the instrumentator), process metrics, the
    hub's work and refusals. One per app, so that two apps in a process never clash."""

    def __init__(self, hub: Hub, jobs: LinkageJobs) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(HubCollector(hub, jobs))
        self.refusals = Counter(
            "boldhub_refusals",
            "Uploads refused, by reason.",
            ["reason"],
            registry=self.registry,
        )
        for label in REASONS:
            self.refusals.labels(label)

    def refused(self, exc: UserError) -> None:
        self.refusals.labels(reason(exc)).inc()
