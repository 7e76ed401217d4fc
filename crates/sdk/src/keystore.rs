//! Named ed25519 keys in a directory: one JSON file per key,
//! `{name, public_key, secret_key, dev}`, readable by its owner only (mode 0600, the
//! directory 0700).
//!
//! The secret is the hex of the key's canonical encoding (its 32-byte seed). Keys marked
//! `dev` are the demo world's development keys, derived from published seeds: anyone can
//! sign with them, so they must never guard real value.

use commonware_codec::{DecodeExt as _, Encode as _};
use commonware_cryptography::Signer as _;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tally_types::{PrivateKey, PublicKey};

/// Longest key name.
pub const MAX_NAME_LEN: usize = 64;
/// Environment variable naming Tally's home directory (keys live in `keys/` under it).
pub const HOME_ENV: &str = "TALLY_HOME";
/// Largest key file read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Why the key store failed.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// A name is empty, too long or has characters other than `a-z 0-9 _ -`.
    #[error("invalid key name {0:?}: use 1 to 64 of a-z, 0-9, '_' and '-'")]
    InvalidName(String),
    /// A key with this name exists (and differs, for dev keys).
    #[error("a key named {0:?} already exists")]
    Exists(String),
    /// No key with this name.
    #[error("no key named {name:?} in {dir}")]
    NotFound {
        /// The name.
        name: String,
        /// The key directory.
        dir: String,
    },
    /// A secret is not hex of a 32-byte ed25519 key.
    #[error("the secret key must be 64 hex characters (a 32-byte ed25519 key)")]
    BadSecret,
    /// A key file is unreadable or inconsistent.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// Neither a directory nor `$TALLY_HOME` nor `$HOME` is set.
    #[error("no key directory: pass one, or set TALLY_HOME or HOME")]
    NoHome,
    /// No OS randomness for a new key.
    #[error("no OS randomness")]
    Randomness,
}

/// A key file's contents.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// The key's name (its file is `<name>.json`).
    pub name: String,
    /// Ed25519 public key (hex).
    pub public_key: String,
    /// Ed25519 private key (hex of its 32-byte encoding).
    pub secret_key: String,
    /// A development key from a published seed: never for real value.
    #[serde(default)]
    pub dev: bool,
}

/// A key loaded from the store.
#[derive(Clone, Debug)]
pub struct StoredKey {
    /// Its name.
    pub name: String,
    /// The public key.
    pub public_key: PublicKey,
    /// Whether it is a development key.
    pub dev: bool,
    secret: PrivateKey,
}

impl StoredKey {
    /// The signing key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.secret
    }

    /// The public key as hex.
    pub fn public_hex(&self) -> String {
        crate::to_hex(self.public_key.as_ref())
    }
}

/// A key directory.
#[derive(Clone, Debug)]
pub struct KeyStore {
    dir: PathBuf,
}

/// Checks a key name: 1 to 64 of `a-z 0-9 _ -`.
pub fn validate_name(name: &str) -> Result<(), KeystoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::InvalidName(name.to_string()))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeystoreError + '_ {
    move |source| KeystoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Parses a secret key from hex.
pub fn parse_secret(hex: &str) -> Result<PrivateKey, KeystoreError> {
    let bytes = crate::from_hex(hex.trim()).ok_or(KeystoreError::BadSecret)?;
    if bytes.len() != 32 {
        return Err(KeystoreError::BadSecret);
    }
    PrivateKey::decode(commonware_codec::Copying(bytes.as_slice()))
        .map_err(|_| KeystoreError::BadSecret)
}

impl KeyStore {
    /// The store in `dir` (created on the first write).
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default directory: `$TALLY_HOME/keys`, else `~/.tally/keys`.
    pub fn default_dir() -> Result<PathBuf, KeystoreError> {
        if let Some(home) = std::env::var_os(HOME_ENV).filter(|h| !h.is_empty()) {
            return Ok(PathBuf::from(home).join("keys"));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".tally").join("keys"))
            .ok_or(KeystoreError::NoHome)
    }

    /// The store in the default directory.
    pub fn open_default() -> Result<Self, KeystoreError> {
        Self::default_dir().map(Self::open)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn ensure_dir(&self) -> Result<(), KeystoreError> {
        if self.dir.is_dir() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(io(&self.dir))
    }

    /// Writes a new key file (never replaces one).
    fn write(&self, name: &str, key: &PrivateKey, dev: bool) -> Result<StoredKey, KeystoreError> {
        validate_name(name)?;
        self.ensure_dir()?;
        let public_key = key.public_key();
        let file = KeyFile {
            name: name.to_string(),
            public_key: crate::to_hex(public_key.as_ref()),
            secret_key: crate::to_hex(&key.encode()),
            dev,
        };
        let json = serde_json::to_string_pretty(&file).map_err(|e| KeystoreError::BadFile {
            path: name.to_string(),
            reason: e.to_string(),
        })?;
        let path = self.path(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeystoreError::Exists(name.to_string())
            } else {
                io(&path)(e)
            }
        })?;
        f.write_all(json.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(io(&path))?;
        Ok(StoredKey {
            name: name.to_string(),
            public_key,
            dev,
            secret: key.clone(),
        })
    }

    /// Creates a key from OS randomness.
    pub fn new_key(&self, name: &str) -> Result<StoredKey, KeystoreError> {
        validate_name(name)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| KeystoreError::Randomness)?;
        let key = PrivateKey::decode(commonware_codec::Copying(seed.as_slice()))
            .map_err(|_| KeystoreError::Randomness)?;
        self.write(name, &key, false)
    }

    /// Stores an existing secret key (hex).
    pub fn import(&self, name: &str, secret_hex: &str) -> Result<StoredKey, KeystoreError> {
        validate_name(name)?;
        let key = parse_secret(secret_hex)?;
        self.write(name, &key, false)
    }

    /// The secret key (hex) of a stored key.
    pub fn export(&self, name: &str) -> Result<String, KeystoreError> {
        Ok(crate::to_hex(&self.get(name)?.secret.encode()))
    }

    /// Loads a key, checking that its public key matches its secret.
    pub fn get(&self, name: &str) -> Result<StoredKey, KeystoreError> {
        validate_name(name)?;
        let path = self.path(name);
        if !path.exists() {
            return Err(KeystoreError::NotFound {
                name: name.to_string(),
                dir: self.dir.display().to_string(),
            });
        }
        self.load(&path)
    }

    fn load(&self, path: &Path) -> Result<StoredKey, KeystoreError> {
        let bad = |reason: String| KeystoreError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(io(path))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(bad("too large for a key file".into()));
        }
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        validate_name(&file.name)?;
        let secret = parse_secret(&file.secret_key).map_err(|e| bad(e.to_string()))?;
        let public_key = secret.public_key();
        if !crate::to_hex(public_key.as_ref()).eq_ignore_ascii_case(file.public_key.trim()) {
            return Err(bad("public_key does not match secret_key".into()));
        }
        Ok(StoredKey {
            name: file.name,
            public_key,
            dev: file.dev,
            secret,
        })
    }

    /// Every key, by name. A missing directory is an empty store.
    pub fn list(&self) -> Result<Vec<StoredKey>, KeystoreError> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = entry.map_err(io(&self.dir))?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if validate_name(name).is_err() {
                continue;
            }
            out.push(self.load(&path)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// Writes the demo members' development keys (`central-bank`, `treasury`, `dealer-a`,
/// …) into the store in `dir`, marked `dev`. Keys already there with the same secret are
/// kept; a different key under a member's name is an error (it is never overwritten).
pub fn install_dev_keys(dir: &Path) -> Result<Vec<StoredKey>, KeystoreError> {
    let store = KeyStore::open(dir);
    let mut out = Vec::new();
    for m in tally_ledger::demo::MEMBERS {
        let key = m.key();
        match store.get(m.name) {
            Ok(existing) if existing.public_key == key.public_key() => out.push(existing),
            Ok(_) => return Err(KeystoreError::Exists(m.name.to_string())),
            Err(KeystoreError::NotFound { .. }) => out.push(store.write(m.name, &key, true)?),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let mut seed = [0u8; 8];
        getrandom::fill(&mut seed).unwrap();
        std::env::temp_dir().join(format!("tally-keystore-{tag}-{}", u64::from_le_bytes(seed)))
    }

    #[test]
    fn names_are_validated() {
        for ok in ["a", "dealer-a", "k_1", &"x".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Dealer", "a/b", "../x", "a.b", "a b", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_round_trip_and_are_private() {
        let dir = temp_dir("rt");
        let store = KeyStore::open(&dir);
        let k = store.new_key("alice").unwrap();
        assert!(!k.dev);
        assert!(matches!(
            store.new_key("alice"),
            Err(KeystoreError::Exists(_))
        ));
        let secret = store.export("alice").unwrap();
        let again = store.get("alice").unwrap();
        assert_eq!(again.public_key, k.public_key);
        let imported = store.import("bob", &secret).unwrap();
        assert_eq!(imported.public_key, k.public_key);
        assert!(store.import("carol", "zz").is_err());
        assert!(matches!(
            store.get("dave"),
            Err(KeystoreError::NotFound { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("alice.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<String> = store.list().unwrap().into_iter().map(|k| k.name).collect();
        assert_eq!(names, ["alice", "bob"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dev_keys_install_once_and_are_marked() {
        let dir = temp_dir("dev");
        let first = install_dev_keys(&dir).unwrap();
        assert_eq!(first.len(), tally_ledger::demo::MEMBERS.len());
        assert!(first.iter().all(|k| k.dev));
        // Idempotent.
        install_dev_keys(&dir).unwrap();
        let dealer = KeyStore::open(&dir).get("dealer-a").unwrap();
        assert_eq!(
            dealer.public_key,
            tally_ledger::demo::member("dealer-a").key().public_key()
        );
        std::fs::remove_dir_all(&dir).unwrap();
        // A different key under a member's name is never overwritten.
        let store = KeyStore::open(&dir);
        store.new_key("treasury").unwrap();
        assert!(matches!(
            install_dev_keys(&dir),
            Err(KeystoreError::Exists(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
