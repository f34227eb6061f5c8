//! Manual cross-checks against Microsoft's binder (Kusto.Language, run outside cargo).
//! `KQLF_DUMP=path cargo test -p kql-functions reference -- --ignored` writes the accepted
//! arities; `KQLF_REF=path ...` compares typing with a file of reference verdicts.

use super::*;
use crate::ArgType;

fn ty_of(name: &str) -> Option<KqlType> {
    KqlType::from_name(name)
}

#[test]
#[ignore]
fn dump_arities() {
    let Ok(path) = std::env::var("KQLF_DUMP") else {
        return;
    };
    let mut out = serde_json::Map::new();
    for (name, kind) in crate::implemented_functions() {
        let mut ok = Vec::new();
        for n in 0..7 {
            let args: Vec<ArgType> = (0..n)
                .map(|_| ArgType {
                    ty: K::Dynamic,
                    constant: None,
                })
                .collect();
            let r = match kind {
                crate::FnKind::Scalar => crate::scalar_type(name, &args),
                crate::FnKind::Aggregate => crate::aggregate_type(name, &args),
            };
            if !matches!(&r, Err(e) if e.code == kql_syntax::codes::WRONG_ARG_COUNT) {
                ok.push(serde_json::Value::from(n));
            }
        }
        out.insert(
            name.to_string(),
            serde_json::json!({"kind": if kind == crate::FnKind::Scalar {"scalar"} else {"aggregate"}, "arities": ok}),
        );
    }
    std::fs::write(path, serde_json::Value::Object(out).to_string()).unwrap();
}

#[test]
#[ignore]
fn compare_reference() {
    let Ok(path) = std::env::var("KQLF_REF") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let mut mismatches = 0;
    let mut total = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = v["name"].as_str().unwrap();
        let kind = v["kind"].as_str().unwrap();
        let types: Vec<KqlType> = v["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| ty_of(t.as_str().unwrap()).unwrap())
            .collect();
        let args: Vec<ArgType> = types
            .iter()
            .map(|t| ArgType {
                ty: *t,
                constant: None,
            })
            .collect();
        let mine = if kind == "scalar" {
            crate::scalar_type(name, &args)
        } else {
            crate::aggregate_type(name, &args)
        };
        let ref_ok = v["ok"].as_bool().unwrap();
        let ref_ty = v["type"].as_str().unwrap_or("");
        total += 1;
        let verdict = match (&mine, ref_ok) {
            (Ok(t), true) if t.name() == ref_ty => continue,
            (Ok(t), true) => format!("TYPE mine={} ref={ref_ty}", t.name()),
            (Err(e), true) => format!("REJECT mine={} ref={ref_ty}", e.message),
            (Ok(t), false) => format!("ACCEPT mine={}", t.name()),
            (Err(_), false) => continue,
        };
        mismatches += 1;
        println!(
            "{name}({}) {verdict}",
            types.iter().map(|t| t.name()).collect::<Vec<_>>().join(",")
        );
    }
    println!("{mismatches} mismatches of {total}");
}
