//! Response headers: content type, disposition and the safety headers.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// One year: a file's bytes never change under its id (new bytes = new id).
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Errors must not stick: a 404 turns into 200 once an upload commits.
pub const CACHE_NONE: &str = "no-store";
/// Headers a page on another origin may read from a fetch.
pub const EXPOSED_HEADERS: &str = "content-length, content-range, content-disposition, etag, accept-ranges";
pub const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";
pub const ALLOWED_REQUEST_HEADERS: &str = "range, if-none-match, if-range";
/// Documents of active types render in a sandbox: no script, no plugins,
/// an opaque origin, so an uploaded page cannot act on the bucket's origin.
pub const ACTIVE_CONTENT_CSP: &str =
    "sandbox; default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'";

/// MIME types that can run script when opened as a document.
pub fn is_active_content(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/javascript"
            | "application/javascript"
            | "application/ecmascript"
            | "text/ecmascript"
            | "application/x-javascript"
            | "text/xsl"
            | "application/xslt+xml"
            | "multipart/x-mixed-replace"
    ) || essence.ends_with("+xml")
}

/// The stored MIME type, or one guessed from the name when it is empty or
/// not a plausible `type/subtype`.
pub fn content_type(mime: &str, name: &str) -> String {
    let m = mime.trim();
    let plausible = m.split_once('/').is_some_and(|(t, s)| !t.is_empty() && !s.is_empty())
        && m.bytes().all(|b| (0x20..0x7f).contains(&b));
    if plausible {
        m.to_string()
    } else {
        mime_guess::from_path(name).first_or_octet_stream().essence_str().to_string()
    }
}

/// RFC 5987 `attr-char`s stay literal; everything else is %-encoded.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `Content-Disposition` per RFC 6266 with an RFC 5987 `filename*` for
/// non-ASCII names and a plain ASCII `filename` fallback for old clients.
pub fn content_disposition(attachment: bool, name: &str) -> String {
    let kind = if attachment { "attachment" } else { "inline" };
    let fallback: String = name
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c.is_ascii() && c != '"' && c != '\\' { c } else { '_' })
        .collect();
    let fallback = if fallback.trim().is_empty() { "file".to_string() } else { fallback };
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR_CHAR_ESCAPES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_encodes_names() {
        assert_eq!(content_disposition(false, "a b.txt"), "inline; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt");
        assert_eq!(
            content_disposition(true, "naïve \"q\"\\.pdf"),
            "attachment; filename=\"na_ve _q__.pdf\"; filename*=UTF-8''na%C3%AFve%20%22q%22%5C.pdf"
        );
        assert_eq!(content_disposition(true, "\r\n"), "attachment; filename=\"file\"; filename*=UTF-8''%0D%0A");
        assert_eq!(
            content_disposition(false, "日本.png"),
            "inline; filename=\"__.png\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"
        );
    }

    #[test]
    fn active_types() {
        for m in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
            "application/atom+xml",
        ] {
            assert!(is_active_content(m), "{m}");
        }
        for m in ["image/png", "video/mp4", "text/plain", "application/pdf", "application/octet-stream"] {
            assert!(!is_active_content(m), "{m}");
        }
    }

    #[test]
    fn content_type_falls_back_to_the_name() {
        assert_eq!(content_type("image/webp", "x.png"), "image/webp");
        assert_eq!(content_type("", "x.png"), "image/png");
        assert_eq!(content_type("garbage", "x.mp4"), "video/mp4");
        assert_eq!(content_type("a/b\u{1}", "x"), "application/octet-stream");
    }
}
