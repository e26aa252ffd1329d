//! The caller's identity: a PEM file compatible with dfx and icp-cli
//! identities (Ed25519, secp256k1 or P-256), or a key generated once and kept
//! under the user's config directory.

use anyhow::{Context, Result, bail};
use ed25519_dalek::pkcs8::{EncodePrivateKey, spki::der::pem::LineEnding};
use ic_agent::Identity;
use ic_agent::identity::{BasicIdentity, Prime256v1Identity, Secp256k1Identity};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Loads any PEM key dfx or icp-cli writes.
pub fn from_pem_file(path: &Path) -> Result<Arc<dyn Identity>> {
    let pem = std::fs::read(path).with_context(|| format!("reading identity {}", path.display()))?;
    if let Ok(id) = BasicIdentity::from_pem(&pem) {
        return Ok(Arc::new(id));
    }
    if let Ok(id) = Secp256k1Identity::from_pem(&pem) {
        return Ok(Arc::new(id));
    }
    if let Ok(id) = Prime256v1Identity::from_pem(&pem) {
        return Ok(Arc::new(id));
    }
    bail!("{} is not an Ed25519, secp256k1 or P-256 private key in PEM form", path.display())
}

pub fn default_identity_path(config_dir: &Path) -> PathBuf {
    config_dir.join("identity.pem")
}

/// The default identity: created with fresh randomness on first use.
pub fn load_or_create_default(config_dir: &Path) -> Result<Arc<dyn Identity>> {
    let path = default_identity_path(config_dir);
    if !path.exists() {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness for a new key: {e}"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let pem = key.to_pkcs8_pem(LineEnding::LF).context("encoding the new key")?;
        std::fs::create_dir_all(config_dir)?;
        write_private(&path, pem.as_bytes())?;
        eprintln!("created a new identity at {}", path.display());
    }
    from_pem_file(&path)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?
    };
    #[cfg(not(unix))]
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_is_reused_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_default(dir.path()).unwrap().sender().unwrap();
        let b = load_or_create_default(dir.path()).unwrap().sender().unwrap();
        assert_eq!(a, b);
        assert_ne!(a, candid::Principal::anonymous());
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pem");
        std::fs::write(&p, "not a key").unwrap();
        let e = from_pem_file(&p).err().unwrap().to_string();
        assert!(e.contains("not an Ed25519"), "{e}");
    }
}
