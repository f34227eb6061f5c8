//! Generates a demo tenant and reports the throughput.
//!
//! `cargo run --release -p peregrine-demo --example generate -- DIR [DEVICES] [DAYS] [SEED]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use peregrine_demo::{DemoOptions, generate};
use peregrine_store::{Store, StoreConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("usage: generate DIR [DEVICES] [DAYS] [SEED]");
        std::process::exit(2);
    };
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(d);
    let opts = DemoOptions {
        devices: num(1, 50) as usize,
        days: num(2, 7) as i64,
        seed: num(3, 1),
        ..DemoOptions::default()
    };
    let catalog: Arc<dyn kql_sema::Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
    let store = match Store::open(&dir, catalog, StoreConfig::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let mut last = Instant::now();
    let result = generate(&store, "default", &opts, |p| {
        if last.elapsed().as_secs_f64() >= 5.0 {
            last = Instant::now();
            eprintln!(
                "[{:>6.1}s] {} {}/{}",
                start.elapsed().as_secs_f64(),
                p.table,
                p.rows_done,
                p.rows_total
            );
        }
    });
    let secs = start.elapsed().as_secs_f64();
    match result {
        Ok(report) => {
            let total: u64 = report.rows.values().sum();
            for (t, n) in &report.rows {
                println!("{t:<28} {n:>12}");
            }
            println!("{:<28} {total:>12}", "total");
            println!(
                "{secs:.1} s, {:.0} rows/s ({} devices, {} days)",
                total as f64 / secs,
                opts.devices,
                opts.days
            );
            for s in &report.stories {
                println!("story: {s}");
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
