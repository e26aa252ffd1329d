//! MIME types as Depot accepts and serves them: one well-formed
//! `type/subtype` with optional `name=value` parameters, parsed by the
//! `mime` crate and written back in one canonical form (lower-case type,
//! unquoted token values).
//!
//! Why so strict: the stored type becomes a served `Content-Type`. Browsers
//! read a comma-separated `Content-Type` and use the last entry, so
//! `image/png;,text/html` would be served as HTML on the bucket's origin.
//! Parameter values are tokens only (no quoted strings), so no comma, quote
//! or backslash can reach the header.

use crate::limits::MAX_MIME_BYTES;

/// Why a MIME type was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MimeError {
    #[error("mime must be 1..={MAX_MIME_BYTES} bytes")]
    Length,
    #[error("mime is not one well-formed type/subtype: {0}")]
    Malformed(String),
    #[error("mime parameter values must be tokens (no quotes, commas or spaces)")]
    ParameterValue,
}

/// RFC 9110 `token` characters.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The canonical form of `m`: lower-case `type/subtype`, then `; name=value`
/// for each parameter in the order given. Refuses anything else.
pub fn canonical_mime(m: &str) -> Result<String, MimeError> {
    if m.is_empty() || m.len() > MAX_MIME_BYTES {
        return Err(MimeError::Length);
    }
    if !m.bytes().all(|b| (0x20..0x7f).contains(&b)) || m.contains(',') {
        return Err(MimeError::Malformed("only printable ASCII, no commas".into()));
    }
    let parsed: mime::Mime = m.parse().map_err(|e: mime::FromStrError| MimeError::Malformed(e.to_string()))?;
    if !is_token(parsed.type_().as_str()) || !is_token(parsed.subtype().as_str()) || parsed.type_() == mime::STAR {
        return Err(MimeError::Malformed("type and subtype must be tokens".into()));
    }
    let mut out = format!("{}/{}", parsed.type_(), parsed.subtype());
    if let Some(suffix) = parsed.suffix() {
        out.push('+');
        out.push_str(suffix.as_str());
    }
    for (name, value) in parsed.params() {
        let value = value.as_str();
        if !is_token(name.as_str()) || !is_token(value) {
            return Err(MimeError::ParameterValue);
        }
        out.push_str(&format!("; {}={value}", name.as_str()));
    }
    Ok(out)
}

/// The `type/subtype` of a canonical MIME type.
pub fn essence(canonical: &str) -> &str {
    canonical.split(';').next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_types_are_canonical() {
        assert_eq!(canonical_mime("image/png").unwrap(), "image/png");
        assert_eq!(canonical_mime("Image/PNG").unwrap(), "image/png");
        assert_eq!(canonical_mime("text/plain;charset=utf-8").unwrap(), "text/plain; charset=utf-8");
        assert_eq!(canonical_mime("text/plain; charset=\"UTF-8\"").unwrap(), "text/plain; charset=utf-8");
        assert_eq!(canonical_mime("image/svg+xml").unwrap(), "image/svg+xml");
        assert_eq!(canonical_mime("image/png;").unwrap(), "image/png");
        assert_eq!(canonical_mime("application/vnd.api+json").unwrap(), "application/vnd.api+json");
    }

    #[test]
    fn hostile_types_are_refused() {
        for bad in [
            "image/png;,text/html",
            "image/png, text/html",
            "image/png;x=\"a,text/html\"",
            "text/plain\r\nX-Injected: 1",
            "text/plain\nX: y",
            "",
            "text",
            "/plain",
            "text/",
            "*/*",
            "text/html/x",
            "text/ html",
            "tëxt/plain",
            "image/png; =x",
            "image/png; x=",
            "image/png\u{0}",
        ] {
            assert!(canonical_mime(bad).is_err(), "{bad:?} accepted as {:?}", canonical_mime(bad));
        }
        assert_eq!(canonical_mime(&format!("a/{}", "b".repeat(MAX_MIME_BYTES))), Err(MimeError::Length));
        assert!(canonical_mime(&format!("a/{}", "b".repeat(MAX_MIME_BYTES - 2))).is_ok());
    }

    #[test]
    fn essence_of_canonical() {
        assert_eq!(essence("text/html; charset=utf-8"), "text/html");
        assert_eq!(essence("image/png"), "image/png");
    }
}
