//! Directory settings: the install argument resolved against the defaults of
//! `depot_api::limits`, validated once at install/upgrade.

use super::storable::cbor_storable;
use depot_api::directory::DirectoryInit;
use depot_api::limits::*;
use serde::{Deserialize, Serialize};

/// Mainnet host of a bucket's URLs.
pub const DEFAULT_DOMAIN_TEMPLATE: &str = "{bucket}.icp0.io";
pub const DEFAULT_URL_SCHEME: &str = "https";
/// Placeholder replaced by the bucket's principal in `domain_template`.
pub const BUCKET_PLACEHOLDER: &str = "{bucket}";
/// Longest accepted domain template (a host name is at most 253 bytes).
pub const MAX_DOMAIN_TEMPLATE_BYTES: usize = 253;
/// Longest accepted share URL template.
pub const MAX_SHARE_URL_TEMPLATE_BYTES: usize = 512;

/// An absolute http(s) URL with one `{share}` and nothing that would need
/// escaping where it is shown or sent.
fn validate_share_url_template(t: &str) -> Result<(), String> {
    use depot_api::share::SHARE_PLACEHOLDER;
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.matches(SHARE_PLACEHOLDER).count() == 1
        && t.len() <= MAX_SHARE_URL_TEMPLATE_BYTES
        && t.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "share_url_template must be an http(s) URL with one {SHARE_PLACEHOLDER}, printable ASCII without quotes or angle brackets, ≤ {MAX_SHARE_URL_TEMPLATE_BYTES} bytes"
        ))
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub domain_template: String,
    pub url_scheme: String,
    pub chunk_size: u32,
    pub upload_token_ttl_secs: u64,
    pub upload_session_ttl_secs: u64,
    pub max_download_url_ttl_secs: u64,
    pub default_quota_bytes: u64,
    pub max_uploads_in_progress: u32,
    pub start_upload_per_minute: u32,
    pub max_file_size: u64,
    /// Added later: settings stored before decode with the default.
    #[serde(default = "default_upload_tokens_per_minute")]
    pub upload_tokens_per_minute: u32,
    #[serde(default = "default_max_tokens_per_upload")]
    pub max_tokens_per_upload: u32,
    #[serde(default)]
    pub fleet: super::fleet_settings::FleetSettings,
    /// `DirectoryInit::share_url_template`; none: shares carry no URL.
    #[serde(default)]
    pub share_url_template: Option<String>,
}
cbor_storable!(Settings);

fn default_upload_tokens_per_minute() -> u32 {
    DEFAULT_UPLOAD_TOKENS_PER_MINUTE
}

fn default_max_tokens_per_upload() -> u32 {
    DEFAULT_MAX_TOKENS_PER_UPLOAD
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            domain_template: DEFAULT_DOMAIN_TEMPLATE.to_string(),
            url_scheme: DEFAULT_URL_SCHEME.to_string(),
            chunk_size: CHUNK_SIZE,
            upload_token_ttl_secs: DEFAULT_UPLOAD_TOKEN_TTL_SECS,
            upload_session_ttl_secs: DEFAULT_UPLOAD_SESSION_TTL_SECS,
            max_download_url_ttl_secs: MAX_DOWNLOAD_URL_TTL_SECS,
            default_quota_bytes: DEFAULT_USER_QUOTA_BYTES,
            max_uploads_in_progress: DEFAULT_MAX_UPLOADS_IN_PROGRESS,
            start_upload_per_minute: DEFAULT_START_UPLOAD_PER_MINUTE,
            max_file_size: MAX_FILE_SIZE,
            upload_tokens_per_minute: DEFAULT_UPLOAD_TOKENS_PER_MINUTE,
            max_tokens_per_upload: DEFAULT_MAX_TOKENS_PER_UPLOAD,
            fleet: Default::default(),
            share_url_template: None,
        }
    }
}

impl Settings {
    /// `self` with every field given in `init` replaced, then validated.
    /// At install `self` is `Settings::default()`; at upgrade it is the
    /// stored settings, so an upgrade argument changes only what it names.
    /// When the chunk size changes and no max file size is given, the max
    /// follows the chunk size (a file may have at most MAX_CHUNKS_PER_FILE).
    pub fn with_overrides(&self, init: &DirectoryInit) -> Result<Self, String> {
        let mut s = self.clone();
        if let Some(v) = &init.domain_template {
            s.domain_template = v.clone();
        }
        if let Some(v) = &init.url_scheme {
            s.url_scheme = v.clone();
        }
        if let Some(v) = init.chunk_size {
            s.chunk_size = v;
            if init.max_file_size.is_none() {
                s.max_file_size = s.max_file_size.min(max_file_size_for(v));
            }
        }
        if let Some(v) = init.upload_token_ttl_secs {
            s.upload_token_ttl_secs = v;
        }
        if let Some(v) = init.upload_session_ttl_secs {
            s.upload_session_ttl_secs = v;
        }
        if let Some(v) = init.max_download_url_ttl_secs {
            s.max_download_url_ttl_secs = v;
        }
        if let Some(v) = init.default_quota_bytes {
            s.default_quota_bytes = v;
        }
        if let Some(v) = init.max_uploads_in_progress {
            s.max_uploads_in_progress = v;
        }
        if let Some(v) = init.start_upload_per_minute {
            s.start_upload_per_minute = v;
        }
        if let Some(v) = init.max_file_size {
            s.max_file_size = v;
        }
        if let Some(v) = init.upload_tokens_per_minute {
            s.upload_tokens_per_minute = v;
        }
        if let Some(v) = init.max_tokens_per_upload {
            s.max_tokens_per_upload = v;
        }
        if let Some(v) = &init.share_url_template {
            s.share_url_template = Some(v.clone()).filter(|t| !t.is_empty());
        }
        s.fleet.apply(init)?;
        s.validate()?;
        Ok(s)
    }

    /// At install, with no `share_url_template` in the argument: share
    /// links point at the gateway icp-cli deployed beside the directory
    /// (`gateway`, from `PUBLIC_CANISTER_ID:gateway`), on the buckets'
    /// domain and scheme, e.g. `https://<gateway>.icp0.io/s/{share}`.
    /// A template in the argument, even an empty one (none), wins.
    pub fn with_gateway_share_urls(
        self,
        init: &DirectoryInit,
        gateway: Option<candid::Principal>,
    ) -> Result<Self, String> {
        let Some(gateway) = gateway.filter(|_| init.share_url_template.is_none()) else {
            return Ok(self);
        };
        let host = self.domain_template.replace(BUCKET_PLACEHOLDER, &gateway.to_text());
        let template = format!(
            "{}://{host}{}{}",
            self.url_scheme,
            depot_api::gateway::SHARE_PATH_PREFIX,
            depot_api::share::SHARE_PLACEHOLDER
        );
        self.with_overrides(&DirectoryInit { share_url_template: Some(template), ..Default::default() })
    }

    pub fn validate(&self) -> Result<(), String> {
        let t = &self.domain_template;
        if !t.contains(BUCKET_PLACEHOLDER) || t.len() > MAX_DOMAIN_TEMPLATE_BYTES {
            return Err(format!(
                "domain_template must contain {BUCKET_PLACEHOLDER} and be ≤ {MAX_DOMAIN_TEMPLATE_BYTES} bytes"
            ));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@')) {
            return Err("domain_template must be a bare host[:port]".into());
        }
        if let Some(t) = &self.share_url_template {
            validate_share_url_template(t)?;
        }
        if self.url_scheme != "https" && self.url_scheme != "http" {
            return Err("url_scheme must be http or https".into());
        }
        // Chunks are whole SHA-256 blocks so a bucket can hash incrementally.
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) || !self.chunk_size.is_multiple_of(64) {
            return Err(format!("chunk_size must be a multiple of 64 in {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE}"));
        }
        if !(MIN_UPLOAD_TOKEN_TTL_SECS..=MAX_UPLOAD_TOKEN_TTL_SECS).contains(&self.upload_token_ttl_secs) {
            return Err(format!(
                "upload_token_ttl_secs must be in {MIN_UPLOAD_TOKEN_TTL_SECS}..={MAX_UPLOAD_TOKEN_TTL_SECS}"
            ));
        }
        if self.upload_session_ttl_secs < self.upload_token_ttl_secs {
            return Err("upload_session_ttl_secs must be ≥ upload_token_ttl_secs".into());
        }
        if !(1..=MAX_DOWNLOAD_URL_TTL_SECS).contains(&self.max_download_url_ttl_secs) {
            return Err(format!("max_download_url_ttl_secs must be in 1..={MAX_DOWNLOAD_URL_TTL_SECS}"));
        }
        if !(1..=MAX_UPLOADS_IN_PROGRESS).contains(&self.max_uploads_in_progress) {
            return Err(format!("max_uploads_in_progress must be in 1..={MAX_UPLOADS_IN_PROGRESS}"));
        }
        if !(1..=MAX_START_UPLOAD_PER_MINUTE).contains(&self.start_upload_per_minute) {
            return Err(format!("start_upload_per_minute must be in 1..={MAX_START_UPLOAD_PER_MINUTE}"));
        }
        if !(1..=MAX_UPLOAD_TOKENS_PER_MINUTE).contains(&self.upload_tokens_per_minute) {
            return Err(format!("upload_tokens_per_minute must be in 1..={MAX_UPLOAD_TOKENS_PER_MINUTE}"));
        }
        if !(1..=MAX_TOKENS_PER_UPLOAD).contains(&self.max_tokens_per_upload) {
            return Err(format!("max_tokens_per_upload must be in 1..={MAX_TOKENS_PER_UPLOAD}"));
        }
        let cap = max_file_size_for(self.chunk_size);
        // At least one byte: a directory taking only empty files is a mistake.
        if !(1..=cap).contains(&self.max_file_size) {
            return Err(format!("max_file_size must be in 1..={cap} for this chunk size"));
        }
        self.fleet.validate()
    }

    /// TTL of a download URL when the caller names none.
    pub fn default_download_url_ttl_secs(&self) -> u64 {
        DEFAULT_DOWNLOAD_URL_TTL_SECS.min(self.max_download_url_ttl_secs)
    }

    /// How long a retired signing key must keep verifying: until everything
    /// it signed (tokens and URLs) has expired.
    pub fn key_retention_secs(&self) -> u64 {
        self.upload_token_ttl_secs.max(self.max_download_url_ttl_secs)
    }
}

/// Largest file with `chunk_size`: at most MAX_CHUNKS_PER_FILE chunks and
/// never past MAX_FILE_SIZE.
pub fn max_file_size_for(chunk_size: u32) -> u64 {
    (MAX_CHUNKS_PER_FILE as u64 * chunk_size as u64).min(MAX_FILE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_overrides_apply() {
        assert_eq!(Settings::default().validate(), Ok(()));
        let s = Settings::default()
            .with_overrides(&DirectoryInit {
                domain_template: Some("{bucket}.localhost:4943".into()),
                url_scheme: Some("http".into()),
                chunk_size: Some(MIN_CHUNK_SIZE),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(s.url_scheme, "http");
        assert_eq!(s.max_file_size, MAX_CHUNKS_PER_FILE as u64 * MIN_CHUNK_SIZE as u64);
        assert_eq!(s.upload_token_ttl_secs, DEFAULT_UPLOAD_TOKEN_TTL_SECS);
        let at_max = DirectoryInit {
            start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE),
            max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS),
            upload_tokens_per_minute: Some(MAX_UPLOAD_TOKENS_PER_MINUTE),
            max_tokens_per_upload: Some(MAX_TOKENS_PER_UPLOAD),
            ..Default::default()
        };
        let s = Settings::default().with_overrides(&at_max).unwrap();
        assert_eq!(
            (s.start_upload_per_minute, s.max_uploads_in_progress, s.upload_tokens_per_minute, s.max_tokens_per_upload),
            (MAX_START_UPLOAD_PER_MINUTE, MAX_UPLOADS_IN_PROGRESS, MAX_UPLOAD_TOKENS_PER_MINUTE, MAX_TOKENS_PER_UPLOAD)
        );
        let at_min =
            DirectoryInit { upload_tokens_per_minute: Some(1), max_tokens_per_upload: Some(1), ..Default::default() };
        let s = Settings::default().with_overrides(&at_min).unwrap();
        assert_eq!((s.upload_tokens_per_minute, s.max_tokens_per_upload), (1, 1));
        // An upgrade argument that names neither keeps what is stored.
        let kept = s.with_overrides(&DirectoryInit::default()).unwrap();
        assert_eq!((kept.upload_tokens_per_minute, kept.max_tokens_per_upload), (1, 1));
    }

    #[test]
    fn share_links_default_to_the_gateway_icp_cli_deployed_beside() {
        let gateway = candid::Principal::from_text("uzt4z-lp777-77774-qaabq-cai").unwrap();
        let on = |init: &DirectoryInit, g| {
            Settings::default().with_overrides(init).unwrap().with_gateway_share_urls(init, g)
        };
        let mainnet = on(&DirectoryInit::default(), Some(gateway)).unwrap();
        assert_eq!(
            mainnet.share_url_template.as_deref(),
            Some("https://uzt4z-lp777-77774-qaabq-cai.icp0.io/s/{share}")
        );
        let local = DirectoryInit {
            domain_template: Some("{bucket}.localhost:8000".into()),
            url_scheme: Some("http".into()),
            ..Default::default()
        };
        let local = on(&local, Some(gateway)).unwrap();
        assert_eq!(
            local.share_url_template.as_deref(),
            Some("http://uzt4z-lp777-77774-qaabq-cai.localhost:8000/s/{share}")
        );
        assert_eq!(on(&DirectoryInit::default(), None).unwrap().share_url_template, None, "no gateway, no links");
        for (given, kept) in [("", None), ("https://example.org/s/{share}", Some("https://example.org/s/{share}"))] {
            let init = DirectoryInit { share_url_template: Some(given.into()), ..Default::default() };
            assert_eq!(on(&init, Some(gateway)).unwrap().share_url_template.as_deref(), kept, "the argument wins");
        }
    }

    #[test]
    fn share_url_templates() {
        let set = |t: &str| {
            Settings::default()
                .with_overrides(&DirectoryInit { share_url_template: Some(t.into()), ..Default::default() })
        };
        let ok = "https://aaaaa-aa.icp0.io/s/{share}";
        assert_eq!(set(ok).unwrap().share_url_template.as_deref(), Some(ok));
        assert_eq!(set("").unwrap().share_url_template, None, "empty: none");
        let longest = format!("http://{}/{{share}}", "h".repeat(MAX_SHARE_URL_TEMPLATE_BYTES - 15));
        assert_eq!(longest.len(), MAX_SHARE_URL_TEMPLATE_BYTES);
        assert!(set(&longest).is_ok());
        for bad in [
            "aaaaa-aa.icp0.io/s/{share}",
            "javascript:alert(1)//{share}",
            "https://x/s/",
            "https://x/{share}/{share}",
            "https://x/s/{share}\"><script>",
            "https://x/s/{share} y",
            &format!("{longest}x"),
        ] {
            assert!(set(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invalid_settings_are_refused() {
        let bad = [
            DirectoryInit { domain_template: Some("icp0.io".into()), ..Default::default() },
            DirectoryInit { domain_template: Some("{bucket}.x/y".into()), ..Default::default() },
            DirectoryInit { url_scheme: Some("ftp".into()), ..Default::default() },
            DirectoryInit { chunk_size: Some(MIN_CHUNK_SIZE - 64), ..Default::default() },
            DirectoryInit { chunk_size: Some(MIN_CHUNK_SIZE + 1), ..Default::default() },
            DirectoryInit { upload_token_ttl_secs: Some(MIN_UPLOAD_TOKEN_TTL_SECS - 1), ..Default::default() },
            DirectoryInit { upload_token_ttl_secs: Some(MAX_UPLOAD_TOKEN_TTL_SECS + 1), ..Default::default() },
            DirectoryInit { max_download_url_ttl_secs: Some(0), ..Default::default() },
            DirectoryInit { max_download_url_ttl_secs: Some(MAX_DOWNLOAD_URL_TTL_SECS + 1), ..Default::default() },
            DirectoryInit { start_upload_per_minute: Some(0), ..Default::default() },
            DirectoryInit { start_upload_per_minute: Some(MAX_START_UPLOAD_PER_MINUTE + 1), ..Default::default() },
            DirectoryInit { max_uploads_in_progress: Some(0), ..Default::default() },
            DirectoryInit { max_uploads_in_progress: Some(MAX_UPLOADS_IN_PROGRESS + 1), ..Default::default() },
            DirectoryInit { max_file_size: Some(0), ..Default::default() },
            DirectoryInit { max_file_size: Some(MAX_FILE_SIZE + 1), ..Default::default() },
            DirectoryInit { upload_session_ttl_secs: Some(60), ..Default::default() },
            DirectoryInit { upload_tokens_per_minute: Some(0), ..Default::default() },
            DirectoryInit { upload_tokens_per_minute: Some(MAX_UPLOAD_TOKENS_PER_MINUTE + 1), ..Default::default() },
            DirectoryInit { max_tokens_per_upload: Some(0), ..Default::default() },
            DirectoryInit { max_tokens_per_upload: Some(MAX_TOKENS_PER_UPLOAD + 1), ..Default::default() },
        ];
        for init in bad {
            assert!(Settings::default().with_overrides(&init).is_err(), "{init:?}");
        }
    }

    #[test]
    fn settings_stored_before_the_token_limits_decode_with_their_defaults() {
        #[derive(Serialize)]
        struct OldSettings {
            domain_template: String,
            url_scheme: String,
            chunk_size: u32,
            upload_token_ttl_secs: u64,
            upload_session_ttl_secs: u64,
            max_download_url_ttl_secs: u64,
            default_quota_bytes: u64,
            max_uploads_in_progress: u32,
            start_upload_per_minute: u32,
            max_file_size: u64,
        }
        let d = Settings::default();
        let old = OldSettings {
            domain_template: d.domain_template.clone(),
            url_scheme: d.url_scheme.clone(),
            chunk_size: d.chunk_size,
            upload_token_ttl_secs: d.upload_token_ttl_secs,
            upload_session_ttl_secs: d.upload_session_ttl_secs,
            max_download_url_ttl_secs: d.max_download_url_ttl_secs,
            default_quota_bytes: d.default_quota_bytes,
            max_uploads_in_progress: d.max_uploads_in_progress,
            start_upload_per_minute: d.start_upload_per_minute,
            max_file_size: d.max_file_size,
        };
        let decoded: Settings = crate::model::storable::cbor_decode(&crate::model::storable::cbor_encode(&old));
        assert_eq!(decoded, d);
    }
}
