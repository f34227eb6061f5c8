//! App registrations and the token-signing key, kept in the data directory:
//!
//! ```text
//! DIR/_auth/apps.json         {"apps":[{tenantId, clientId, name, roles, secretSalt, secretHash, created}]}
//! DIR/_auth/apps.lock         held while apps.json is rewritten
//! DIR/_auth/signing-key.pem   the ES256 (P-256) private key, PKCS#8 PEM, made on first use
//! ```
//!
//! A client secret is shown once, when the app is created; only a salted SHA-256 of it is
//! stored (secrets are 240 random bits, so a slow password hash would add nothing). Both
//! files are written to a temporary file and renamed into place, readable by the owner only.
//! The server reads `apps.json` on every token request, so `peregrine app create` takes
//! effect without a restart.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

/// One registered application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRegistration {
    pub tenant_id: String,
    pub client_id: String,
    pub name: String,
    pub roles: Vec<String>,
    secret_salt: String,
    secret_hash: String,
    pub created: String,
}

impl AppRegistration {
    /// Whether `secret` is this app's secret (compared in constant time).
    pub fn secret_matches(&self, secret: &str) -> bool {
        let Ok(salt) = hex::decode(&self.secret_salt) else {
            return false;
        };
        let Ok(expected) = hex::decode(&self.secret_hash) else {
            return false;
        };
        let actual = secret_hash(&salt, secret);
        expected.len() == actual.len()
            && expected
                .iter()
                .zip(actual.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// What `app create` hands out, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewApp {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct AppsFile {
    apps: Vec<AppRegistration>,
}

fn secret_hash(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.as_bytes());
    h.finalize().to_vec()
}

/// The `_auth` directory of a data directory.
#[derive(Debug, Clone)]
pub struct AuthDir {
    dir: PathBuf,
}

impl AuthDir {
    pub fn new(data: &Path) -> AuthDir {
        AuthDir {
            dir: data.join("_auth"),
        }
    }

    fn apps_path(&self) -> PathBuf {
        self.dir.join("apps.json")
    }

    /// Registers an app of `tenant` with `roles`; returns its id and secret (shown once).
    pub fn create_app(&self, tenant: &str, name: &str, roles: &[String]) -> Result<NewApp, String> {
        if !peregrine_store::valid_tenant(tenant) {
            return Err(format!(
                "'{tenant}' is not a valid tenant id (1 to 64 letters, digits, '-', '_', '.')"
            ));
        }
        let roles: Vec<String> = roles
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect();
        if let Some(bad) = roles
            .iter()
            .find(|r| !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        {
            return Err(format!(
                "'{bad}' is not a role name (such as AdvancedHunting.Read.All)"
            ));
        }
        fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("apps.lock"))
            .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        lock.lock().map_err(|e| format!("apps.lock: {e}"))?;
        let mut file = self.read_apps()?;
        let secret_bytes: [u8; 30] = rand::random();
        let client_secret = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            secret_bytes,
        );
        let salt: [u8; 16] = rand::random();
        let app = AppRegistration {
            tenant_id: tenant.to_string(),
            client_id: crate::error::new_guid(),
            name: name.to_string(),
            roles,
            secret_salt: hex::encode(salt),
            secret_hash: hex::encode(secret_hash(&salt, &client_secret)),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let created = NewApp {
            tenant_id: app.tenant_id.clone(),
            client_id: app.client_id.clone(),
            client_secret,
        };
        file.apps.push(app);
        let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
        write_private(&self.apps_path(), text.as_bytes())?;
        Ok(created)
    }

    fn read_apps(&self) -> Result<AppsFile, String> {
        let path = self.apps_path();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AppsFile::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The app `client_id` of `tenant`, if registered.
    pub fn find_app(
        &self,
        tenant: &str,
        client_id: &str,
    ) -> Result<Option<AppRegistration>, String> {
        Ok(self
            .read_apps()?
            .apps
            .into_iter()
            .find(|a| a.tenant_id == tenant && a.client_id == client_id))
    }

    /// The signing key, made and stored on first use.
    pub fn signing_key(&self) -> Result<p256::SecretKey, String> {
        use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
        let path = self.dir.join("signing-key.pem");
        match fs::read_to_string(&path) {
            Ok(pem) => {
                return p256::SecretKey::from_pkcs8_pem(&pem)
                    .map_err(|e| format!("{}: {e}", path.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let key = loop {
            // A random scalar is valid unless it is zero or not below the group order.
            let bytes: [u8; 32] = rand::random();
            if let Ok(k) = p256::SecretKey::from_slice(&bytes) {
                break k;
            }
        };
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the signing key: {e}"))?;
        write_private(&path, pem.as_bytes())?;
        Ok(key)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, readable by the owner
/// only (on Unix).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_find_and_check_secret() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let auth = AuthDir::new(dir.path());
        let roles = vec!["AdvancedHunting.Read.All".to_string(), " ".to_string()];
        let app = auth.create_app("contoso", "notebook", &roles)?;
        assert_eq!(app.client_secret.len(), 40);
        let found = auth
            .find_app("contoso", &app.client_id)?
            .ok_or("not found")?;
        assert_eq!(found.roles, vec!["AdvancedHunting.Read.All"]);
        assert!(found.secret_matches(&app.client_secret));
        assert!(!found.secret_matches("wrong"));
        assert!(auth.find_app("other", &app.client_id)?.is_none());
        // the secret itself is not stored
        let text =
            fs::read_to_string(dir.path().join("_auth/apps.json")).map_err(|e| e.to_string())?;
        assert!(!text.contains(&app.client_secret));
        assert!(auth.create_app("../x", "n", &[]).is_err());
        assert!(auth.create_app("t", "n", &["a b".to_string()]).is_err());
        Ok(())
    }

    #[test]
    fn signing_key_is_kept() -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let auth = AuthDir::new(dir.path());
        let a = auth.signing_key()?;
        let b = auth.signing_key()?;
        assert_eq!(a.to_bytes(), b.to_bytes());
        Ok(())
    }
}
