//! `peregrine rules`: built-in rules, add (checked), list, delete, per tenant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn rules(args: &[&str], data: &std::path::Path, tenant: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_peregrine"))
        .arg("rules")
        .args(args)
        .arg("--data")
        .arg(data)
        .args(["--tenant", tenant])
        .output()
        .unwrap()
}

fn ids(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn add_list_delete() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let out = rules(&["builtin"], data, "contoso");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("6 built-in rules added"));
    assert_eq!(ids(&rules(&["list"], data, "contoso")).len(), 6);
    assert!(
        ids(&rules(&["list"], data, "fabrikam")).is_empty(),
        "per tenant"
    );
    // a second time adds nothing
    assert!(
        String::from_utf8_lossy(&rules(&["builtin"], data, "contoso").stdout)
            .starts_with("0 built-in")
    );

    let file = data.join("rule.json");
    std::fs::write(&file, r#"{"id": "zz-cmd", "name": "cmd from Excel", "query": "DeviceProcessEvents | where InitiatingProcessFileName =~ 'excel.exe' and FileName =~ 'cmd.exe'", "period": "15m", "severity": "low"}"#).unwrap();
    let out = rules(&["add", file.to_str().unwrap()], data, "contoso");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ids(&rules(&["list"], data, "contoso")).contains(&"zz-cmd".to_string()));
    // a query that does not bind is refused, and nothing is stored
    std::fs::write(
        &file,
        r#"{"id": "bad", "name": "x", "query": "NoSuchTable | take 1"}"#,
    )
    .unwrap();
    let out = rules(&["add", file.to_str().unwrap()], data, "contoso");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid KQL"));
    assert!(!ids(&rules(&["list"], data, "contoso")).contains(&"bad".to_string()));

    assert!(
        rules(&["delete", "zz-cmd"], data, "contoso")
            .status
            .success()
    );
    assert_eq!(
        rules(&["delete", "zz-cmd"], data, "contoso").status.code(),
        Some(2)
    );
    assert_eq!(ids(&rules(&["list"], data, "contoso")).len(), 6);
}
