//! Input checks shared by the upload methods.

use super::invalid;
use depot_api::DirectoryError;
use depot_api::limits::{MAX_NAME_BYTES, MAX_NAME_COMPONENT_BYTES};
use depot_api::mime_type::canonical_mime;

pub const SHA256_BYTES: usize = 32;

/// A name is a relative path: one or more components separated by `/`.
/// Clients write downloads under it, so no component may climb out of the
/// folder it is written into or be empty: no leading or trailing `/`, no
/// `//`, no `.` or `..` component, no `\` (a separator on Windows), no
/// control characters.
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
    if name.contains('\\') {
        return Err(invalid("name must not contain \\ (separate folders with /)"));
    }
    for component in name.split('/') {
        if component.is_empty() || component == "." || component == ".." {
            return Err(invalid(
                "name must be a relative path: no leading, trailing or double /, and no . or .. component",
            ));
        }
        if component.len() > MAX_NAME_COMPONENT_BYTES {
            return Err(invalid(format!("a name component is longer than {MAX_NAME_COMPONENT_BYTES} bytes")));
        }
    }
    Ok(())
}

/// A given MIME type, checked; an absent one guessed from the file name.
pub fn mime(given: Option<&str>, file_name: &str) -> Result<String, DirectoryError> {
    let Some(m) = given else {
        return Ok(mime_guess::from_path(file_name).first_or_octet_stream().essence_str().to_string());
    };
    // It becomes a served Content-Type: one well-formed type, stored in
    // canonical form (see `depot_api::mime_type`).
    canonical_mime(m).map_err(|e| invalid(e.to_string()))
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
        assert!(name(&"é".repeat(MAX_NAME_COMPONENT_BYTES / 2)).is_ok());
        assert!(name(&"x".repeat(MAX_NAME_COMPONENT_BYTES)).is_ok());
        assert!(name(&"x".repeat(MAX_NAME_COMPONENT_BYTES + 1)).is_err());
        assert!(name("").is_err());
        assert!(name("a\nb").is_err());
        assert!(name("a\u{7f}").is_err());
        assert!(name("dir/a\u{85}b").is_err(), "a C1 control");
        for bad in
            ["../evil", "/abs", "a\\b", "..\\x", ".", "..", "a/", "a//b", "./a", "a/./b", "a/../b", "a/..", "/", "//"]
        {
            assert!(name(bad).is_err(), "{bad:?}");
        }
        for good in ["a/b", "photos/2024/a.jpg", "..hidden", "a..b", "dir/.hidden", "a/...", "a b/c d"] {
            assert!(name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn names_at_their_length_limits() {
        let component = "c".repeat(MAX_NAME_COMPONENT_BYTES);
        // Four full components and three separators: 1,023 bytes.
        let deep = [component.as_str(); 4].join("/");
        assert_eq!(deep.len(), MAX_NAME_BYTES - 1);
        assert!(name(&deep).is_ok());
        let exact = format!("{}/{}/x", [component.as_str(); 3].join("/"), &component[1..]);
        assert_eq!(exact.len(), MAX_NAME_BYTES);
        assert!(name(&exact).is_ok());
        assert!(name(&format!("{exact}x")).is_err(), "one byte past the whole-name limit");
        assert!(name(&format!("a/{component}x")).is_err(), "one byte past the component limit");
    }

    #[test]
    fn mimes() {
        assert_eq!(mime(None, "photo.png").unwrap(), "image/png");
        assert_eq!(mime(None, "noext").unwrap(), "application/octet-stream");
        assert_eq!(mime(Some("text/plain; charset=utf-8"), "x").unwrap(), "text/plain; charset=utf-8");
        assert_eq!(mime(Some("Image/PNG"), "x").unwrap(), "image/png");
        for bad in ["", "text", "/plain", "text/", "text/plain\r\nX: y", "tëxt/plain", "image/png;,text/html"] {
            assert!(mime(Some(bad), "x").is_err(), "{bad:?}");
        }
        assert!(mime(Some(&format!("a/{}", "b".repeat(depot_api::limits::MAX_MIME_BYTES))), "x").is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(sha256(None), Ok(None));
        assert_eq!(sha256(Some(&[1; 32])), Ok(Some([1; 32])));
        assert!(sha256(Some(&[1; 31])).is_err());
    }
}
