#!/usr/bin/env python3
"""Ingest benchmark: `peregrine ingest` of an NDJSON file of DeviceProcessEvents rows, with
DuckDB loading the same file and writing zstd Parquet as the peer.

    python3 bench/ingest.py --rows 1000000 [--binary PATH] [--source DIR] [--repeat 3]
                            [--columns A,B,...] [--workdir DIR --keep]

1. Source rows: the DeviceProcessEvents of an existing store (--source DIR), or of a small
   demo store written for the purpose (`peregrine demo --endpoint-tables
   DeviceProcessEvents`, sized to give about --rows rows over 7 days).
2. DuckDB exports --rows of them to NDJSON, every column kept (or the --columns given): datetimes as ISO-8601 text with
   all nine fractional digits ("2026-11-26T10:00:00.123456700Z"), longs as JSON numbers,
   AdditionalFields (dynamic) as a JSON value, nulls as null. If the source is older than
   the store's retention allows, all datetimes are shifted so the newest is an hour ago.
3. peregrine: `peregrine ingest --data <fresh dir> --table DeviceProcessEvents FILE`, timed
   by wall clock from process start to exit (the tool returns once the data is durable:
   fsynced Parquet, commit record, renames), --repeat times, each into a fresh store. Its own
   `ingested N events ... in X s (Y events/s), K files` line is recorded too.
4. DuckDB (same connection settings as the query benchmark: threads 2, in-memory database):
   `CREATE TABLE t AS SELECT * FROM read_json(FILE, columns = {the table's types})`, then
   `COPY (SELECT *, day AS date FROM t) TO dir (FORMAT parquet, COMPRESSION zstd,
   COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 262144, PARTITION_BY (date))`, i.e. the same day
   partitioning, codec, level and row-group size as the store. DuckDB does not fsync; the
   time of an `os.sync()` right after is reported separately.

Wall and CPU time (user + system: of the child process for peregrine, of this process for
DuckDB, which runs in it) and the 1-minute load average are recorded for every run: the
machine may be shared. With --workdir, an NDJSON file already there is reused.
"""

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

DEFAULT_BINARY = os.path.expanduser("~/.cache/peregrine-target/release/peregrine")
TABLE = "DeviceProcessEvents"
EIGHT = "Timestamp,DeviceId,DeviceName,ActionType,FileName,FolderPath,ProcessCommandLine,ReportId"
PER_DEVICE_DAY = 2150  # demo DeviceProcessEvents per device and day (docs/demo.md)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def src_glob(store, tenant):
    return os.path.join(store, tenant, "tables", TABLE, "date=*", "*.parquet")


def read_src(store, tenant):
    return f"read_parquet('{src_glob(store, tenant)}', hive_partitioning = false)"


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def parquet_rows(con, path_glob):
    return con.execute("SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)",
                       [path_glob]).fetchall()[0][0]


def make_source(args, work):
    devices = max(4, math.ceil(args.rows / PER_DEVICE_DAY / 7 * 1.05))
    store = os.path.join(work, "source")
    cmd = [args.binary, "demo", "--data", store, "--devices", str(devices), "--days", "7",
           "--seed", "7"]
    help_text = subprocess.run([args.binary, "demo", "--help"], stdout=subprocess.PIPE,
                               text=True).stdout
    if "--endpoint-tables" in help_text:
        cmd += ["--endpoint-tables", TABLE]
    log("source: " + " ".join(cmd))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return store


def export_ndjson(con, store, tenant, rows, path, columns=None, write=True):
    src = read_src(store, tenant)
    cols = con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()
    if columns:
        keep = columns.split(",")
        missing = set(keep) - {c[0] for c in cols}
        if missing:
            sys.exit(f"no such columns: {sorted(missing)}")
        cols = [c for c in cols if c[0] in keep]
    have = parquet_rows(con, src_glob(store, tenant))
    if have == 0:
        sys.exit(f"no {TABLE} rows in {store}")
    newest, oldest = con.execute(f"SELECT max(Timestamp), min(Timestamp) FROM {src}").fetchall()[0]
    now = dt.datetime.utcnow()
    shift = dt.timedelta(0)
    if oldest < now - dt.timedelta(days=29):
        shift = (now - dt.timedelta(hours=1)) - newest
        log(f"source is old (oldest {oldest}); shifting datetimes by {shift}")
    shift_us = int(shift / dt.timedelta(microseconds=1))
    sel = []
    for name, typ, *_ in cols:
        if typ.startswith("TIMESTAMP"):
            expr = name if not shift_us else f"({name} + INTERVAL ({shift_us}) MICROSECOND)"
            sel.append(f"strftime({expr}, '%Y-%m-%dT%H:%M:%S.%nZ') AS {name}")
        elif name == "AdditionalFields":
            sel.append(f"{name}::JSON AS {name}")
        else:
            sel.append(name)
    # Not enough rows: repeat the source (rows are independent events; duplicates are fine
    # for throughput).
    copies = math.ceil(rows / have)
    from_ = src if copies == 1 else f"{src}, range({copies})"
    types = {name: ("JSON" if name == "AdditionalFields" else typ) for name, typ, *_ in cols}
    if not write:
        return types
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT {', '.join(sel)} FROM {from_} LIMIT {rows}) "
                f"TO '{path}' (FORMAT json)")
    log(f"exported {rows:,} rows to {path} ({os.path.getsize(path) / 2**20:,.0f} MiB) "
        f"in {time.perf_counter() - t0:.1f} s")
    return types


INGEST_LINE = re.compile(
    r"ingested (\d+) events .*? in ([\d.]+) s \(([\d.]+) events/s\), (\d+) files")


def run_peregrine(args, ndjson, store, con):
    cmd = [args.binary, "ingest", "--data", store, "--table", TABLE, ndjson]
    os.sync()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        sys.exit(f"peregrine ingest failed ({p.returncode}):\n{p.stderr[-3000:]}")
    m = INGEST_LINE.search(p.stderr)
    stored = parquet_rows(con, os.path.join(store, "default", "tables", TABLE, "date=*", "*.parquet"))
    run = {"wall_s": wall, "cpu_s": cpu, "load": os.getloadavg()[0], "stderr": p.stderr.strip(), "stored_rows": stored,
           "bytes": dir_bytes(os.path.join(store, "default", "tables"))}
    if m:
        run.update(tool_events=int(m.group(1)), tool_s=float(m.group(2)),
                   tool_events_per_s=float(m.group(3)), files=int(m.group(4)))
    return run


def run_duckdb(ndjson, types, out_dir):
    spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
    os.sync()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{ndjson}', "
                f"format = 'newline_delimited', columns = {spec})")
    t1 = time.perf_counter()
    con.execute(f"COPY (SELECT *, strftime(Timestamp, '%Y-%m-%d') AS date FROM t) TO '{out_dir}' "
                "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, "
                "ROW_GROUP_SIZE 262144, PARTITION_BY (date))")
    t2 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    t3 = time.perf_counter()
    os.sync()
    sync_s = time.perf_counter() - t3
    return {"load_s": t1 - t0, "copy_s": t2 - t1, "wall_s": t2 - t0, "cpu_s": cpu,
            "load": os.getloadavg()[0], "sync_s": sync_s,
            "rows": n, "bytes": dir_bytes(out_dir)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--source", help="store to take DeviceProcessEvents rows from "
                    "(default: write a small demo store)")
    ap.add_argument("--tenant", default="default", help="tenant of --source")
    ap.add_argument("--columns", help="comma-separated columns to export (default: all), "
                    "e.g. " + EIGHT)
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine (fresh output each)")
    ap.add_argument("--workdir", help="scratch directory (default: a new one under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--json", default="ingest-results.json")
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"no peregrine binary at {args.binary}")

    work = args.workdir or tempfile.mkdtemp(prefix="peregrine-ingest-bench-", dir="/tmp")
    os.makedirs(work, exist_ok=True)
    log(f"scratch directory: {work}")
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    source = args.source or make_source(args, work)
    tenant = args.tenant if args.source else "default"
    ncols = len(args.columns.split(",")) if args.columns else "all"
    ndjson = os.path.join(work, f"{TABLE}-{args.rows}-{ncols}.ndjson")
    if os.path.exists(ndjson) and args.workdir:
        log(f"reusing {ndjson}")
        types = export_ndjson(con, source, tenant, args.rows, ndjson, args.columns, write=False)
    else:
        types = export_ndjson(con, source, tenant, args.rows, ndjson, args.columns)
    if not args.source:
        shutil.rmtree(source)

    doc = {"rows": args.rows, "binary": args.binary, "ndjson_bytes": os.path.getsize(ndjson),
           "source": args.source or "generated demo store", "peregrine": [], "duckdb": []}
    for i in range(args.repeat):
        store = os.path.join(work, f"store-{i}")
        r = run_peregrine(args, ndjson, store, con)
        ok = r["stored_rows"] == args.rows
        log(f"peregrine run {i + 1}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, load "
            f"{r['load']:.1f} ({args.rows / r['wall_s']:,.0f} events/s); tool: {r['stderr']}; stored "
            f"{r['stored_rows']:,} rows{'' if ok else ' !!! EXPECTED ' + format(args.rows, ',')}")
        doc["peregrine"].append(r)
        shutil.rmtree(store)
    for i in range(args.repeat):
        out = os.path.join(work, f"duck-{i}")
        r = run_duckdb(ndjson, types, out)
        log(f"duckdb run {i + 1}: {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU, load "
            f"{r['load']:.1f} (read_json into table {r['load_s']:.2f} s, "
            f"COPY to parquet {r['copy_s']:.2f} s; sync after {r['sync_s']:.2f} s), "
            f"{r['rows']:,} rows")
        doc["duckdb"].append(r)
        shutil.rmtree(out)

    p_wall = statistics.median(r["wall_s"] for r in doc["peregrine"])
    p_best = min(r["wall_s"] for r in doc["peregrine"])
    d_wall = statistics.median(r["wall_s"] for r in doc["duckdb"])
    d_best = min(r["wall_s"] for r in doc["duckdb"])
    d_sync = statistics.median(r["wall_s"] + r["sync_s"] for r in doc["duckdb"])
    tool = [r.get("tool_events_per_s") for r in doc["peregrine"] if r.get("tool_events_per_s")]
    n = args.rows
    doc["summary"] = {"peregrine_median_s": p_wall, "duckdb_median_s": d_wall,
                      "duckdb_plus_sync_median_s": d_sync,
                      "peregrine_events_per_s": n / p_wall, "duckdb_events_per_s": n / d_wall,
                      "ratio_time_peregrine_over_duckdb": p_wall / d_wall}
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=2)

    mib = doc["ndjson_bytes"] / 2**20
    print(f"NDJSON: {n:,} DeviceProcessEvents rows, {mib:,.0f} MiB "
          f"({doc['ndjson_bytes'] / n:,.0f} bytes/row); {args.repeat} runs each\n")
    p_cpu = statistics.median(r["cpu_s"] for r in doc["peregrine"])
    d_cpu = statistics.median(r["cpu_s"] for r in doc["duckdb"])
    loads = [r["load"] for r in doc["peregrine"] + doc["duckdb"]]
    print(f"load average (1 min) at the end of the runs: {min(loads):.1f} to {max(loads):.1f}\n")
    print("| engine | best s | median s | CPU s (median) | events/s (median) "
          "| MiB/s in (median) | Parquet out MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| peregrine ingest (process wall clock, durable) | {p_best:.2f} | {p_wall:.2f} "
          f"| {p_cpu:.2f} | {n / p_wall:,.0f} | {mib / p_wall:,.1f} "
          f"| {doc['peregrine'][-1]['bytes'] / 2**20:,.0f} |")
    print(f"| DuckDB read_json → table → COPY zstd Parquet | {d_best:.2f} | {d_wall:.2f} "
          f"| {d_cpu:.2f} | {n / d_wall:,.0f} | {mib / d_wall:,.1f} "
          f"| {doc['duckdb'][-1]['bytes'] / 2**20:,.0f} |")
    print(f"| DuckDB, plus os.sync() after | - | {d_sync:.2f} | | {n / d_sync:,.0f} "
          f"| {mib / d_sync:,.1f} | |")
    if tool:
        print(f"\nperegrine's own line (median of runs): {statistics.median(tool):,.0f} events/s; "
              f"last: `{doc['peregrine'][-1]['stderr']}`")
    print(f"\nratio peregrine / DuckDB (median time): {p_wall / d_wall:.2f}")
    bad = [r for r in doc["peregrine"] if r["stored_rows"] != n] + \
          [r for r in doc["duckdb"] if r["rows"] != n]
    if bad:
        print(f"\n**ROW COUNT MISMATCH in {len(bad)} run(s)**")
    if not args.keep and not args.workdir:
        shutil.rmtree(work)
    else:
        log(f"kept {work}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
