//! Input checks shared by the upload methods.

use super::invalid;
use depot_api::DirectoryError;
use depot_api::limits::{MAX_MIME_BYTES, MAX_NAME_BYTES};

pub const SHA256_BYTES: usize = 32;

pub fn name(name: &str) -> Result<(), DirectoryError> {
    if name.is_empty() {
        return Err(invalid("name is empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(invalid(format!("name is longer than {MAX_NAME_BYTES} bytes")));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name contains control characters"));
    }
    Ok(())
}

/// A given MIME type, checked; an absent one guessed from the file name.
pub fn mime(given: Option<&str>, file_name: &str) -> Result<String, DirectoryError> {
    let Some(m) = given else {
        return Ok(mime_guess::from_path(file_name).first_or_octet_stream().essence_str().to_string());
    };
    if m.is_empty() || m.len() > MAX_MIME_BYTES {
        return Err(invalid(format!("mime must be 1..={MAX_MIME_BYTES} bytes")));
    }
    // `type/subtype[; params]`, printable ASCII: it becomes a served
    // Content-Type header, so nothing that could split or forge headers.
    let (ty, sub) = m.split_once('/').ok_or_else(|| invalid("mime must be type/subtype"))?;
    if ty.is_empty() || sub.is_empty() || !m.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(invalid("mime must be type/subtype in printable ASCII"));
    }
    Ok(m.to_string())
}

pub fn sha256(hash: Option<&[u8]>) -> Result<Option<[u8; SHA256_BYTES]>, DirectoryError> {
    hash.map(|h| h.try_into().map_err(|_| invalid("sha256 must be 32 bytes"))).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name("a.txt").is_ok());
        assert!(name(&"é".repeat(MAX_NAME_BYTES / 2)).is_ok());
        assert!(name(&"x".repeat(MAX_NAME_BYTES)).is_ok());
        assert!(name(&"x".repeat(MAX_NAME_BYTES + 1)).is_err());
        assert!(name("").is_err());
        assert!(name("a\nb").is_err());
        assert!(name("a\u{7f}").is_err());
    }

    #[test]
    fn mimes() {
        assert_eq!(mime(None, "photo.png").unwrap(), "image/png");
        assert_eq!(mime(None, "noext").unwrap(), "application/octet-stream");
        assert_eq!(mime(Some("text/plain; charset=utf-8"), "x").unwrap(), "text/plain; charset=utf-8");
        for bad in ["", "text", "/plain", "text/", "text/plain\r\nX: y", "tëxt/plain"] {
            assert!(mime(Some(bad), "x").is_err(), "{bad:?}");
        }
        assert!(mime(Some(&format!("a/{}", "b".repeat(MAX_MIME_BYTES))), "x").is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(sha256(None), Ok(None));
        assert_eq!(sha256(Some(&[1; 32])), Ok(Some([1; 32])));
        assert!(sha256(Some(&[1; 31])).is_err());
    }
}
