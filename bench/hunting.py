#!/usr/bin/env python3
"""Hunting-query benchmark: peregrine (KQL) against DuckDB (SQL) over the same Parquet files.

    python3 bench/hunting.py --data DIR [--binary PATH] [--repeat 5]
                             [--generate --devices 3500 --days 7] [--json FILE]

Each query is written twice, in KQL for `peregrine query` and in DuckDB SQL with the same
semantics, and both read the store's files (DIR/<tenant>/tables/<Table>/date=*/*.parquet).

Peregrine: one discarded warm-up process (`--repeat 1`), then one process with
`--repeat N`; the timings are the ones the binary prints on standard error (each run parses,
plans, executes and collects the result in-process; process start, store open and output
formatting are excluded).
DuckDB: one in-process connection (`SET threads TO 2`), one discarded warm-up run per query,
then N timed runs of `con.sql(q).to_arrow_table()` (execution plus full fetch into Arrow).

The results of the two engines are checked against each other (row counts always, and the
values of the columns each query names) and mismatches are reported loudly; the script
exits with status 1 if any query mismatched or failed.

Needs Python 3.9+ and the `duckdb` package (pyarrow for `to_arrow_table`).
"""

import argparse
import collections
import csv
import datetime as dt
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import duckdb

DEFAULT_BINARY = os.path.expanduser("~/.cache/peregrine-target/release/peregrine")
TABLES = ["DeviceProcessEvents", "DeviceInfo", "DeviceLogonEvents", "DeviceEvents"]

# Each query: id, description, KQL, SQL, and what to compare besides the row count:
#   "values": the multiset of whole result rows (every column);
#   ["ColA", "ColB"]: the multiset of those columns' tuples;
#   None: the row count only.
# {cut} is replaced by a time one day before the newest DeviceProcessEvents row (a fixed
# literal rather than ago(1d), so that both engines see the same rows; see the docs).
QUERIES = [
    dict(
        id="top_filename",
        what="count by FileName, top 10",
        kql="DeviceProcessEvents | summarize Count = count() by FileName | top 10 by Count",
        sql="SELECT FileName, count(*) AS Count FROM DeviceProcessEvents "
        "GROUP BY FileName ORDER BY Count DESC LIMIT 10",
        compare="values",
    ),
    dict(
        id="has_term",
        what='has "-EncodedCommand" (whole-term), count by 2 columns',
        kql='DeviceProcessEvents | where ProcessCommandLine has "-EncodedCommand" '
        "| summarize Count = count() by InitiatingProcessFileName, AccountName",
        # KQL `has`: case-insensitive term match. The needle starts with a delimiter ('-'),
        # so only the end is checked: the next character must not be a letter or digit.
        # ILIKE is a cheap prefilter; the regex decides.
        sql="SELECT InitiatingProcessFileName, AccountName, count(*) AS Count "
        "FROM DeviceProcessEvents "
        "WHERE ProcessCommandLine ILIKE '%-encodedcommand%' "
        r"AND regexp_matches(lower(ProcessCommandLine), '-encodedcommand($|[^\pL\pN])') "
        "GROUP BY InitiatingProcessFileName, AccountName",
        compare="values",
    ),
    dict(
        id="contains",
        what='contains ".ps1", count by InitiatingProcessFileName',
        kql='DeviceProcessEvents | where ProcessCommandLine contains ".ps1" '
        "| summarize Count = count() by InitiatingProcessFileName",
        sql="SELECT InitiatingProcessFileName, count(*) AS Count FROM DeviceProcessEvents "
        "WHERE ProcessCommandLine ILIKE '%.ps1%' GROUP BY InitiatingProcessFileName",
        compare="values",
    ),
    dict(
        id="eq_nocase",
        what='last day, FileName =~ "powershell.exe", project 5 columns (returns rows)',
        # Bounded by time so that the result stays under peregrine's 100,000-row cap.
        kql="DeviceProcessEvents | where Timestamp > datetime({cut}) "
        '| where FileName =~ "PowerShell.exe" '
        "| project Timestamp, DeviceName, AccountName, ProcessCommandLine, "
        "InitiatingProcessFileName",
        sql="SELECT Timestamp, DeviceName, AccountName, ProcessCommandLine, "
        "InitiatingProcessFileName FROM DeviceProcessEvents "
        "WHERE Timestamp > TIMESTAMP '{cut_sql}' AND lower(FileName) = 'powershell.exe'",
        compare=["DeviceName", "AccountName", "ProcessCommandLine", "InitiatingProcessFileName"],
    ),
    dict(
        id="in_nocase",
        what="FileName in~ (8 LOLBins), count by FileName",
        kql='DeviceProcessEvents | where FileName in~ ("cmd.exe", "powershell.exe", '
        '"pwsh.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe", "wscript.exe", '
        '"cscript.exe") | summarize Count = count() by FileName',
        sql="SELECT FileName, count(*) AS Count FROM DeviceProcessEvents "
        "WHERE lower(FileName) IN ('cmd.exe', 'powershell.exe', 'pwsh.exe', "
        "'rundll32.exe', 'regsvr32.exe', 'mshta.exe', 'wscript.exe', 'cscript.exe') "
        "GROUP BY FileName",
        compare="values",
    ),
    dict(
        id="startswith",
        what=r'FolderPath startswith "C:\ProgramData\", count by FileName',
        kql=r'DeviceProcessEvents | where FolderPath startswith @"C:\ProgramData\" '
        "| summarize Count = count() by FileName",
        sql="SELECT FileName, count(*) AS Count FROM DeviceProcessEvents "
        r"WHERE starts_with(lower(FolderPath), 'c:\programdata\') GROUP BY FileName",
        compare="values",
    ),
    dict(
        id="dcount",
        what="dcount(DeviceId) by FileName",
        kql="DeviceProcessEvents | summarize Devices = dcount(DeviceId) by FileName",
        # peregrine's dcount is exact (documented in kql-functions), so COUNT(DISTINCT).
        sql="SELECT FileName, count(DISTINCT DeviceId) AS Devices FROM DeviceProcessEvents "
        "GROUP BY FileName",
        compare="values",
    ),
    dict(
        id="bin_1h",
        what="count() by bin(Timestamp, 1h)",
        kql="DeviceProcessEvents | summarize Count = count() by bin(Timestamp, 1h)",
        sql="SELECT strftime(time_bucket(INTERVAL 1 HOUR, Timestamp), '%Y-%m-%dT%H:%M:%SZ') "
        "AS Timestamp, count(*) AS Count FROM DeviceProcessEvents GROUP BY 1",
        compare="values",
    ),
    dict(
        id="time_filter",
        what="Timestamp > (newest - 1d), count by FileName",
        kql="DeviceProcessEvents | where Timestamp > datetime({cut}) "
        "| summarize Count = count() by FileName",
        sql="SELECT FileName, count(*) AS Count FROM DeviceProcessEvents "
        "WHERE Timestamp > TIMESTAMP '{cut_sql}' GROUP BY FileName",
        compare="values",
    ),
    dict(
        id="join_inner",
        what="powershell.exe events join latest DeviceInfo (kind=inner), count by OSPlatform",
        kql='DeviceProcessEvents | where FileName =~ "powershell.exe" '
        "| join kind=inner (DeviceInfo | summarize arg_max(Timestamp, OSPlatform) by DeviceId) "
        "on DeviceId | summarize Count = count() by OSPlatform",
        sql="WITH di AS (SELECT DeviceId, arg_max(OSPlatform, Timestamp) AS OSPlatform "
        "FROM DeviceInfo GROUP BY DeviceId) "
        "SELECT di.OSPlatform, count(*) AS Count FROM DeviceProcessEvents p "
        "JOIN di ON p.DeviceId = di.DeviceId WHERE lower(p.FileName) = 'powershell.exe' "
        "GROUP BY di.OSPlatform",
        compare="values",
    ),
    dict(
        id="join_innerunique",
        what="failed logons join powershell.exe events (default innerunique), count",
        # Default join = innerunique: the LEFT side keeps one (arbitrary) row per key, then
        # an inner join. The SQL keeps one left row per DeviceId with row_number().
        kql='DeviceLogonEvents | where ActionType == "LogonFailed" '
        '| join (DeviceProcessEvents | where FileName =~ "powershell.exe") on DeviceId '
        "| summarize Count = count()",
        sql="WITH l AS (SELECT * FROM DeviceLogonEvents WHERE ActionType = 'LogonFailed' "
        "QUALIFY row_number() OVER (PARTITION BY DeviceId) = 1) "
        "SELECT count(*) AS Count FROM l JOIN DeviceProcessEvents r ON l.DeviceId = r.DeviceId "
        "WHERE lower(r.FileName) = 'powershell.exe'",
        compare="values",
    ),
    dict(
        id="arg_max",
        what="arg_max(Timestamp, FileName, ProcessCommandLine) by DeviceId",
        kql="DeviceProcessEvents "
        "| summarize arg_max(Timestamp, FileName, ProcessCommandLine) by DeviceId",
        sql="SELECT DeviceId, max(Timestamp) AS Timestamp, "
        "arg_max({'f': FileName, 'c': ProcessCommandLine}, Timestamp) AS latest "
        "FROM DeviceProcessEvents GROUP BY DeviceId",
        compare=["DeviceId"],
    ),
    dict(
        id="top_long",
        what="top 10 by FileSize (all columns)",
        kql="DeviceProcessEvents | top 10 by FileSize desc",
        sql="SELECT * EXCLUDE (date) FROM DeviceProcessEvents ORDER BY FileSize DESC LIMIT 10",
        # Many rows tie on FileSize: which ten come back is arbitrary, their sizes are not.
        compare=["FileSize"],
    ),
    dict(
        id="parse_json",
        what="DeviceEvents NamedPipeEvent, parse_json(AdditionalFields), count by 2 fields",
        kql='DeviceEvents | where ActionType == "NamedPipeEvent" '
        "| extend AF = parse_json(AdditionalFields) "
        "| summarize Count = count() by PipeName = tostring(AF.PipeName), "
        "FileOperation = tostring(AF.FileOperation)",
        sql="SELECT coalesce(json_extract_string(AdditionalFields, '$.PipeName'), '') AS PipeName, "
        "coalesce(json_extract_string(AdditionalFields, '$.FileOperation'), '') AS FileOperation, "
        "count(*) AS Count FROM DeviceEvents WHERE ActionType = 'NamedPipeEvent' GROUP BY 1, 2",
        compare="values",
        needs_json=True,
    ),
]

# Fixed per-query overhead probes (peregrine only needs the first two; DuckDB the same).
OVERHEAD = [
    dict(id="print", what="print x = 1 (no table)", kql="print x = 1", sql="SELECT 1 AS x"),
    dict(
        id="take1",
        what="DeviceProcessEvents | take 1 (lists and opens the table)",
        kql="DeviceProcessEvents | take 1",
        sql="SELECT * EXCLUDE (date) FROM DeviceProcessEvents LIMIT 1",
    ),
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def table_glob(data, tenant, table):
    return os.path.join(data, tenant, "tables", table, "date=*", "*.parquet")


def has_files(data, tenant, table):
    d = os.path.join(data, tenant, "tables", table)
    if not os.path.isdir(d):
        return False
    for part in os.listdir(d):
        p = os.path.join(d, part)
        if part.startswith("date=") and os.path.isdir(p):
            if any(f.endswith(".parquet") for f in os.listdir(p)):
                return True
    return False


def machine_info():
    info = {"nproc": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "duckdb": duckdb.__version__}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    return info


def store_rows(con, data, tenant):
    """Rows per table from the Parquet footers."""
    base = os.path.join(data, tenant, "tables")
    out = {}
    for table in sorted(os.listdir(base)):
        if has_files(data, tenant, table):
            out[table] = con.execute(
                "SELECT sum(num_rows) FROM parquet_file_metadata(?)",
                [table_glob(data, tenant, table)],
            ).fetchall()[0][0]
    return out


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def generate(args):
    cmd = [args.binary, "demo", "--data", args.data, "--tenant", args.tenant,
           "--devices", str(args.devices), "--days", str(args.days), "--seed", str(args.seed)]
    if args.now:
        cmd += ["--now", args.now]
    if args.endpoint_tables:
        cmd += ["--endpoint-tables", args.endpoint_tables]
    log("generating: " + " ".join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"demo failed ({p.returncode}):\n{p.stderr[-4000:]}")
    con = duckdb.connect()
    rows = store_rows(con, args.data, args.tenant)
    total = sum(rows.values())
    gen = {"command": cmd, "seconds": round(secs, 2), "rows_total": total,
           "rows_per_table": rows, "rows_per_s": round(total / secs),
           "bytes_on_disk": dir_bytes(os.path.join(args.data, args.tenant))}
    log(f"generated {total:,} rows in {secs:.1f} s ({total / secs:,.0f} rows/s), "
        f"{gen['bytes_on_disk'] / 2**30:.2f} GiB")
    return gen


def peregrine_supports_repeat(binary):
    p = subprocess.run([binary, "query", "--help"], stdout=subprocess.PIPE, text=True)
    return "--repeat" in p.stdout


def peregrine_version(binary):
    p = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True)
    return p.stdout.strip()


def run_peregrine(args, kql, repeat, with_repeat_flag):
    """Returns (timing dict, header, rows) of the last run."""
    cmd = [args.binary, "query", "--data", args.data, "--tenant", args.tenant,
           "--format", "csv"]
    if with_repeat_flag:
        cmd += ["--repeat", str(repeat)]
        cmd.append(kql)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"peregrine exit {p.returncode}: {p.stderr.strip()[-2000:]}")
        timing = None
        for line in reversed(p.stderr.splitlines()):
            line = line.strip()
            if line.startswith("{") and '"median_ms"' in line:
                timing = json.loads(line)
                break
        if timing is None:
            raise RuntimeError("no timing line on stderr: " + p.stderr[-2000:])
        out = p.stdout
    else:
        # Fallback for binaries without --repeat: wall clock of whole processes (includes
        # process start and store open). Only for development; flagged in the results.
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            p = subprocess.run(cmd + [kql], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
            times.append((time.perf_counter() - t0) * 1e3)
            if p.returncode != 0:
                raise RuntimeError(f"peregrine exit {p.returncode}: {p.stderr.strip()[-2000:]}")
        times.sort()
        out = p.stdout
        timing = {"runs": repeat, "min_ms": times[0], "median_ms": statistics.median(times),
                  "max_ms": times[-1], "rows": None}
    reader = csv.reader(io.StringIO(out, newline=""))
    header = next(reader, [])
    rows = list(reader)
    if timing.get("rows") is not None and timing["rows"] != len(rows):
        raise RuntimeError(f"timing line says {timing['rows']} rows, CSV has {len(rows)}")
    timing["rows"] = len(rows)
    return timing, header, rows


def run_duckdb(con, sql, repeat):
    con.sql(sql).to_arrow_table()  # warm-up, discarded
    times = []
    table = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        table = con.sql(sql).to_arrow_table()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    timing = {"runs": repeat, "rows": table.num_rows, "min_ms": times[0],
              "median_ms": statistics.median(times), "max_ms": times[-1]}
    return timing, table


def norm_duck(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6))
    return str(v)


def norm_csv(v):
    # peregrine CSV: numbers as text; normalize floats the same way as DuckDB's.
    if "." in v or "e" in v or "E" in v:
        try:
            f = float(v)
            if str(int(f)) != v:
                return repr(round(f, 6))
        except ValueError:
            pass
    return v


def compare(q, p_header, p_rows, d_table):
    """Returns (ok, message)."""
    n_p, n_d = len(p_rows), d_table.num_rows
    if n_p != n_d:
        cap = (" (peregrine caps results at 100,000 rows: QueryOptions::max_rows)"
               if n_p == 100_000 else "")
        return False, f"ROW COUNT MISMATCH: peregrine {n_p}, duckdb {n_d}{cap}"
    mode = q["compare"]
    if mode is None:
        return True, f"rows equal ({n_p})"
    d_cols = d_table.column_names
    if mode == "values":
        if len(p_header) != len(d_cols):
            return False, f"COLUMN MISMATCH: peregrine {p_header}, duckdb {d_cols}"
        p_idx, d_names = list(range(len(p_header))), d_cols
    else:
        missing = [c for c in mode if c not in p_header or c not in d_cols]
        if missing:
            return False, f"COLUMNS MISSING for comparison: {missing}"
        p_idx, d_names = [p_header.index(c) for c in mode], list(mode)
    p_set = collections.Counter(tuple(norm_csv(r[i]) for i in p_idx) for r in p_rows)
    d_lists = [d_table.column(c).to_pylist() for c in d_names]
    d_set = collections.Counter(tuple(norm_duck(col[i]) for col in d_lists) for i in range(n_d))
    if p_set != d_set:
        only_p = list((p_set - d_set).elements())[:3]
        only_d = list((d_set - p_set).elements())[:3]
        return False, (f"VALUE MISMATCH on {mode if mode != 'values' else 'all columns'}: "
                       f"only in peregrine {only_p}, only in duckdb {only_d}")
    what = "all values" if mode == "values" else "values of " + ", ".join(mode)
    return True, f"rows equal ({n_p}), {what} equal"


def fmt_ms(x):
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def md_cell(text):
    return str(text).replace("|", "\\|")


def markdown(results, overhead):
    lines = ["| query | what | peregrine best / median ms | DuckDB best / median ms "
             "| ratio (median) | rows | check |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| `{r['id']}` | {md_cell(r['what'])} | - | - | - | - | **ERROR**: "
                         f"{md_cell(r['error'][:200])} |")
            continue
        p, d = r["peregrine"], r["duckdb"]
        check = "ok" if r["ok"] else "**MISMATCH**"
        rows = f"{p['rows']:,}" if p["rows"] == d["rows"] else f"{p['rows']:,} vs {d['rows']:,}"
        lines.append(
            f"| `{r['id']}` | {md_cell(r['what'])} | {fmt_ms(p['min_ms'])} / {fmt_ms(p['median_ms'])} "
            f"| {fmt_ms(d['min_ms'])} / {fmt_ms(d['median_ms'])} | {r['ratio']:.2f} "
            f"| {rows} | {check} |")
    ratios = [r["ratio"] for r in results if "ratio" in r]
    if ratios:
        geo = 1.0
        for x in ratios:
            geo *= x
        geo **= 1 / len(ratios)
        lines.append(f"\nGeometric mean of the ratios: {geo:.2f} ({len(ratios)} queries).")
    if overhead:
        lines.append("\n| overhead probe | peregrine best / median ms | peregrine --repeat 1 ms "
                     "| DuckDB best / median ms |")
        lines.append("|---|---:|---:|---:|")
        for o in overhead:
            lines.append(
                f"| {md_cell(o['what'])} | {fmt_ms(o['peregrine']['min_ms'])} / "
                f"{fmt_ms(o['peregrine']['median_ms'])} | {fmt_ms(o['peregrine_single_ms'])} "
                f"| {fmt_ms(o['duckdb']['min_ms'])} / {fmt_ms(o['duckdb']['median_ms'])} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="event store directory")
    ap.add_argument("--tenant", default="default")
    ap.add_argument("--binary", default=DEFAULT_BINARY, help="peregrine binary")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per query and engine")
    ap.add_argument("--generate", action="store_true",
                    help="first write the demo tenant into --data (peregrine demo)")
    ap.add_argument("--devices", type=int, default=3500)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", help="end of the demo data (RFC 3339); default: the current minute")
    ap.add_argument("--endpoint-tables", default="DeviceProcessEvents,DeviceLogonEvents,DeviceEvents",
                    help="endpoint tables that get background activity (--generate); "
                    "'' for all seven")
    ap.add_argument("--generate-only", action="store_true",
                    help="with --generate: stop after writing the store")
    ap.add_argument("--only", help="comma-separated query ids to run")
    ap.add_argument("--json", default="hunting-results.json", help="results file to write")
    ap.add_argument("--no-overhead", action="store_true", help="skip the overhead probes")
    args = ap.parse_args()

    if not os.path.exists(args.binary):
        sys.exit(f"no peregrine binary at {args.binary}")
    results_doc = {
        "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine_info(),
        "binary": args.binary,
        "peregrine_version": peregrine_version(args.binary),
        "repeat": args.repeat,
        "data": os.path.abspath(args.data),
        "nice": os.nice(0),
    }
    if args.generate:
        if os.path.exists(os.path.join(args.data, args.tenant, "tables")):
            sys.exit(f"{args.data}/{args.tenant} already has tables; --generate wants a fresh dir")
        results_doc["generate"] = generate(args)
        if args.generate_only:
            with open(args.json, "w") as f:
                json.dump(results_doc, f, indent=2, default=str)
            log(f"results written to {args.json}")
            return

    st = os.stat(args.binary)
    results_doc["binary_mtime"] = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat()
    with_repeat = peregrine_supports_repeat(args.binary)
    results_doc["peregrine_timing"] = ("in-process --repeat" if with_repeat
                                       else "WALL CLOCK PER PROCESS (binary has no --repeat)")
    if not with_repeat:
        log("WARNING: this binary has no `query --repeat`; timing whole processes instead "
            "(includes process start and store open; not comparable)")

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")
    for t in TABLES:
        if has_files(args.data, args.tenant, t):
            con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet("
                        f"'{table_glob(args.data, args.tenant, t)}', hive_partitioning = true)")
    rows = store_rows(con, args.data, args.tenant)
    results_doc["store_rows"] = rows
    log("store rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items() if t in TABLES))

    newest, oldest = con.execute(
        "SELECT max(Timestamp), min(Timestamp) FROM DeviceProcessEvents").fetchall()[0]
    window_start = dt.datetime.utcnow() - dt.timedelta(days=30)
    if oldest < window_start + dt.timedelta(hours=1):
        log(f"WARNING: oldest event {oldest} is close to or outside peregrine's 30-day query "
            "window; peregrine will see fewer rows than DuckDB")
    cut = (newest - dt.timedelta(days=1)).replace(microsecond=0)
    subst = {"cut": cut.strftime("%Y-%m-%dT%H:%M:%SZ"), "cut_sql": cut.strftime("%Y-%m-%d %H:%M:%S")}
    results_doc["time_filter_cut"] = subst["cut"]

    json_ok = False
    if has_files(args.data, args.tenant, "DeviceEvents"):
        json_ok = con.execute(
            "SELECT count(*) FROM DeviceEvents WHERE ActionType = 'NamedPipeEvent' "
            "AND AdditionalFields IS NOT NULL").fetchall()[0][0] > 0

    only = set(args.only.split(",")) if args.only else None
    results = []
    for q in QUERIES:
        if only and q["id"] not in only:
            continue
        if q.get("needs_json") and not json_ok:
            log(f"skip {q['id']}: no DeviceEvents with AdditionalFields in the store")
            continue
        kql, sql = q["kql"], q["sql"]
        for k, v in subst.items():
            kql, sql = kql.replace("{" + k + "}", v), sql.replace("{" + k + "}", v)
        r = {"id": q["id"], "what": q["what"], "kql": kql, "sql": sql,
             "loadavg_1m_before": os.getloadavg()[0]}
        log(f"== {q['id']}: {q['what']}")
        try:
            if with_repeat:
                # Warm-up process, discarded (its one run is kept in the JSON for reference:
                # the first run in a process, with the OS file cache warm or not).
                r["peregrine_warmup_ms"] = run_peregrine(args, kql, 1, True)[0]["median_ms"]
            p_timing, p_header, p_rows = run_peregrine(args, kql, args.repeat, with_repeat)
            d_timing, d_table = run_duckdb(con, sql, args.repeat)
        except Exception as e:  # noqa: BLE001 - report and continue with the next query
            r["error"] = str(e)
            log(f"   ERROR: {e}")
            results.append(r)
            continue
        ok, msg = compare(q, p_header, p_rows, d_table)
        r.update(peregrine=p_timing, duckdb=d_timing, ok=ok, check=msg,
                 ratio=p_timing["median_ms"] / max(d_timing["median_ms"], 1e-6))
        log(f"   peregrine {fmt_ms(p_timing['min_ms'])} / {fmt_ms(p_timing['median_ms'])} ms, "
            f"duckdb {fmt_ms(d_timing['min_ms'])} / {fmt_ms(d_timing['median_ms'])} ms, "
            f"ratio {r['ratio']:.2f}; {msg}")
        if not ok:
            log("   !!!!!!!! " + msg)
        results.append(r)

    overhead = []
    if with_repeat and not args.no_overhead and not only:
        for o in OVERHEAD:
            log(f"== overhead: {o['what']}")
            run_peregrine(args, o["kql"], 1, True)
            p_timing, _, _ = run_peregrine(args, o["kql"], max(args.repeat, 10), True)
            single, _, _ = run_peregrine(args, o["kql"], 1, True)
            d_timing, _ = run_duckdb(con, o["sql"], max(args.repeat, 10))
            overhead.append(dict(o, peregrine=p_timing, peregrine_single_ms=single["median_ms"],
                                 duckdb=d_timing))

    if os.stat(args.binary).st_mtime != st.st_mtime:
        log("WARNING: the peregrine binary changed during the run; the numbers mix two builds")
        results_doc["binary_changed_during_run"] = True
    results_doc["queries"] = results
    results_doc["overhead"] = overhead
    results_doc["finished"] = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(args.json, "w") as f:
        json.dump(results_doc, f, indent=2, default=str)
    md = markdown(results, overhead)
    print(md)
    bad = [r["id"] for r in results if "error" in r or not r.get("ok")]
    if bad:
        print(f"\n**{len(bad)} query(ies) mismatched or failed: {', '.join(bad)}**")
    log(f"results written to {args.json}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
