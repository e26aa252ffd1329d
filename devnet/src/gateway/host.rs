//! Which canister a browser request is for.

use candid::Principal;

/// A request routed to a canister's `http_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayTarget {
    pub canister_id: Principal,
    /// `<id>.raw.localhost`: no response verification.
    pub raw: bool,
}

/// Why a request cannot be routed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostError {
    #[error("`{0}` is not a canister id")]
    BadCanisterId(String),
    #[error(
        "no canister named: use http://<canister-id>.localhost:<port>/ or http://localhost:<port>/?canisterId=<canister-id>"
    )]
    NoCanister,
}

/// Reads the canister from the Host (`<id>.localhost`, `<id>.raw.localhost`)
/// or, for a bare host, from the `canisterId` query parameter.
pub fn target_of(host: Option<&str>, query: Option<&str>) -> Result<GatewayTarget, HostError> {
    let hostname = host.map(strip_port).unwrap_or_default().to_ascii_lowercase();
    let labels: Vec<&str> = hostname.split('.').collect();
    if let [id, rest @ ..] = labels.as_slice()
        && !rest.is_empty()
        && rest.last() == Some(&"localhost")
    {
        let raw = rest.first() == Some(&"raw");
        let canister_id = Principal::from_text(id).map_err(|_| HostError::BadCanisterId(id.to_string()))?;
        return Ok(GatewayTarget { canister_id, raw });
    }
    let id = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "canisterId")
        .map(|(_, v)| v)
        .ok_or(HostError::NoCanister)?;
    let canister_id = Principal::from_text(id).map_err(|_| HostError::BadCanisterId(id.to_string()))?;
    Ok(GatewayTarget { canister_id, raw: false })
}

fn strip_port(host: &str) -> &str {
    // IPv6 literals ("[::1]:4943") keep their brackets.
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "rrkah-fqaaa-aaaaa-aaaaq-cai";

    #[test]
    fn subdomain_and_raw() {
        let t = target_of(Some(&format!("{ID}.localhost:4943")), None).unwrap();
        assert_eq!(t, GatewayTarget { canister_id: Principal::from_text(ID).unwrap(), raw: false });
        let t = target_of(Some(&format!("{ID}.raw.localhost:4943")), None).unwrap();
        assert!(t.raw);
    }

    #[test]
    fn query_parameter() {
        let t = target_of(Some("localhost:4943"), Some(&format!("a=1&canisterId={ID}"))).unwrap();
        assert_eq!(t.canister_id.to_text(), ID);
        assert_eq!(target_of(Some("127.0.0.1:4943"), Some("x=1")), Err(HostError::NoCanister));
        assert!(matches!(target_of(Some("nope.localhost"), None), Err(HostError::BadCanisterId(_))));
    }
}
