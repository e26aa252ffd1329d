//! Human output: sizes, times and what each API error means for the user.

use depot_api::{BucketError, DirectoryError};

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

pub fn explain_directory_error(e: &DirectoryError) -> String {
    use DirectoryError::*;
    match e {
        QuotaExceeded { requested, available } => format!(
            "quota exceeded: this file needs {}, you have {} left (delete files or ask an admin for more)",
            human_bytes(*requested),
            human_bytes(*available)
        ),
        TooManyInProgressUploads { limit } => {
            format!(
                "you already have {limit} uploads in progress: finish one, or abort it with `depot rm FILE_ID` (`depot ls --all` lists them)"
            )
        }
        RateLimited { retry_after_secs } => format!("too many uploads started: try again in {retry_after_secs} s"),
        UploadExpired => "the upload expired: run the same command again to start over".into(),
        UploadNotFound => "upload not found (it may have expired and been cleaned up)".into(),
        NotFound => "file not found".into(),
        Unauthorised => {
            "not allowed: files are their owner's only, admin commands need a controller (check --identity)".into()
        }
        ServiceTemporarilyUnavailable { reason } => format!("service temporarily unavailable: {reason}"),
        other => other.to_string(),
    }
}

pub fn explain_share_error(e: &depot_api::share::ShareError) -> String {
    use depot_api::share::ShareError::*;
    match e {
        NotFound => {
            "share not found: it was revoked, its file deleted, or the id is wrong (`depot shares` lists yours)".into()
        }
        Gone { reason } => format!("{reason}: ask the owner for a new link"),
        TooManyShares { limit } => {
            format!("you have {limit} shares, the most allowed: revoke some with `depot unshare SHARE_ID`")
        }
        other => other.to_string(),
    }
}

pub fn explain_bucket_error(e: &BucketError) -> String {
    match e {
        BucketError::TokenExpired => "upload token expired (a new one is fetched automatically)".into(),
        BucketError::ReadOnly => "the bucket holding this upload is read-only now".into(),
        other => format!("bucket refused: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(human_bytes(u64::MAX), "16384.0 PiB");
    }

    #[test]
    fn quota_message_is_actionable() {
        let m = explain_directory_error(&DirectoryError::QuotaExceeded { requested: 2048, available: 1024 });
        assert!(m.contains("2.0 KiB") && m.contains("1.0 KiB"), "{m}");
    }
}
