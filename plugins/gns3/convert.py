"""The gns3 plugin's records: ``gns3_link`` and ``gns3_project`` metrics, and the ``GNS3_PROJECT_SNAPSHOT``,
``LINK_CONFIG_CHANGED`` and ``GNS3_PROJECT_CLOSED`` events. Pure functions, shared by the poll and the stream."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flcollector import Event, Metric

from .conditions import LinkConfig, NodeInfo, active, applies_filters, conditions, filter_changes, link_tags
from .tracker import Change

SOURCE = "gns3"
#: The project's keys a snapshot quotes.
PROJECT_KEYS = ("project_id", "name", "status", "auto_close", "auto_open", "auto_start")


def link_metric(project: str, link: LinkConfig, nodes: Mapping[str, NodeInfo], time_ns: int) -> Metric:
    """``gns3_link``: the configured conditions of one link, tagged with the link and both ends."""
    fields = conditions(link.filters, link.suspend, applies_filters(link, nodes))
    return Metric("gns3_link", fields, time_ns, link_tags(project, link, nodes), SOURCE)


def project_metric(
    project: Mapping[str, Any], links: list[LinkConfig] | None, nodes: Mapping[str, NodeInfo], api: str,
    version: str, time_ns: int,
) -> Metric:
    """``gns3_project``: status and counts (links and nodes only when they were read this poll)."""
    fields: dict[str, Any] = {
        "status": str(project.get("status")),
        "auto_close": bool(project.get("auto_close", True)),  # the server's default is True
        "api": api,
        "server_version": version,
    }
    if links is not None:
        fields["links"] = len(links)
        fields["links_configured"] = sum(1 for link in links if active(link.filters, link.suspend))
        fields["links_suspended"] = sum(1 for link in links if link.suspend)
    if nodes:
        fields["nodes"] = len(nodes)
        fields["nodes_started"] = sum(1 for node in nodes.values() if node.status == "started")
    tags = {"project": str(project.get("name")), "project_id": str(project.get("project_id"))}
    return Metric("gns3_project", fields, time_ns, tags, SOURCE)


def change_event(project: str, link: LinkConfig, nodes: Mapping[str, NodeInfo], change: Change) -> Event:
    """``LINK_CONFIG_CHANGED``: before/after per filter type, both sides' conditions, and who saw it first."""
    tags = link_tags(project, link, nodes)
    applied = applies_filters(link, nodes)
    before, after = change.before, change.after
    changes = filter_changes(before.filters, before.suspend, after.filters, after.suspend)
    words = ", ".join(f"{kind} {_show(c['before'])} -> {_show(c['after'])}" for kind, c in changes.items())
    details: dict[str, Any] = {
        **tags,
        "changes": changes,
        "filters_before": dict(before.filters),
        "filters_after": dict(after.filters),
        "suspend_before": before.suspend,
        "suspend_after": after.suspend,
        "before": conditions(before.filters, before.suspend, applied),
        "after": conditions(after.filters, after.suspend, applied),
        "detected_by": change.via,
        "last_seen_before_ns": before.seen_ns,
    }
    return Event("LINK_CONFIG_CHANGED", f"link {tags['link']}: {words}", after.changed_ns, SOURCE, "INFO", details)


def _show(values: Any) -> str:
    if values is None:
        return "none"
    if isinstance(values, list):
        return "/".join(str(v) for v in values)
    return str(values).lower()


def snapshot_event(
    project: Mapping[str, Any], links: list[LinkConfig], nodes: Mapping[str, NodeInfo], api: str, version: str,
    time_ns: int,
) -> Event:
    """``GNS3_PROJECT_SNAPSHOT``: the project, its nodes and every link with its filters and conditions."""
    name = str(project.get("name"))
    document = {
        "project": {key: project.get(key) for key in PROJECT_KEYS},
        "server": {"api": api, "version": version},
        "nodes": [
            {"node_id": n.node_id, "name": n.name, "node_type": n.node_type, "status": n.status}
            for n in sorted(nodes.values(), key=lambda n: n.name)
        ],
        "links": [
            {
                **link_tags(name, link, nodes),
                "filters": dict(link.filters),
                "suspend": link.suspend,
                "conditions": conditions(link.filters, link.suspend, applies_filters(link, nodes)),
            }
            for link in links
        ],
    }
    configured = sum(1 for link in links if active(link.filters, link.suspend))
    message = f"GNS3 project {name}: {len(links)} links, {configured} configured"
    return Event("GNS3_PROJECT_SNAPSHOT", message, time_ns, SOURCE, "INFO", document)


def closed_event(project: Mapping[str, Any], time_ns: int, via: str) -> Event:
    """``GNS3_PROJECT_CLOSED``: the server closed the project (its nodes are stopped)."""
    name = str(project.get("name"))
    details = {"project": name, "project_id": project.get("project_id"), "auto_close": project.get("auto_close"),
               "detected_by": via}
    message = f"GNS3 project {name} is closed: its nodes are stopped (auto_close after the last stream listener left?)"
    return Event("GNS3_PROJECT_CLOSED", message, time_ns, SOURCE, "ERROR", details)
