//! The store through the CLI: SIGKILL durability (every acknowledged event is there after a
//! restart, none twice), malformed input, and `check --run`.
//!
//! Durability: SIGKILL the ingesting process mid-stream; after a restart every acknowledged
//! event is queryable and none is there twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn peregrine() -> Command {
    Command::new(env!("CARGO_BIN_EXE_peregrine"))
}

fn count(data: &std::path::Path, query: &str) -> u64 {
    let out = peregrine()
        .args(["query", "--format", "csv", "--data"])
        .arg(data)
        .arg(query)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// Streams events with ReportId `first..` into `data` until `kill_after` are acknowledged,
/// then SIGKILLs the process; returns how many were acknowledged.
fn ingest_then_kill(data: &std::path::Path, first: u64, kill_after: u64) -> u64 {
    let mut child = peregrine()
        .args([
            "ingest",
            "--table",
            "DeviceProcessEvents",
            "--batch-size",
            "500",
            "--data",
        ])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // Feed events from a thread until the pipe breaks (the process is killed).
    let writer = std::thread::spawn(move || {
        let day = chrono::Utc::now() - chrono::Duration::hours(2);
        for i in first.. {
            let line = format!(
                "{{\"Timestamp\":\"{}\",\"DeviceName\":\"ws{}\",\"ReportId\":{i},\"FileName\":\"f{i}.exe\"}}\n",
                day.format("%Y-%m-%dT%H:%M:%SZ"),
                i % 7
            );
            if stdin.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    let mut acked = 0u64;
    let started = Instant::now();
    let mut lines = BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        acked = v["acknowledged"].as_u64().unwrap();
        if acked >= kill_after || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL, while the next batch is being written
    child.wait().unwrap();
    drop(lines);
    writer.join().unwrap();
    assert!(acked >= kill_after, "only {acked} events acknowledged");
    acked
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_event_and_duplicates_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut acked = 0;
    let mut stored = 0;
    for kill_after in [3000, 1000, 2500, 500] {
        acked += ingest_then_kill(&data, stored, kill_after);
        // Restart: every acknowledged event is there (a batch committed just before the
        // kill may be there too), each exactly once, batches whole.
        let total = count(&data, "DeviceProcessEvents | count");
        let twice = count(
            &data,
            "DeviceProcessEvents | summarize c = count() by ReportId | where c > 1 | count",
        );
        assert!(total >= acked, "{total} stored < {acked} acknowledged");
        assert_eq!(total % 500, 0, "batches are all or nothing");
        assert_eq!(twice, 0, "no event twice");
        assert!(!data.join("default").join("_staging").exists());
        acked = total;
        stored = total;
    }
}

#[test]
fn malformed_input_gets_a_coded_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run_with = |table: &str, input: &str, extra: &[&str]| {
        let mut child = peregrine()
            .args(["ingest", "--table", table, "--data"])
            .arg(&data)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let run = |table: &str, input: &str| run_with(table, input, &[]);
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let good = format!(r#"{{"Timestamp":"{now}","DeviceName":"a"}}"#);
    let good = good.as_str();
    let (code, err) = run("DeviceInfo", &format!("{good}\n{{not json\n"));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("InvalidJson") && err.contains("line 2"),
        "{err}"
    );
    let (code, err) = run("DeviceInfo", &format!("{good}\n{{\"Timestamp\":\"x\"}}\n"));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("line 2, column Timestamp: TypeMismatch"),
        "{err}"
    );
    let (code, err) = run("NoSuchTable", good);
    assert_eq!(code, Some(2));
    assert!(err.contains("UnknownTable"), "{err}");
    // A body read whole (a JSON array) over the limit is refused before anything is parsed.
    let (code, err) = run_with(
        "DeviceInfo",
        &format!("[{good}, {good}]"),
        &["--max-body-bytes", "64"],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("RequestTooLarge"), "{err}");
    assert_eq!(count(&data, "DeviceInfo | count"), 0);
    // The same good line alone is stored.
    assert_eq!(run("DeviceInfo", good).0, Some(0));
    assert_eq!(count(&data, "DeviceInfo | count"), 1);
}

#[test]
fn check_run_executes_each_accepted_query_over_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    let mut child = peregrine()
        .args(["ingest", "--table", "DeviceInfo", "--data"])
        .arg(&data)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let input = format!(
        "{{\"Timestamp\":\"{now}\",\"DeviceName\":\"a\"}}\n{{\"Timestamp\":\"{now}\",\"DeviceName\":\"b\"}}\n"
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let queries = dir.path().join("q.jsonl");
    std::fs::write(
        &queries,
        concat!(
            "{\"id\":\"all\",\"query\":\"DeviceInfo | project DeviceName\"}\n",
            "{\"id\":\"none\",\"query\":\"DeviceInfo | where DeviceName == 'zzz'\"}\n",
            "{\"id\":\"bad\",\"query\":\"DeviceInfo | where NoSuchColumn == 1\"}\n",
        ),
    )
    .unwrap();
    let out = peregrine()
        .args(["check", "--json", "--run", "--data"])
        .arg(&data)
        .arg(&queries)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["rows"], 2);
    assert_eq!(lines[1]["rows"], 0);
    assert_eq!(lines[2]["ok"], false);
    assert!(lines[2].get("rows").is_none());
    assert!(
        text.contains("run: 2 of 3 queries ran without error (66.7 %), 1 returned rows"),
        "{text}"
    );
}

/// The README's first steps: `peregrine demo`, then the top process names.
#[test]
fn demo_then_query_from_the_readme() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = peregrine()
        .args([
            "demo",
            "--devices",
            "6",
            "--days",
            "2",
            "--seed",
            "3",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("RDP brute force to ransomware"), "{err}");
    let out = peregrine()
        .args(["query", "--format", "csv", "--data"])
        .arg(&data)
        .arg("DeviceProcessEvents | summarize count() by FileName | top 5 by count_")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "FileName,count_");
    assert_eq!(lines.len(), 6, "{text}");
    let counts: Vec<u64> = lines[1..]
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(counts[4] > 100, "{counts:?}");
    // `--analyze` runs the query and shows the executed plan with its metrics.
    let out = peregrine()
        .args(["query", "--analyze", "--data"])
        .arg(&data)
        .arg("DeviceProcessEvents | where FileName =~ 'cmd.exe' | summarize count() by DeviceName")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" rows in "), "{text}");
    assert!(text.contains("DataSourceExec"), "{text}");
    assert!(text.contains("output_rows="), "{text}");
    assert!(text.contains("row_groups_pruned_statistics"), "{text}");
    // Every story table has rows, and the phishing victim's process tree is there.
    assert!(count(&data, "EmailEvents | where ThreatTypes has 'Phish' | count") > 0);
    assert!(
        count(
            &data,
            "DeviceProcessEvents | where InitiatingProcessFileName =~ 'winword.exe' and ProcessCommandLine has '-EncodedCommand' | count"
        ) > 0
    );
    // Bad options are usage errors that write nothing.
    let bad = dir.path().join("bad");
    let out = peregrine()
        .args(["demo", "--devices", "2", "--data"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!bad.exists());
}

/// `app create --json`, then `serve` on a free port: a token and a hunting query over a real
/// socket, and SIGTERM stops the server cleanly (exit code 0).
#[test]
fn app_create_then_serve_then_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let out = peregrine()
        .args([
            "app",
            "create",
            "--tenant",
            "contoso",
            "--name",
            "notebook",
            "--roles",
            "AdvancedHunting.Read.All,ThreatHunting.Read.All",
            "--json",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&String> = app.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["tenantId", "clientId", "clientSecret"]);
    let secret = app["clientSecret"].as_str().unwrap();
    let stored = std::fs::read_to_string(dir.path().join("_auth/apps.json")).unwrap();
    assert!(!stored.contains(secret));

    let (mut child, addr) = serve(dir.path(), &[]);
    let send = |request: String| exchange(&addr, &request);
    let health = send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".into());
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        app["clientId"].as_str().unwrap()
    );
    let reply = send(format!(
        "POST /contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    ));
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: serde_json::Value =
        serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let token = body["access_token"].as_str().unwrap();
    let query = r#"{"Query":"print answer = 42"}"#;
    let reply = send(format!(
        "POST /v1.0/security/runHuntingQuery HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{query}",
        query.len()
    ));
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""results":[{"answer":42}]"#), "{reply}");

    stop(&mut child);
}

/// `serve --listen 127.0.0.1:0 --data DIR` plus `extra`; the child and the address it logs.
fn serve(data: &std::path::Path, extra: &[&str]) -> (std::process::Child, String) {
    let mut child = peregrine()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        let plain: String = strip_ansi(&line);
        if let Some(rest) = plain.split("addr=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().to_string();
            // keep draining the log so the server never blocks on a full pipe
            std::thread::spawn(move || {
                let mut sink = String::new();
                while stderr.read_line(&mut sink).unwrap_or(0) > 0 {
                    sink.clear();
                }
            });
            return (child, addr);
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not log its address");
}

/// One HTTP/1.1 exchange (`Connection: close`): the whole reply.
fn exchange(addr: &str, request: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

/// SIGTERM, then the exit status must be success within 20 s.
fn stop(child: &mut std::process::Child) {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// `serve --demo` over a store that already has a tenant: no demo is written; a new app's
/// credentials and curl commands for the bound address are printed, and they work.
#[test]
fn serve_demo_prints_working_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let ts = (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut ingest = peregrine()
        .args([
            "ingest",
            "--tenant",
            "acme",
            "--table",
            "DeviceProcessEvents",
            "--data",
        ])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ingest
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{{\"Timestamp\":\"{ts}\",\"FileName\":\"a.exe\"}}\n").as_bytes())
        .unwrap();
    assert!(ingest.wait().unwrap().success());
    let (mut child, addr) = serve(dir.path(), &["--demo"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut tenant, mut id, mut secret, mut base) = (None, None, None, None);
    let mut line = String::new();
    while base.is_none() && stdout.read_line(&mut line).unwrap() > 0 {
        let value = line.split(": ").nth(1).map(|v| v.trim().to_string());
        if line.contains("tenant id:") {
            tenant = value;
        } else if line.contains("client id:") {
            id = value;
        } else if line.contains("client secret:") {
            secret = value;
        } else if let Some(rest) = line.split("-X POST ").nth(1)
            && rest.contains("/api/advancedhunting/run")
        {
            base = rest.split("/api/").next().map(str::to_string);
        }
        line.clear();
    }
    let (tenant, id, secret) = (tenant.unwrap(), id.unwrap(), secret.unwrap());
    assert_eq!(tenant, "acme");
    assert_eq!(base.unwrap(), format!("http://{addr}"));
    let form = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={secret}&resource=https%3A%2F%2Fapi.security.microsoft.com"
    );
    let reply = exchange(
        &addr,
        &format!(
            "POST /{tenant}/oauth2/token HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body: serde_json::Value =
        serde_json::from_str(reply.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let token = body["access_token"].as_str().unwrap();
    let query = r#"{"Query":"DeviceProcessEvents | count"}"#;
    let reply = exchange(
        &addr,
        &format!(
            "POST /api/advancedhunting/run HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{query}",
            query.len()
        ),
    );
    assert!(reply.contains(r#""Results":[{"Count":1}]"#), "{reply}");
    // the demo app may ingest too, into its tenant
    let event = format!("{{\"Timestamp\":\"{ts}\",\"FileName\":\"hello.exe\",\"ReportId\":1}}\n");
    let reply = exchange(
        &addr,
        &format!(
            "POST /api/ingest/DeviceProcessEvents HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{event}",
            event.len()
        ),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let reply = exchange(
        &addr,
        &format!(
            "POST /api/advancedhunting/run HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{query}",
            query.len()
        ),
    );
    assert!(reply.contains(r#""Results":[{"Count":2}]"#), "{reply}");
    stop(&mut child);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
