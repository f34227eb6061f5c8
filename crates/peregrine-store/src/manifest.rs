//! The manifest of a day partition: which of its Parquet files are live.
//!
//! `date=YYYY-MM-DD/_manifest.json` is `{"files":[...],"retired":[{"file","at"}]}`. Readers
//! read only the live files, so a compaction that writes a merged file and retires the
//! files it replaces switches every later query over at once (the manifest is replaced by
//! an atomic rename): no query sees both, or neither. Retired files stay on disk for a
//! grace period, so queries planned before the switch can finish reading them.
//!
//! A partition without a manifest (written before manifests existed, or copied in by
//! hand) is every `*.parquet` file in it.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::IngestError;

pub(crate) const MANIFEST: &str = "_manifest.json";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Live file names (in the partition directory), in the order they were added.
    pub files: Vec<String>,
    /// Files replaced by a compaction, deleted once their grace period has passed.
    #[serde(default)]
    pub retired: Vec<Retired>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Retired {
    pub file: String,
    /// When the file was retired (nanoseconds since the Unix epoch).
    pub at: i64,
}

impl Manifest {
    /// The partition's manifest, or (without one) its `*.parquet` files by name.
    pub fn read(partition: &Path) -> Result<Manifest, IngestError> {
        let path = partition.join(MANIFEST);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| IngestError::internal(format!("manifest {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut files = Vec::new();
                if partition.is_dir() {
                    for entry in fs::read_dir(partition)? {
                        let entry = entry?;
                        if let Some(name) = entry.file_name().to_str()
                            && name.ends_with(".parquet")
                        {
                            files.push(name.to_string());
                        }
                    }
                }
                files.sort();
                Ok(Manifest {
                    files,
                    retired: Vec::new(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces the partition's manifest durably (temporary file, fsync, rename, fsync of
    /// the directory).
    pub fn write(&self, partition: &Path) -> Result<(), IngestError> {
        let bytes = serde_json::to_vec(self).map_err(|e| IngestError::internal(e.to_string()))?;
        let tmp = partition.join(format!("{MANIFEST}.tmp"));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, partition.join(MANIFEST))?;
        File::open(partition)?.sync_all()?;
        Ok(())
    }

    /// The live files' paths.
    pub fn live_paths(&self, partition: &Path) -> Vec<PathBuf> {
        self.files.iter().map(|f| partition.join(f)).collect()
    }

    /// Adds files (already in the directory) to the live set; adding one twice is a no-op.
    pub fn add(&mut self, names: &[String]) {
        for n in names {
            if !self.files.contains(n) {
                self.files.push(n.clone());
            }
        }
    }

    /// Retires `old` (when live) and adds `new`: the switch of a compaction. Idempotent.
    pub fn replace(&mut self, old: &[String], new: &[String], now: i64) {
        for o in old {
            if let Some(i) = self.files.iter().position(|f| f == o) {
                self.files.remove(i);
                self.retired.push(Retired {
                    file: o.clone(),
                    at: now,
                });
            }
        }
        self.add(new);
    }
}
