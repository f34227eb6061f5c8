//! The `peregrine` binary: arguments, exit codes and output shapes.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

fn peregrine(args: &[&str]) -> Output {
    peregrine_stdin(args, "")
}

fn peregrine_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = match Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start peregrine: {e}"),
    };
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("peregrine did not finish: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A scratch file with `content`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(content: &str) -> Scratch {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("peregrine-cli-{}-{n}.jsonl", std::process::id()));
        if let Err(e) = std::fs::write(&path, content) {
            panic!("cannot write {}: {e}", path.display());
        }
        Scratch(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn last_line(out: &Output) -> String {
    text(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn help_lists_the_commands() {
    let out = peregrine(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for cmd in ["query", "check", "conformance"] {
        assert!(help.contains(cmd), "--help does not mention {cmd}:\n{help}");
    }
}

#[test]
fn unusable_input_exits_2() {
    assert_eq!(peregrine(&["query"]).status.code(), Some(2));
    assert_eq!(
        peregrine(&["query", "-f", "/nonexistent/q.kql"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        peregrine(&["check", "/nonexistent/x.jsonl"]).status.code(),
        Some(2)
    );
    assert_eq!(
        peregrine(&["conformance", "/nonexistent/x.jsonl"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        peregrine(&["query", "--format", "xml", "print 1"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn query_errors_exit_1_with_a_rendered_diagnostic() {
    let out = peregrine(&["query", "print x ="]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error[KQL"), "stderr: {err}");
    assert!(err.contains("--> 1:"), "stderr: {err}");
}

#[test]
fn invalid_jsonl_reports_the_line() {
    let f = Scratch::new("{\"id\":\"a\",\"query\":\"print 1\"}\nnot json\n");
    let out = peregrine(&["check", f.path()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(":2:"), "stderr: {err}");
}

#[test]
fn check_prints_one_json_line_per_query_and_a_summary() {
    let f = Scratch::new(concat!(
        "{\"id\":\"good\",\"query\":\"DeviceProcessEvents | project Timestamp, FileName\"}\n",
        "\n",
        "{\"id\":\"bad\",\"query\":\"print x =\",\"reference\":{\"syntax_ok\":false,\"errors\":[{\"code\":\"KS\",\"message\":\"m\",\"start\":9,\"length\":0}],\"columns\":[]}}\n",
    ));
    let out = peregrine(&["check", "--json", f.path()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let json: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(json.len(), 2, "stdout: {stdout}");
    for v in &json {
        for key in ["id", "ok", "columns", "error"] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
    }
    assert_eq!(json[1]["id"], "bad");
    assert_eq!(json[1]["ok"], false);
    assert_eq!(json[1]["columns"], serde_json::json!([]));
    assert_eq!(json[1]["error"]["line"], 1);
    assert!(
        json[1]["error"]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("KQL"))
    );
    assert!(stdout.contains("reference: "), "stdout: {stdout}");
    let last = last_line(&out);
    assert!(
        last.starts_with("check: ") && last.ends_with(" failed"),
        "last line: {last}"
    );
}

#[test]
fn check_without_json_prints_failures_and_a_summary() {
    let f = Scratch::new("{\"id\":\"bad\",\"query\":\"print x =\"}\n");
    let out = peregrine(&["check", f.path()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("bad: KQL"), "stdout: {stdout}");
    assert_eq!(last_line(&out), "check: 0 passed, 1 failed");
}

#[test]
fn conformance_prints_failures_and_a_summary() {
    let f = Scratch::new(concat!(
        r#"{"id":"c1","query":"print x = ","expected":{"columns":["x"],"types":["long"],"rows":[["1"]]},"ordered":true,"tags":[]}"#,
        "\n",
        r#"{"id":"c2","query":"print x = 1","expected":{"columns":["x"],"types":["int|long"],"rows":[["1"]]},"ordered":true,"tags":[]}"#,
        "\n",
    ));
    let out = peregrine(&["conformance", f.path()]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL c1 [error]"), "stdout: {stdout}");
    assert!(!stdout.contains("FAIL c2"), "stdout: {stdout}");
    assert_eq!(
        last_line(&out),
        "conformance: 1 passed, 1 failed, 0 skipped"
    );
}

#[test]
fn query_reads_standard_input() {
    let out = peregrine_stdin(&["query", "-"], "print x =");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error[KQL"));
}

// The tests below need the engine to run `print` and `datatable`.

#[test]
fn query_prints_a_table_with_a_row_count() {
    let out = peregrine(&[
        "query",
        "datatable(a:long, b:string) [1, \"x\", 2, \"y\"] | sort by a asc",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(" a ") && stdout.contains(" b "),
        "stdout: {stdout}"
    );
    assert!(
        stdout.contains(" x ") && stdout.contains(" y "),
        "stdout: {stdout}"
    );
    assert_eq!(last_line(&out), "(2 rows)");
}

#[test]
fn query_prints_json_and_csv() {
    let q = "print n = 1, s = \"a,b\", d = datetime(2020-01-01), t = 1h, j = dynamic({\"k\": [1]}), z = long(null)";
    let out = peregrine(&["query", "--format", "json", q]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        v,
        serde_json::json!({
            "columns": [
                {"name": "n", "type": "long"},
                {"name": "s", "type": "string"},
                {"name": "d", "type": "datetime"},
                {"name": "t", "type": "timespan"},
                {"name": "j", "type": "dynamic"},
                {"name": "z", "type": "long"}
            ],
            "rows": [[1, "a,b", "2020-01-01T00:00:00Z", "01:00:00", {"k": [1]}, null]]
        })
    );
    let out = peregrine(&["query", "--format", "csv", q]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "n,s,d,t,j,z\r\n1,\"a,b\",2020-01-01T00:00:00Z,01:00:00,\"{\"\"k\"\":[1]}\",\r\n"
    );
}
