//! Server settings: defaults, then a TOML file, then `PEREGRINE_*` environment variables,
//! then command-line flags (each overriding the one before).
//!
//! ```toml
//! data = "peregrine-data"          # PEREGRINE_DATA
//! listen = "127.0.0.1:8080"        # PEREGRINE_LISTEN
//! public_url = "http://127.0.0.1:8080"   # PEREGRINE_PUBLIC_URL (default: from the Host header)
//! token_lifetime_secs = 3599       # PEREGRINE_TOKEN_LIFETIME_SECS
//! max_rows = 100000                # PEREGRINE_MAX_ROWS
//! query_timeout_secs = 180         # PEREGRINE_QUERY_TIMEOUT_SECS
//! max_query_bytes = 100000         # PEREGRINE_MAX_QUERY_BYTES
//! hunting_calls_per_minute = 15    # PEREGRINE_HUNTING_CALLS_PER_MINUTE (0: no quota)
//! hunting_execution_secs_per_hour = 600    # PEREGRINE_HUNTING_EXECUTION_SECS_PER_HOUR (0: none)
//! hunting_execution_secs_per_day = 14400   # PEREGRINE_HUNTING_EXECUTION_SECS_PER_DAY (0: none)
//! max_result_bytes = 130023424     # PEREGRINE_MAX_RESULT_BYTES (124 MiB of response JSON)
//! query_threads = 2                # PEREGRINE_QUERY_THREADS (default: the CPUs)
//! max_ingest_bytes = 67108864      # PEREGRINE_MAX_INGEST_BYTES (64 MiB)
//! compact_interval_secs = 60       # PEREGRINE_COMPACT_INTERVAL_SECS (0: no background compaction)
//! # An external identity provider whose tokens are accepted too (see `auth::External`):
//! external_issuer = "https://login.example.com/{tid}/v2.0"   # PEREGRINE_EXTERNAL_ISSUER
//! external_audiences = ["api://peregrine"]  # PEREGRINE_EXTERNAL_AUDIENCES (comma-separated)
//! external_jwks = "/etc/peregrine/idp-jwks.json"   # PEREGRINE_EXTERNAL_JWKS (a file or an http:// URL)
//! incident_calls_per_minute = 50   # PEREGRINE_INCIDENT_CALLS_PER_MINUTE (0: no limit)
//! incident_calls_per_hour = 1500   # PEREGRINE_INCIDENT_CALLS_PER_HOUR (0: no limit)
//! correlation_window_secs = 86400  # PEREGRINE_CORRELATION_WINDOW_SECS
//! detection_interval_secs = 60     # PEREGRINE_DETECTION_INTERVAL_SECS (0: no scheduler)
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every setting of `peregrine serve`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The data directory (event store, app registrations, signing key).
    pub data: Option<PathBuf>,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The server's own base URL, as clients reach it (token issuer, discovery documents).
    /// Without it, the `Host` header of each request decides.
    pub public_url: Option<String>,
    /// Lifetime of issued access tokens.
    pub token_lifetime_secs: u64,
    /// Most rows a hunting query may return; a larger result is refused.
    pub max_rows: usize,
    /// A hunting query running longer is cancelled (seconds; fractions allowed).
    pub query_timeout_secs: f64,
    /// Longest accepted query text, in bytes.
    pub max_query_bytes: usize,
    /// Hunting calls admitted per tenant and minute (0: unlimited).
    pub hunting_calls_per_minute: u32,
    /// Measured query execution time a tenant may use per rolling hour, in seconds
    /// (fractions allowed; 0: no hourly budget).
    pub hunting_execution_secs_per_hour: f64,
    /// Measured query execution time a tenant may use per rolling day, in seconds
    /// (0: no daily budget).
    pub hunting_execution_secs_per_day: f64,
    /// Largest hunting response, in bytes of its JSON; a larger result is refused (400).
    pub max_result_bytes: u64,
    /// Threads of the query runtime (queries never run on the HTTP threads).
    pub query_threads: usize,
    /// Largest request body of the ingest routes, in bytes (a larger one is refused with
    /// 413 `RequestTooLarge` and nothing is stored). The body is held in memory while it is
    /// ingested, so this is smaller than `peregrine ingest`'s limit for files.
    pub max_ingest_bytes: u64,
    /// `serve` merges the small files ingests leave every this many seconds (0: never).
    pub compact_interval_secs: u64,
    /// The `iss` of an external identity provider whose tokens are accepted besides this
    /// server's own; `{tid}` in it stands for the token's `tid` claim.
    pub external_issuer: Option<String>,
    /// The audiences accepted in the external provider's tokens (default: the resources
    /// this server's own tokens may carry).
    #[serde(deserialize_with = "list_or_csv")]
    pub external_audiences: Vec<String>,
    /// The external provider's signing keys (a JWKS document): a file path or an
    /// `http://` URL.
    pub external_jwks: Option<String>,
    /// Incidents API calls (every incident and alert route) admitted per tenant and
    /// minute (0: unlimited).
    pub incident_calls_per_minute: u32,
    /// ... and per tenant and hour (0: unlimited).
    pub incident_calls_per_hour: u32,
    /// Alerts whose activity is at most this far apart correlate on a shared entity.
    pub correlation_window_secs: i64,
    /// `serve` runs the due detection rules and reads new `AlertInfo`/`AlertEvidence`
    /// rows every this many seconds (0: never).
    pub detection_interval_secs: u64,
}

/// A list, or (from the environment) one comma-separated string.
fn list_or_csv<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        OneOrMany::Many(v) => v,
    })
}

/// The default of [`ServerConfig::max_result_bytes`]: 124 MiB (the MDE API's documented
/// result limit of "124 MB").
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 124 << 20;

/// The default of [`ServerConfig::max_ingest_bytes`]: 64 MiB.
pub const DEFAULT_MAX_INGEST_BYTES: u64 = 64 << 20;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            token_lifetime_secs: 3599,
            max_rows: 100_000,
            query_timeout_secs: 180.0,
            max_query_bytes: 100_000,
            hunting_calls_per_minute: 15,
            hunting_execution_secs_per_hour: 600.0,
            hunting_execution_secs_per_day: 4.0 * 3600.0,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            query_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_ingest_bytes: DEFAULT_MAX_INGEST_BYTES,
            compact_interval_secs: 60,
            external_issuer: None,
            external_audiences: Vec::new(),
            external_jwks: None,
            incident_calls_per_minute: 50,
            incident_calls_per_hour: 1500,
            correlation_window_secs: 24 * 3600,
            detection_interval_secs: 60,
        }
    }
}

/// The settings' names, as keys of the file and (upper-cased, `PEREGRINE_` prefixed) of
/// the environment.
const KEYS: &[&str] = &[
    "data",
    "listen",
    "public_url",
    "token_lifetime_secs",
    "max_rows",
    "query_timeout_secs",
    "max_query_bytes",
    "hunting_calls_per_minute",
    "hunting_execution_secs_per_hour",
    "hunting_execution_secs_per_day",
    "max_result_bytes",
    "query_threads",
    "max_ingest_bytes",
    "compact_interval_secs",
    "external_issuer",
    "external_audiences",
    "external_jwks",
    "incident_calls_per_minute",
    "incident_calls_per_hour",
    "correlation_window_secs",
    "detection_interval_secs",
];

impl ServerConfig {
    /// Defaults, overridden by the TOML `file` (if any), overridden by the `PEREGRINE_*`
    /// variables among `env`. Other variables are ignored; an unknown key in the file or a
    /// value of the wrong type is an error naming it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ServerConfig, String> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str::<toml::Table>(&text)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            let Some(key) = name.strip_prefix("PEREGRINE_").map(str::to_ascii_lowercase) else {
                continue;
            };
            if !KEYS.contains(&key.as_str()) {
                continue;
            }
            table.insert(key, env_value(&value));
        }
        toml::Value::Table(table)
            .try_into::<ServerConfig>()
            .map_err(|e| {
                let e = e.to_string();
                format!("configuration: {}", e.trim())
            })
    }
}

/// An environment value as TOML: a number or boolean when it reads as one, else a string.
fn env_value(text: &str) -> toml::Value {
    if let Ok(n) = text.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    if let Ok(f) = text.parse::<f64>() {
        return toml::Value::Float(f);
    }
    if let Ok(b) = text.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    toml::Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = ServerConfig::load(None, env(&[("HOME", "/x"), ("PEREGRINE_SHARED", "y")]))
            .unwrap_or_default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.max_rows, 100_000);
        assert_eq!(c.hunting_calls_per_minute, 15);
        assert_eq!(c.max_ingest_bytes, DEFAULT_MAX_INGEST_BYTES);
        assert_eq!(c.hunting_execution_secs_per_hour, 600.0);
        assert_eq!(c.hunting_execution_secs_per_day, 14_400.0);
        assert_eq!(c.max_result_bytes, 124 * 1024 * 1024);
        assert_eq!(c.external_issuer, None);
    }

    #[test]
    fn external_issuer_from_file_and_environment() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "external_issuer = \"https://idp/{tid}/\"\nexternal_audiences = [\"api://a\", \"api://b\"]\nexternal_jwks = \"/k.json\"\nhunting_execution_secs_per_hour = 0.25\n",
        )
        .map_err(|e| e.to_string())?;
        let c = ServerConfig::load(Some(&path), env(&[]))?;
        assert_eq!(c.external_issuer.as_deref(), Some("https://idp/{tid}/"));
        assert_eq!(c.external_audiences, ["api://a", "api://b"]);
        assert_eq!(c.external_jwks.as_deref(), Some("/k.json"));
        assert_eq!(c.hunting_execution_secs_per_hour, 0.25);
        let c = ServerConfig::load(
            Some(&path),
            env(&[
                ("PEREGRINE_EXTERNAL_AUDIENCES", "api://x, api://y"),
                ("PEREGRINE_HUNTING_EXECUTION_SECS_PER_DAY", "60"),
                ("PEREGRINE_MAX_RESULT_BYTES", "1000"),
            ]),
        )?;
        assert_eq!(c.external_audiences, ["api://x", "api://y"]);
        assert_eq!(c.hunting_execution_secs_per_day, 60.0);
        assert_eq!(c.max_result_bytes, 1000);
        Ok(())
    }

    #[test]
    fn file_then_environment() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("peregrine.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\nmax_rows = 10\ndata = \"/srv/data\"\n",
        )
        .map_err(|e| e.to_string())?;
        let c = ServerConfig::load(
            Some(&path),
            env(&[
                ("PEREGRINE_MAX_ROWS", "20"),
                ("PEREGRINE_PUBLIC_URL", "http://h:1"),
                ("PEREGRINE_MAX_INGEST_BYTES", "1000"),
            ]),
        )?;
        assert_eq!(c.max_ingest_bytes, 1000);
        assert_eq!(c.compact_interval_secs, 60);
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.max_rows, 20);
        assert_eq!(c.data, Some(PathBuf::from("/srv/data")));
        assert_eq!(c.public_url.as_deref(), Some("http://h:1"));
        Ok(())
    }

    #[test]
    fn errors_name_the_setting() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"x\"\n").map_err(|e| e.to_string())?;
        let e = ServerConfig::load(Some(&path), env(&[]))
            .err()
            .unwrap_or_default();
        assert!(e.contains("lisen"), "{e}");
        let e = ServerConfig::load(None, env(&[("PEREGRINE_MAX_ROWS", "many")]))
            .err()
            .unwrap_or_default();
        assert!(e.contains("max_rows") || e.contains("invalid type"), "{e}");
        Ok(())
    }
}
