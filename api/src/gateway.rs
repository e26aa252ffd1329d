//! The gateway canister's install argument.

use candid::{CandidType, Principal};
use serde::{Deserialize, Serialize};

/// The gateway's install argument; an absent argument is all defaults.
#[derive(CandidType, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct GatewayInit {
    /// The directory whose shares `/s/<id>` resolves. Absent: the one
    /// icp-cli deployed beside the gateway, from the canister environment
    /// variable `PUBLIC_CANISTER_ID:directory`; the install fails if
    /// neither names one.
    #[serde(default)]
    pub directory: Option<Principal>,
    /// Only on a local network (devnet): its HTTP origin,
    /// `http://localhost:<port>` or `http://127.0.0.1:<port>`. The web app
    /// then trusts that network's root key and offers a local-only sign-in,
    /// and its CSP allows that origin and its `*.localhost` canister hosts
    /// instead of mainnet's. Absent on mainnet.
    #[serde(default)]
    pub local_network: Option<String>,
}

/// The port of a local network origin in one of the two accepted forms;
/// `None` for anything else (no path, no other host, no https).
pub fn local_network_port(origin: &str) -> Option<u16> {
    let rest = origin.strip_prefix("http://localhost:").or_else(|| origin.strip_prefix("http://127.0.0.1:"))?;
    if rest.is_empty() || rest.len() > 5 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|p| *p != 0)
}

/// Where share links live on the gateway: `/s/<share-id>` (the page) and
/// `/s/<share-id>/raw` (a redirect to the file itself).
pub const SHARE_PATH_PREFIX: &str = "/s/";
pub const RAW_SUFFIX: &str = "/raw";

#[cfg(test)]
mod tests {
    use super::local_network_port;

    #[test]
    fn only_plain_local_origins_are_local_networks() {
        assert_eq!(local_network_port("http://localhost:4943"), Some(4943));
        assert_eq!(local_network_port("http://127.0.0.1:65535"), Some(65535));
        for bad in [
            "http://localhost",
            "http://localhost:",
            "http://localhost:0",
            "http://localhost:65536",
            "http://localhost:4943/",
            "http://localhost:+80",
            "https://localhost:4943",
            "http://evil.com:4943",
            "http://localhost.evil.com:4943",
            "http://localhost:4943 'unsafe-inline'",
        ] {
            assert_eq!(local_network_port(bad), None, "{bad}");
        }
    }
}
