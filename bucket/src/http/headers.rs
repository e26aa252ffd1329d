//! Response headers: content type, disposition and the safety headers.

use depot_api::mime_type::canonical_mime;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// File responses (200, 206, 304). A file's bytes never change under its
/// id, but a signed URL expires and a file can be deleted, and the
/// certified response is the same for every URL of the file (the signature
/// is not certified), so no cache may answer without asking the bucket:
/// `private` keeps shared caches (CDNs, proxies) from storing it at all,
/// and `no-cache` makes the production gateway's cache pass (ic-bn-lib
/// `http/cache.rs` honours only `no-cache`, `no-store` and `max-age`) and
/// makes browsers revalidate each reuse with `If-None-Match`, which the
/// bucket answers with a certified 304 after checking the URL again.
pub const CACHE_FILE: &str = "private, no-cache";
/// Answers that hold no file data and never change (the CORS preflight).
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Errors must not stick: a 404 turns into 200 once an upload commits.
pub const CACHE_NONE: &str = "no-store";
/// Headers a page on another origin may read from a fetch.
pub const EXPOSED_HEADERS: &str = "content-length, content-range, content-disposition, etag, accept-ranges";
pub const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";
pub const ALLOWED_REQUEST_HEADERS: &str = "range, if-none-match, if-range";
/// Sent with every response that has a body: opened as a document, any
/// file renders in a sandbox (no script, no plugins, no forms, an opaque
/// origin), so nothing uploaded can act on the bucket's origin, whatever
/// its type. Embedding (`<img>`, `<video>`, `fetch`) is unaffected: a
/// response's CSP applies only when it is itself the document.
pub const SANDBOX_CSP: &str = "sandbox";
/// Documents of active types also load nothing at all.
pub const ACTIVE_CONTENT_CSP: &str =
    "sandbox; default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'";

/// The CSP for a response of `content_type`.
pub fn content_security_policy(content_type: &str) -> &'static str {
    if is_active_content(content_type) { ACTIVE_CONTENT_CSP } else { SANDBOX_CSP }
}

/// MIME types that can run script when opened as a document.
pub fn is_active_content(mime: &str) -> bool {
    let essence = mime.split([';', ',']).next().unwrap_or("").trim().to_ascii_lowercase();
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

/// The stored MIME type in canonical form, or one guessed from the name
/// when it is not one well-formed type. The directory stores only canonical
/// types; this holds even if a bucket were handed another.
pub fn content_type(mime: &str, name: &str) -> String {
    canonical_mime(mime.trim())
        .unwrap_or_else(|_| mime_guess::from_path(name).first_or_octet_stream().essence_str().to_string())
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
/// A name with folders (`photos/2024/a.jpg`) offers its last part: a
/// browser saves one file, and RFC 6266 §4.3 has it drop path information.
pub fn content_disposition(attachment: bool, name: &str) -> String {
    let name = name.rsplit('/').next().unwrap_or(name);
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
        assert_eq!(
            content_disposition(true, "photos/2024/a b.jpg"),
            "attachment; filename=\"a b.jpg\"; filename*=UTF-8''a%20b.jpg"
        );
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
        // a comma list is not one type: the name decides, never the last entry
        assert_eq!(content_type("image/png;,text/html", "x.png"), "image/png");
        assert_eq!(content_type("image/png, text/html", "x.bin"), "application/octet-stream");
        assert_eq!(content_type("TEXT/Plain;charset=UTF-8", "x"), "text/plain; charset=utf-8");
    }

    #[test]
    fn every_type_gets_a_sandbox() {
        for ct in ["image/png", "video/mp4", "application/pdf", "application/octet-stream", "text/plain"] {
            assert_eq!(content_security_policy(ct), SANDBOX_CSP, "{ct}");
        }
        for ct in ["text/html", "image/svg+xml", "text/html; charset=utf-8"] {
            assert_eq!(content_security_policy(ct), ACTIVE_CONTENT_CSP, "{ct}");
        }
    }
}
