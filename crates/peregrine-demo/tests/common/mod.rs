//! Helpers shared by the demo's integration tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use kql_engine::QueryOptions;
use peregrine_store::{Store, StoreConfig};

pub fn open(dir: &Path) -> Arc<Store> {
    let catalog: Arc<dyn kql_sema::Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
    Arc::new(Store::open(dir, catalog, StoreConfig::default()).unwrap())
}

/// The current time rounded down to the minute: both runs of a test use the same instant,
/// and the data stays inside the store's query window (which follows the wall clock).
pub fn now() -> i64 {
    let t = chrono::Utc::now().timestamp_nanos_opt().unwrap();
    t - t.rem_euclid(60_000_000_000)
}

pub async fn rows(store: &Arc<Store>, query: &str) -> Vec<Vec<String>> {
    let result = store
        .engine("default")
        .run(query, &QueryOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{query}: {e:?}"));
    kql_engine::format::result_rows_text(&result)
}

pub async fn count(store: &Arc<Store>, query: &str) -> u64 {
    let r = rows(store, &format!("{query} | count")).await;
    r[0][0].parse().unwrap()
}
