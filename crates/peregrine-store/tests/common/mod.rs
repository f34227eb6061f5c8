//! Helpers shared by the store's integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use kql_engine::QueryOptions;
use peregrine_store::{Store, StoreConfig};

/// A store over the Defender schema with the default configuration.
pub fn open(dir: &Path) -> Arc<Store> {
    let catalog: Arc<dyn kql_sema::Catalog> = Arc::new(kql_sema::MemoryCatalog::defender());
    Arc::new(Store::open(dir, catalog, StoreConfig::default()).unwrap())
}

/// The rows of `query` over the store's default tenant, each cell as Arrow displays it.
pub async fn rows(store: &Arc<Store>, query: &str) -> Vec<Vec<String>> {
    let result = store
        .engine("default")
        .run(query, &QueryOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{query}: {e:?}"));
    kql_engine::format::result_rows_text(&result)
}

/// `query`'s optimized logical and physical plans over the store's default tenant.
pub async fn explain(store: &Arc<Store>, query: &str) -> String {
    store
        .engine("default")
        .explain(query)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e:?}"))
}
