//! Developer tool: binds every query of a hunting-style JSONL file against the Defender
//! schema and prints a histogram of diagnostics (`cargo run -p kql-sema --example bind_corpus FILE`).

use kql_sema::{BindOptions, MemoryCatalog, bind};
use std::collections::BTreeMap;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bind_corpus FILE.jsonl [--show CODE]");
        std::process::exit(2);
    };
    let show = std::env::args().nth(3);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let cat = MemoryCatalog::defender();
    let mut hist: BTreeMap<String, usize> = BTreeMap::new();
    let (mut ok, mut total) = (0, 0);
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let reference_ok = v["reference"]["errors"]
            .as_array()
            .is_none_or(|e| e.is_empty());
        if !reference_ok {
            continue;
        }
        total += 1;
        let q = v["query"].as_str().unwrap_or_default();
        let parsed = kql_syntax::parse(q);
        let res = match parsed.diagnostics.first() {
            Some(d) => Err(d.clone()),
            None => bind(&parsed.script, &cat, BindOptions { now_nanos: 0 }).map(|_| ()),
        };
        match res {
            Ok(()) => ok += 1,
            Err(d) => {
                let key = format!(
                    "{} {}",
                    d.code,
                    d.message.chars().take(70).collect::<String>()
                );
                if show.as_deref().is_some_and(|s| key.contains(s)) {
                    println!("--- {}\n{q}", v["id"]);
                }
                *hist.entry(key).or_default() += 1;
            }
        }
    }
    let mut items: Vec<_> = hist.into_iter().collect();
    items.sort_by_key(|b| std::cmp::Reverse(b.1));
    for (k, n) in items.iter().take(60) {
        println!("{n:5} {k}");
    }
    println!("bound {ok} of {total}");
}
