//! Where the directory is: `--network local|ic|URL` plus its canister id.

use anyhow::{Context, Result, bail};
use candid::Principal;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const LOCAL_URL: &str = "http://127.0.0.1:4943";
pub const MAINNET_URL: &str = "https://icp-api.io";

/// What `scripts/start.sh` writes so the CLI finds a local deployment.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub url: String,
    pub directory: String,
    #[serde(default)]
    pub buckets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Network {
    pub url: String,
    /// Mainnet's root key is built into the agent; any other network's is fetched.
    pub is_mainnet: bool,
    pub directory: Principal,
}

pub fn config_dir() -> Result<PathBuf> {
    if let Ok(d) = std::env::var("DEPOT_CONFIG_DIR") {
        return Ok(PathBuf::from(d));
    }
    Ok(dirs::config_dir().context("no config directory on this system; set DEPOT_CONFIG_DIR")?.join("depot"))
}

pub fn deployment_file(config_dir: &Path, network: &str) -> PathBuf {
    let safe: String = network.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    config_dir.join("networks").join(format!("{safe}.json"))
}

pub fn resolve(config_dir: &Path, network: &str, directory: Option<&str>) -> Result<Network> {
    let (url, is_mainnet) = match network {
        "local" => (LOCAL_URL.to_string(), false),
        "ic" => (MAINNET_URL.to_string(), true),
        u if u.starts_with("http://") || u.starts_with("https://") => (u.trim_end_matches('/').to_string(), false),
        other => bail!("unknown network {other:?}: use local, ic or a URL"),
    };
    let saved = std::fs::read(deployment_file(config_dir, network))
        .ok()
        .and_then(|b| serde_json::from_slice::<Deployment>(&b).ok());
    let url = saved.as_ref().filter(|_| network == "local").map(|d| d.url.clone()).unwrap_or(url);
    let directory = match (directory, &saved) {
        (Some(d), _) => d.to_string(),
        (None, Some(s)) => s.directory.clone(),
        (None, None) => bail!(
            "no directory canister for network {network:?}: pass --directory ID, set DEPOT_DIRECTORY, or run scripts/start.sh"
        ),
    };
    let directory = Principal::from_text(&directory).with_context(|| format!("bad directory id {directory:?}"))?;
    Ok(Network { url, is_mainnet, directory })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_flags_and_saved_deployments() {
        let dir = tempfile::tempdir().unwrap();
        assert!(resolve(dir.path(), "local", None).is_err());
        let n = resolve(dir.path(), "ic", Some("aaaaa-aa")).unwrap();
        assert!(n.is_mainnet && n.url == MAINNET_URL);
        assert!(resolve(dir.path(), "mars", Some("aaaaa-aa")).is_err());
        assert!(resolve(dir.path(), "ic", Some("not a principal")).is_err());
        let f = deployment_file(dir.path(), "local");
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        let d = Deployment { url: "http://127.0.0.1:9999".into(), directory: "aaaaa-aa".into(), buckets: vec![] };
        std::fs::write(&f, serde_json::to_vec(&d).unwrap()).unwrap();
        let n = resolve(dir.path(), "local", None).unwrap();
        assert_eq!((n.url.as_str(), n.directory), ("http://127.0.0.1:9999", Principal::management_canister()));
    }
}
