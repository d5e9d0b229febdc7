"""Ingest benchmark: Beacon's catalog.ingest_file against plain DuckDB and pandas.

    python bench/ingest.py                                 # everything (several minutes)
    python bench/ingest.py --rows 200000 --skip-streaming  # quick smoke run

Cases, each run in its own fresh subprocess so that peak memory is per case:
  (a) Beacon: catalog.ingest_file (sniff, CSV -> zstd Parquet through DuckDB, SQLite metadata)
  (b) DuckDB: CREATE TABLE t AS SELECT * FROM read_csv(path) in an in-memory connection
  (c) pandas: pandas.read_csv, then CREATE TABLE t AS SELECT * FROM the registered frame

Peak memory is the child's VmHWM (/proc/self/status): the high-water mark of the address
space the child got at exec. ru_maxrss is reported too, but on Linux it carries over the
RSS of the process that spawned the child (the parent's mm when spawned by vfork), so it is
only a cross-check; the parent stays small (data generation also runs in a child) to keep
it honest.

The streaming part ingests a CSV about 4x larger than BEACON_DUCKDB_MEMORY_LIMIT with Beacon,
then runs pandas.read_csv on the same file under an address-space limit (RLIMIT_AS) of
4x that limit (or Beacon's peak RSS, if larger) on top of pandas' own import footprint:
once with pandas' default parallel reader (which maps the whole file; the mapping is not
charged) and once with its serial reader. --pandas-unlimited adds an uncapped run to show
what pandas really needs.

Generated files live in bench/.work (git-ignored). The 5M-row CSV is cached there; the big
streaming CSV is removed at the end unless --keep is given. Nothing here asserts wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "bench" / ".work"
GENERATOR_VERSION = 1
CHUNK_ROWS = 500_000
SEED = 20240611
MIB = 1024 * 1024

CASES = {
    "a": "Beacon catalog.ingest_file (CSV -> zstd Parquet + metadata)",
    "b": "DuckDB CREATE TABLE AS SELECT * FROM read_csv (in memory)",
    "c": "pandas.read_csv + DuckDB CREATE TABLE AS SELECT * FROM df",
    "d": "(diagnostic) DuckDB COPY read_csv TO zstd Parquet, Beacon's settings",
}
TARGET_A_VS_B = 1.25  # (a)/(b), time and memory
TARGET_A_VS_C_MEMORY = 0.6  # (a)/(c), memory
REFERENCE = {"b": (1.76, 475), "c": (1.98, 916)}  # seconds, MiB on a 2-core machine


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- measuring (used inside the children) ------------------------------------------------


def vm_status() -> dict[str, int]:
    """VmHWM, VmRSS, VmPeak and VmSize of this process, in KiB (Linux)."""
    wanted = ("VmHWM", "VmRSS", "VmPeak", "VmSize")
    values: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in wanted:
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(result: dict) -> None:
    """Print the child's result as the last stdout line, with its memory figures."""
    import resource

    status = vm_status()
    result["peak_rss_kib"] = status.get("VmHWM")
    result["vm_peak_kib"] = status.get("VmPeak")
    result["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result), flush=True)


# --- data generation (child) ---------------------------------------------------------------

CATEGORIES = ("electronics", "home", "garden", "toys", "books", "beauty", "sports", "grocery")
REGIONS = ("north", "south", "east", "west", "central")
CHANNELS = ("web", "app", "store", "phone")
CHANNEL_P = (0.45, 0.25, 0.22, 0.08)
SKUS = 20_000
CUSTOMERS = 250_000


def _chunk(index: int, rows: int):
    """One deterministic chunk of orders as a pyarrow Table (chunk `index` of the file)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    catalog_rng = np.random.default_rng(SEED)  # the same SKU catalogue for every chunk
    sku_names = pa.array([f"SKU-{i:05d}" for i in range(SKUS)])
    sku_category = pa.array(CATEGORIES).take(pa.array(np.arange(SKUS) % len(CATEGORIES)))
    sku_price_cents = catalog_rng.integers(199, 25_000, SKUS)

    rng = np.random.default_rng([SEED, index])
    start = index * CHUNK_ROWS + 1
    sku = rng.integers(0, SKUS, rows)
    quantity = rng.integers(1, 10, rows)
    price_cents = sku_price_cents[sku]
    days = rng.integers(0, 3 * 365, rows).astype("int32") + 18993  # from 2022-01-01
    return pa.table(
        {
            "order_id": pa.array(np.arange(start, start + rows, dtype="int64")),
            "order_date": pa.array(days).cast(pa.date32()),
            "customer_id": pa.array(rng.integers(1, CUSTOMERS + 1, rows)),
            "sku": sku_names.take(pa.array(sku)),
            "category": pc.take(sku_category, pa.array(sku)),
            "region": pa.array(REGIONS).take(pa.array(rng.integers(0, len(REGIONS), rows))),
            "channel": pa.array(CHANNELS).take(
                pa.array(rng.choice(len(CHANNELS), rows, p=CHANNEL_P))
            ),
            "quantity": pa.array(quantity),
            "unit_price": pa.array(price_cents / 100),
            "amount": pa.array(quantity * price_cents / 100),
        }
    )


def generate(path: Path, rows: int | None, min_bytes: int | None) -> dict:
    """Write the orders CSV: exactly `rows` rows, or whole chunks until `min_bytes`."""
    from pyarrow import csv

    partial = path.with_name(path.name + ".partial")
    started = time.perf_counter()
    written = 0
    index = 0
    options = csv.WriteOptions(quoting_style="none")  # no value holds a comma or a quote
    with partial.open("wb") as sink:
        writer = None
        while True:
            if rows is not None and written >= rows:
                break
            if min_bytes is not None and sink.tell() >= min_bytes:
                break
            n = CHUNK_ROWS if rows is None else min(CHUNK_ROWS, rows - written)
            table = _chunk(index, n)
            if writer is None:
                writer = csv.CSVWriter(sink, table.schema, write_options=options)
            writer.write_table(table)
            sink.flush()
            written += n
            index += 1
        writer.close()
    os.replace(partial, path)
    return {
        "rows": written,
        "bytes": path.stat().st_size,
        "seconds": time.perf_counter() - started,
    }


# --- the cases (children) --------------------------------------------------------------


def _beacon_services(home: Path):
    os.environ["BEACON_HOME"] = str(home)
    os.environ["BEACON_SECRETS_FILE"] = str(home / "no-secrets.toml")  # never exists
    sys.path.insert(0, str(ROOT))
    from core.config import load_settings
    from core.services import open_services

    return open_services(load_settings())


def case_beacon(csv_path: Path) -> dict:
    home = WORK / f"home-{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        services = _beacon_services(home)
        from core.auth.roles import User

        setup = time.perf_counter() - started
        before = vm_status().get("VmRSS")
        cpu, started = cpu_seconds(), time.perf_counter()
        dataset = services.catalog.ingest_file(User.system(), csv_path, name="orders")
        seconds = time.perf_counter() - started
        result = {
            "seconds": seconds,
            "cpu_seconds": cpu_seconds() - cpu,
            "setup_seconds": setup,
            "rows": dataset.rows,
            "parquet_bytes": dataset.current.size_bytes,
            "baseline_rss_kib": before,
            "memory_limit": services.settings.duckdb_memory_limit,
            "threads": services.settings.duckdb_threads,
        }
        return result
    finally:
        shutil.rmtree(home, ignore_errors=True)


def case_duckdb(csv_path: Path) -> dict:
    import duckdb

    con = duckdb.connect(":memory:")
    before = vm_status().get("VmRSS")
    cpu, started = cpu_seconds(), time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv($path)", {"path": str(csv_path)})
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')"
        ).fetchall()
    )
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": rows,
        "baseline_rss_kib": before,
        "memory_limit": settings.get("memory_limit"),
        "threads": settings.get("threads"),
    }


def case_duckdb_parquet(csv_path: Path) -> dict:
    """Plain DuckDB doing what Beacon's ingest does at its core: CSV -> zstd Parquet.

    Same connection settings as Beacon (memory_limit 2GB, 2 threads) and the same Parquet
    options, but DuckDB's default read_csv arguments and no Python around it.
    """
    import duckdb

    target = WORK / f"case-d-{uuid.uuid4().hex[:8]}.parquet"
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET threads = 2")
    before = vm_status().get("VmRSS")
    try:
        cpu, started = cpu_seconds(), time.perf_counter()
        con.execute(
            "COPY (SELECT * FROM read_csv($path)) TO $target "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)",
            {"path": str(csv_path), "target": str(target)},
        )
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        rows = con.execute("SELECT count(*) FROM read_parquet($p)", {"p": str(target)})
        return {
            "seconds": seconds,
            "cpu_seconds": cpu,
            "rows": rows.fetchone()[0],
            "parquet_bytes": target.stat().st_size,
            "baseline_rss_kib": before,
        }
    finally:
        target.unlink(missing_ok=True)


def case_pandas(csv_path: Path) -> dict:
    import duckdb
    import pandas as pd

    con = duckdb.connect(":memory:")
    before = vm_status().get("VmRSS")
    cpu, started = cpu_seconds(), time.perf_counter()
    frame = pd.read_csv(csv_path)
    read = time.perf_counter() - started
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT * FROM frame")
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "read_csv_seconds": read,
        "rows": rows,
        "baseline_rss_kib": before,
        "string_dtype": str(frame["sku"].dtype),
    }


def case_pandas_limited(csv_path: Path, budget: int, mode: str) -> dict:
    """pandas.read_csv with the address space (RLIMIT_AS) capped.

    mode "parallel": pandas' default reader, which maps the whole file read-only and parses
    it with one thread per CPU; the mapping is page cache, not heap, so the cap is the
    address space after imports + the file size + `budget`.
    mode "serial": one thread (mode.max_threads = 1), the reader that does not map the file;
    the cap is the address space after imports + `budget`.
    mode "unlimited": no cap, to see what pandas needs.
    """
    import resource

    import pandas as pd

    if mode == "serial":
        pd.set_option("mode.max_threads", 1)
    base_vm = vm_status().get("VmSize", 0) * 1024
    limit = None
    if mode != "unlimited":
        limit = base_vm + budget + (csv_path.stat().st_size if mode == "parallel" else 0)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    before = vm_status().get("VmRSS")
    started = time.perf_counter()
    frame_bytes = None
    try:
        frame = pd.read_csv(csv_path)
        outcome, rows = "ok", len(frame)
        frame_bytes = int(frame.memory_usage(deep=True).sum())
        del frame
    except MemoryError as exc:
        outcome, rows = f"{type(exc).__name__} {str(exc)[:120]}".strip(), None
    except Exception as exc:  # an allocation failure that surfaced as another error
        outcome, rows = f"{type(exc).__name__}: {str(exc)[:120]}", None
    return {
        "seconds": time.perf_counter() - started,
        "mode": mode,
        "outcome": outcome,
        "rows": rows,
        "frame_bytes": frame_bytes,
        "baseline_rss_kib": before,
        "baseline_vm_bytes": base_vm,
        "budget_bytes": budget,
        "rlimit_as_bytes": limit,
    }


def run_child(args: argparse.Namespace) -> None:
    csv_path = Path(args.csv)
    if args.case == "generate":
        result = generate(csv_path, args.rows if args.min_bytes is None else None, args.min_bytes)
    elif args.case in ("a", "stream-a"):
        result = case_beacon(csv_path)
    elif args.case == "b":
        result = case_duckdb(csv_path)
    elif args.case == "c":
        result = case_pandas(csv_path)
    elif args.case == "d":
        result = case_duckdb_parquet(csv_path)
    elif args.case == "stream-pandas":
        result = case_pandas_limited(csv_path, args.budget or 0, args.mode)
    else:
        raise SystemExit(f"unknown case {args.case}")
    result["case"] = args.case
    report(result)


# --- the driver (parent) ----------------------------------------------------------------


def spawn(case: str, csv_path: Path, env: dict[str, str] | None = None, **extra) -> dict:
    """Run one case in a fresh interpreter; its result is the last JSON line on stdout."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--case",
        case,
        "--csv",
        str(csv_path),
    ]
    for key, value in extra.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"case": case, "failed": how, "process_seconds": wall, "stderr": tail}
    result = json.loads(lines[-1])
    result["process_seconds"] = wall
    result["load_before"] = load
    return result


def mib(kib: int | None) -> float | None:
    return None if kib is None else kib / 1024


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "n/a" if value is None else format(value, spec)


def warm_cache(path: Path) -> None:
    """Read the file once so every case starts with it in the page cache."""
    with path.open("rb") as fh:
        while fh.read(16 * MIB):
            pass


def ensure_csv(path: Path, rows: int | None = None, min_bytes: int | None = None) -> dict:
    if path.is_file():
        log(f"reusing {path.relative_to(ROOT)} ({path.stat().st_size / MIB:.0f} MiB)")
        return {"bytes": path.stat().st_size, "cached": True}
    what = f"{rows:,} rows" if rows else f">= {min_bytes / MIB:.0f} MiB"
    log(f"generating {path.relative_to(ROOT)} ({what}) ...")
    result = spawn(
        "generate", path, rows=rows or 0, **({"min_bytes": min_bytes} if min_bytes else {})
    )
    if "failed" in result:
        raise SystemExit(f"generation failed: {result}")
    log(
        f"  wrote {result['rows']:,} rows, {result['bytes'] / MIB:.0f} MiB "
        f"in {result['seconds']:.1f} s"
    )
    return result


def summarize(runs: list[dict]) -> dict:
    ok = [r for r in runs if "failed" not in r]
    if not ok:
        return {"failed": runs[0].get("failed"), "runs": runs}
    seconds = [r["seconds"] for r in ok]
    peaks = [mib(r["peak_rss_kib"]) for r in ok]
    return {
        "seconds": statistics.median(seconds),
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in ok),
        "peak_mib": statistics.median(peaks),
        "peak_mib_min": min(peaks),
        "peak_mib_max": max(peaks),
        "baseline_mib": statistics.median(mib(r["baseline_rss_kib"]) for r in ok),
        "ru_maxrss_mib": statistics.median(mib(r["ru_maxrss_kib"]) for r in ok),
        "rows": ok[0]["rows"],
        "runs": runs,
    }


def verdict(value: float, target: float) -> str:
    return f"{value:.2f} (target <= {target}: {'met' if value <= target else 'MISSED'})"


def benchmark(args: argparse.Namespace) -> dict:
    csv_path = WORK / f"orders-{args.rows}-v{GENERATOR_VERSION}.csv"
    ensure_csv(csv_path, rows=args.rows)
    size = csv_path.stat().st_size
    warm_cache(csv_path)
    runs: dict[str, list[dict]] = {case: [] for case in CASES}
    for repeat in range(1, args.repeats + 1):
        for case in CASES:  # interleaved, so drift on the machine hits every case alike
            result = spawn(case, csv_path)
            runs[case].append(result)
            if "failed" in result:
                log(f"  ({case}) run {repeat}: FAILED ({result['failed']}): {result['stderr']}")
            else:
                log(
                    f"  ({case}) run {repeat}/{args.repeats}: {result['seconds']:.2f} s "
                    f"(CPU {result['cpu_seconds']:.2f} s), peak RSS "
                    f"{mib(result['peak_rss_kib']):.0f} MiB, load before "
                    f"{result['load_before']:.2f}"
                )
    summary = {case: summarize(case_runs) for case, case_runs in runs.items()}

    print()
    print(f"CSV: {csv_path.relative_to(ROOT)}, {args.rows:,} rows, {size / MIB:.0f} MiB")
    header = (
        f"{'case':<5}{'median s':>10}{'min-max s':>14}{'CPU s':>7}{'peak RSS MiB':>14}"
        f"{'min-max MiB':>14}{'before op':>11}  what"
    )
    print(header)
    print("-" * len(header))
    for case, what in CASES.items():
        s = summary[case]
        if "failed" in s:
            print(f"({case})  FAILED: {s['failed']}")
            continue
        print(
            f"({case}){s['seconds']:>12.2f}{s['seconds_min']:>7.2f}-{s['seconds_max']:<6.2f}"
            f"{s['cpu_seconds']:>7.2f}"
            f"{s['peak_mib']:>14.0f}{s['peak_mib_min']:>7.0f}-{s['peak_mib_max']:<6.0f}"
            f"{s['baseline_mib']:>11.0f}  {what}"
        )
    a, b, c, d = summary["a"], summary["b"], summary["c"], summary["d"]
    ratios = {}
    if not any("failed" in s for s in (a, b, c)):
        ratios = {
            "a_b_time": a["seconds"] / b["seconds"],
            "a_b_memory": a["peak_mib"] / b["peak_mib"],
            "a_c_memory": a["peak_mib"] / c["peak_mib"],
            "a_c_time": a["seconds"] / c["seconds"],
        }
        print()
        print(f"(a)/(b) time:   {verdict(ratios['a_b_time'], TARGET_A_VS_B)}")
        print(f"(a)/(b) memory: {verdict(ratios['a_b_memory'], TARGET_A_VS_B)}")
        print(f"(a)/(c) memory: {verdict(ratios['a_c_memory'], TARGET_A_VS_C_MEMORY)}")
        print(f"(a)/(c) time:   {ratios['a_c_time']:.2f} (no target)")
        ratios["a_b_cpu"] = a["cpu_seconds"] / b["cpu_seconds"]
        print(f"(a)/(b) CPU:    {ratios['a_b_cpu']:.2f} (CPU seconds; less sensitive to load)")
        if "failed" not in d:
            ratios["d_b_time"] = d["seconds"] / b["seconds"]
            ratios["a_d_time"] = a["seconds"] / d["seconds"]
            print(
                f"(d)/(b) time:   {ratios['d_b_time']:.2f} (the cost of writing Parquet at all); "
                f"(a)/(d) time: {ratios['a_d_time']:.2f} (Beacon's own overhead)"
            )
        loads = [r["load_before"] for case_runs in runs.values() for r in case_runs]
        if max(loads) > 1.0:
            print(
                f"WARNING: the 1-minute load average reached {max(loads):.1f} before some runs: "
                "other processes shared the CPUs, so wall times are noisy."
            )
        extra = a["runs"][0]
        read_csv = statistics.median(r["read_csv_seconds"] for r in c["runs"] if "failed" not in r)
        print(
            f"(a) wrote {extra.get('parquet_bytes', 0) / MIB:.0f} MiB of Parquet; DuckDB "
            f"memory_limit {extra.get('memory_limit')}, threads {extra.get('threads')}. "
            f"(b) DuckDB defaults: memory_limit {b['runs'][0].get('memory_limit')}, "
            f"threads {b['runs'][0].get('threads')}. (c) read_csv alone: median "
            f"{read_csv:.2f} s, "
            f"string dtype {c['runs'][0].get('string_dtype')}."
        )
        print(
            f"Reference (2-core): (b) {REFERENCE['b'][0]} s / {REFERENCE['b'][1]} MiB, "
            f"(c) {REFERENCE['c'][0]} s / {REFERENCE['c'][1]} MiB (for a ~230 MB file)."
        )
    print()
    return {
        "csv": str(csv_path.relative_to(ROOT)),
        "csv_bytes": size,
        "rows": args.rows,
        "cases": summary,
        "ratios": ratios,
    }


def parse_size(text: str) -> int:
    """Bytes in a DuckDB-style size: '512MB' (10^6) or '512MiB' (2^20)."""
    units = {"KIB": 1024, "MIB": MIB, "GIB": 1024 * MIB, "KB": 10**3, "MB": 10**6, "GB": 10**9}
    upper = text.strip().upper()
    for unit, factor in units.items():
        if upper.endswith(unit):
            return int(float(upper[: -len(unit)]) * factor)
    return int(upper)


def streaming(args: argparse.Namespace) -> dict:
    free = shutil.disk_usage(WORK).free
    plans = [(args.stream_limit, args.stream_factor), ("256MB", args.stream_factor)]
    for limit_text, factor in plans:
        target = int(factor * parse_size(limit_text))
        # the CSV, the Parquet staged from it (much smaller) and 1 GiB of headroom
        if free >= target * 1.5 + 1024 * MIB:
            break
        log(f"only {free / MIB:.0f} MiB free: a {target / MIB:.0f} MiB CSV does not fit")
    else:
        log("not enough disk for the streaming test: skipped")
        return {"skipped": "disk"}
    limit_bytes = parse_size(limit_text)
    log(
        f"streaming: {free / 2**30:.1f} GiB free on {WORK}; BEACON_DUCKDB_MEMORY_LIMIT="
        f"{limit_text}, CSV >= {factor}x that ({target / MIB:.0f} MiB)"
    )
    path = WORK / f"orders-big-{target}-v{GENERATOR_VERSION}.csv"
    generated = ensure_csv(path, min_bytes=target)
    size = path.stat().st_size
    result: dict = {"csv_bytes": size, "memory_limit": limit_text, "generated": generated}
    try:
        warm_cache(path)
        env = {
            "BEACON_DUCKDB_MEMORY_LIMIT": limit_text,
            # the default upload limit (1024 MB) would refuse this file before reading it
            "BEACON_UPLOAD_LIMIT_MB": str(size // MIB + 64),
        }
        log(f"(a) Beacon ingest of {size / MIB:.0f} MiB with memory_limit {limit_text} ...")
        beacon = spawn("stream-a", path, env=env)
        result["beacon"] = beacon
        if "failed" in beacon:
            log(f"  FAILED ({beacon['failed']}): {beacon['stderr']}")
            beacon_peak = 0
        else:
            beacon_peak = beacon["peak_rss_kib"] * 1024
            log(
                f"  {beacon['rows']:,} rows in {beacon['seconds']:.1f} s, peak RSS "
                f"{beacon_peak / MIB:.0f} MiB ({beacon_peak / limit_bytes:.2f}x the limit, "
                f"{beacon_peak / size:.2f}x the file), Parquet "
                f"{beacon['parquet_bytes'] / MIB:.0f} MiB"
            )
        # pandas gets 4x the DuckDB limit of new address space on top of what its imports
        # already mapped (and never less than Beacon's whole-process peak RSS); its default
        # parallel reader also gets the read-only mapping of the file for free.
        budget = max(int(4 * limit_bytes), beacon_peak)
        modes = ["parallel", "serial"]
        if args.pandas_unlimited:
            available = mem_available()
            if available is not None and available > 4 * size:
                modes.append("unlimited")
            else:
                log("not enough free RAM for the unlimited pandas run: skipped")
        result["pandas"] = {}
        for mode in modes:
            cap = {
                "parallel": f"size after imports + file mapping + {budget / MIB:.0f} MiB",
                "serial": f"size after imports + {budget / MIB:.0f} MiB",
                "unlimited": "no limit",
            }[mode]
            reader = "default" if mode == "unlimited" else mode
            log(f"pandas.read_csv ({reader} reader) on the same file, RLIMIT_AS = {cap} ...")
            frame = spawn("stream-pandas", path, budget=budget, mode=mode)
            result["pandas"][mode] = frame
            if "failed" in frame:
                log(f"  pandas process died ({frame['failed']}): {frame['stderr']}")
                continue
            cap_text = (
                f"address space cap {frame['rlimit_as_bytes'] / MIB:.0f} MiB"
                if frame["rlimit_as_bytes"]
                else f"DataFrame {frame['frame_bytes'] / MIB:.0f} MiB"
            )
            log(
                f"  {frame['outcome']} after {frame['seconds']:.1f} s; peak RSS "
                f"{mib(frame['peak_rss_kib']):.0f} MiB ({cap_text})"
            )
    finally:
        if args.keep:
            log(f"kept {path.relative_to(ROOT)}")
        else:
            path.unlink(missing_ok=True)
            log(f"removed {path.relative_to(ROOT)}")
    return result


def mem_available() -> int | None:
    """MemAvailable from /proc/meminfo, in bytes."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine() -> dict:
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    total = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            total = int(fh.readline().split()[1]) * 1024
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "ram_gib": None if total is None else round(total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **{name: version(name) for name in ("duckdb", "pandas", "pyarrow", "numpy")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="rows of the main CSV")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case")
    parser.add_argument("--skip-streaming", action="store_true", help="skip the big-file part")
    parser.add_argument("--keep", action="store_true", help="keep the big streaming CSV")
    parser.add_argument(
        "--pandas-unlimited",
        action="store_true",
        help="also run pandas.read_csv on the big CSV without a limit (needs ~3x its size in RAM)",
    )
    parser.add_argument("--stream-limit", default="512MB", help="DuckDB memory_limit there")
    parser.add_argument("--stream-factor", type=float, default=4.0, help="CSV size / limit")
    # internal: one case in this process
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--min-bytes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="parallel", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_child(args)
        return

    WORK.mkdir(parents=True, exist_ok=True)
    info = machine()
    log(
        f"machine: {info['nproc']} CPUs, {info['ram_gib']} GiB RAM, Python {info['python']}, "
        f"duckdb {info['duckdb']}, pandas {info['pandas']}, pyarrow {info['pyarrow']}, "
        f"numpy {info['numpy']}"
    )
    results = {"machine": info, "argv": sys.argv[1:]}
    results["benchmark"] = benchmark(args)
    if not args.skip_streaming:
        results["streaming"] = streaming(args)
    suffix = "-no-streaming" if args.skip_streaming else ""
    out = WORK / f"results-{args.rows}{suffix}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
