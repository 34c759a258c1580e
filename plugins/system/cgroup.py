"""Read the CPU and memory limits of the cgroup we run in (a container's limits), v2 first, then v1.

The reader takes the cgroup mount root as a parameter so tests can point it at a temp dir with fake files.
Unlimited values (``max`` in v2, ``-1`` or a near-2**63 page-rounded number in v1) become ``None``.
"""

from __future__ import annotations

from pathlib import Path

import attrs

#: v1 writes "unlimited" as LONG_MAX rounded down to a page; anything this large is no limit at all.
_V1_UNLIMITED = 2**62


@attrs.frozen
class CgroupLimits:
    """Limits and usage of one cgroup; ``None`` means unlimited (limits) or unknown (usage)."""

    version: int
    cpu_limit_cores: float | None
    memory_limit_bytes: int | None
    memory_usage_bytes: int | None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None


def _int(text: str, path: Path) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}: expected an integer, got {text!r}") from None


def _read_v2(root: Path) -> CgroupLimits:
    cpu_limit = None
    cpu_max = _read(root / "cpu.max")
    if cpu_max is not None:
        parts = cpu_max.split()
        if len(parts) != 2:
            raise ValueError(f"{root / 'cpu.max'}: expected '<quota|max> <period>', got {cpu_max!r}")
        period = _int(parts[1], root / "cpu.max")
        if parts[0] != "max" and period > 0:
            cpu_limit = _int(parts[0], root / "cpu.max") / period
    memory_max = _read(root / "memory.max")
    memory_limit = None if memory_max in (None, "max") else _int(memory_max, root / "memory.max")
    current = _read(root / "memory.current")
    usage = None if current is None else _int(current, root / "memory.current")
    return CgroupLimits(2, cpu_limit, memory_limit, usage)


def _v1_dir(root: Path, controller: str) -> Path:
    # Some distributions mount cpu and cpuacct together as "cpu,cpuacct"; "cpu" is then a symlink or missing.
    for name in (controller, f"{controller},cpuacct", f"cpuacct,{controller}"):
        if (root / name).is_dir():
            return root / name
    return root / controller


def _read_v1(root: Path) -> CgroupLimits:
    cpu_dir, memory_dir = _v1_dir(root, "cpu"), root / "memory"
    cpu_limit = None
    quota, period = _read(cpu_dir / "cpu.cfs_quota_us"), _read(cpu_dir / "cpu.cfs_period_us")
    if quota is not None and period is not None:
        quota_us, period_us = _int(quota, cpu_dir / "cpu.cfs_quota_us"), _int(period, cpu_dir / "cpu.cfs_period_us")
        if quota_us > 0 and period_us > 0:
            cpu_limit = quota_us / period_us
    limit_text = _read(memory_dir / "memory.limit_in_bytes")
    memory_limit = None if limit_text is None else _int(limit_text, memory_dir / "memory.limit_in_bytes")
    if memory_limit is not None and (memory_limit < 0 or memory_limit >= _V1_UNLIMITED):
        memory_limit = None
    usage_text = _read(memory_dir / "memory.usage_in_bytes")
    usage = None if usage_text is None else _int(usage_text, memory_dir / "memory.usage_in_bytes")
    return CgroupLimits(1, cpu_limit, memory_limit, usage)


def read_cgroup_limits(root: Path | str = "/sys/fs/cgroup") -> CgroupLimits | None:
    """Return the limits found under ``root``, or None when there is no cgroup information there.

    Raises ``ValueError`` naming the file when a file exists but does not hold what the kernel writes.
    """
    root = Path(root)
    v2_files = ("cpu.max", "memory.max", "memory.current")
    if any((root / name).is_file() for name in v2_files):
        return _read_v2(root)
    v1_files = (_v1_dir(root, "cpu") / "cpu.cfs_quota_us", root / "memory" / "memory.limit_in_bytes")
    if any(path.is_file() for path in v1_files):
        return _read_v1(root)
    return None


def cgroup_fields(limits: CgroupLimits) -> dict[str, float | int] | None:
    """Return the fields of a ``system_cgroup`` metric, or None when the cgroup told us nothing.

    ``-1`` means "unlimited", so the series keeps one shape whether or not a limit is set;
    ``memory_used_percent`` is present only under a memory limit.
    """
    if limits.memory_usage_bytes is None and limits.memory_limit_bytes is None and limits.cpu_limit_cores is None:
        return None
    fields: dict[str, float | int] = {
        "cgroup_version": limits.version,
        "cpu_limit_cores": -1 if limits.cpu_limit_cores is None else limits.cpu_limit_cores,
        "memory_limit_bytes": -1 if limits.memory_limit_bytes is None else limits.memory_limit_bytes,
    }
    if limits.memory_usage_bytes is not None:
        fields["memory_usage_bytes"] = limits.memory_usage_bytes
        if limits.memory_limit_bytes:
            fields["memory_used_percent"] = round(100 * limits.memory_usage_bytes / limits.memory_limit_bytes, 3)
    return fields
