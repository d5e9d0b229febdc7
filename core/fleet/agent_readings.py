"""What the edge agent reports about its device: CPU, memory, disk and temperature.

Standard library only, like the agent. On Linux the figures come from /proc and /sys:
CPU is the busy share of all cores since the previous reading (not the load average,
which counts waiting tasks and reads over 100% on a busy machine), memory is the share
not available to new work. A reading the platform does not offer is None (not sent).
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

PROC = Path("/proc")
THERMAL = Path("/sys/class/thermal")


def _cpu_times(proc: Path) -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores from /proc/stat."""
    try:
        fields = (proc / "stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


class DeviceReadings:
    """Readings between heartbeats; CPU needs two samples, so the first call primes it."""

    def __init__(self, proc: Path = PROC, thermal: Path = THERMAL, disk: str = "/") -> None:
        self.proc, self.thermal, self.disk = proc, thermal, disk
        self._last = _cpu_times(proc)

    def cpu_pct(self) -> float | None:
        """Busy share of all cores since the previous call, in percent."""
        now = _cpu_times(self.proc)
        last, self._last = self._last, now
        if now is None or last is None or now[1] <= last[1]:
            return None
        return round(100.0 * (now[0] - last[0]) / (now[1] - last[1]), 1)

    def mem_pct(self) -> float | None:
        """Memory not available to new work, in percent (MemAvailable of /proc/meminfo)."""
        found: dict[str, int] = {}
        with contextlib.suppress(OSError, ValueError):
            for line in (self.proc / "meminfo").read_text().splitlines():
                key, _, rest = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    found[key] = int(rest.split()[0])
        total, available = found.get("MemTotal"), found.get("MemAvailable")
        if not total or available is None:
            return None
        return round(100.0 * (total - available) / total, 1)

    def disk_pct(self) -> float | None:
        """Used share of the disk holding the agent's files, in percent."""
        try:
            usage = shutil.disk_usage(self.disk)
        except OSError:
            return None
        return round(100.0 * usage.used / usage.total, 1) if usage.total else None

    def temp_c(self) -> float | None:
        """The first thermal zone's temperature (Raspberry Pi, Jetson), in °C."""
        with contextlib.suppress(OSError, ValueError):
            return round(int((self.thermal / "thermal_zone0" / "temp").read_text()) / 1000, 1)
        return None

    def all(self) -> dict[str, float]:
        """Every reading the platform offers, by heartbeat field name."""
        values = {
            "cpu_pct": self.cpu_pct(),
            "mem_pct": self.mem_pct(),
            "disk_pct": self.disk_pct(),
            "temp_c": self.temp_c(),
        }
        return {k: v for k, v in values.items() if v is not None}
