//! The share commands: `share`, `shares`, `unshare`.

use crate::commands::ns_date;
use anyhow::{Result, anyhow, bail};
use depot_cli::client::Depot;
use serde_json::json;

/// `30m`, `12h`, `7d`, `90s` or plain seconds, as seconds.
pub fn parse_duration_secs(text: &str) -> Result<u64> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = number.parse().map_err(|_| anyhow!("{text:?} is not a duration like 30m, 12h or 7d"))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("{text:?} is not a duration like 30m, 12h or 7d"),
    };
    n.checked_mul(unit_secs).ok_or_else(|| anyhow!("{text:?} is too long"))
}

/// A share as `depot share --json` and `depot shares --json` print it.
pub fn share_json(s: &depot_api::share::ShareInfo) -> serde_json::Value {
    json!({"share_id": s.share_id, "file_id": s.file_id.key().map(|k| k.to_hex()), "name": s.name,
           "url": s.url, "raw_url": s.raw_url, "created_at_ns": s.created_at_ns, "expires_at_ns": s.expires_at_ns,
           "download_only": s.download_only, "max_uses": s.max_uses, "uses": s.uses})
}

/// `depot shares`: every share of the caller, oldest first.
pub async fn shares(depot: &Depot, as_json: bool) -> Result<()> {
    let mut all = vec![];
    let mut cursor = None;
    loop {
        let page = depot.list_shares(depot_api::share::ListSharesReq { cursor: cursor.take(), limit: None }).await?;
        all.extend(page.shares);
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    if as_json {
        println!("{}", serde_json::Value::Array(all.iter().map(share_json).collect()));
        return Ok(());
    }
    for s in &all {
        let uses = match s.max_uses {
            Some(m) => format!("{}/{m} uses", s.uses),
            None => format!("{} uses", s.uses),
        };
        let until = s.expires_at_ns.map(|t| format!("  until {}", ns_date(t))).unwrap_or_default();
        let name = if s.name.is_empty() { "(file deleted)" } else { s.name.as_str() };
        let link = s.url.as_deref().unwrap_or("");
        println!("{}  {name}  {uses}{until}  {link}", s.share_id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("90").unwrap(), 90);
        assert_eq!(parse_duration_secs("30m").unwrap(), 1800);
        assert_eq!(parse_duration_secs("12h").unwrap(), 43_200);
        assert_eq!(parse_duration_secs("7d").unwrap(), 604_800);
        for bad in ["", "d", "7w", "1.5h", "-1d", "99999999999999999999d"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad:?}");
        }
    }
}
