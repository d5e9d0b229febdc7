"""The edge agent's device readings, from crafted /proc and /sys files (known answers)."""

from __future__ import annotations

from pathlib import Path

from core.fleet.agent_readings import DeviceReadings


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def stat(user: int, idle: int, iowait: int = 0) -> str:
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    return f"cpu  {user} 0 100 {idle} {iowait} 0 0 0 50 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"


def test_cpu_is_the_busy_share_since_the_previous_reading(tmp_path):
    proc = tmp_path / "proc"
    write(proc / "stat", stat(user=1000, idle=8000))
    readings = DeviceReadings(proc=proc, thermal=tmp_path / "none")
    # +300 busy (user) and +700 idle jiffies: 30% busy
    write(proc / "stat", stat(user=1300, idle=8700))
    assert readings.cpu_pct() == 30.0
    write(proc / "stat", stat(user=1300, idle=8700, iowait=100))  # waiting for I/O is idle
    assert readings.cpu_pct() == 0.0
    assert readings.cpu_pct() is None  # no time passed: nothing to report


def test_memory_disk_and_temperature(tmp_path):
    proc, thermal = tmp_path / "proc", tmp_path / "thermal"
    write(proc / "meminfo", "MemTotal: 4000000 kB\nMemFree: 100 kB\nMemAvailable: 1000000 kB\n")
    write(thermal / "thermal_zone0" / "temp", "61234\n")
    readings = DeviceReadings(proc=proc, thermal=thermal, disk=str(tmp_path))
    assert readings.mem_pct() == 75.0
    assert readings.temp_c() == 61.2
    assert 0 <= readings.disk_pct() <= 100
    sent = readings.all()
    assert set(sent) == {"mem_pct", "temp_c", "disk_pct"}  # no CPU sample yet: left out


def test_a_platform_without_proc_sends_what_it_has(tmp_path):
    readings = DeviceReadings(proc=tmp_path / "absent", thermal=tmp_path / "absent")
    assert readings.cpu_pct() is None and readings.mem_pct() is None
    assert readings.temp_c() is None
    assert set(readings.all()) <= {"disk_pct"}
