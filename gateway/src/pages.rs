//! What share routes answer, as plain functions of the directory's reply:
//! the share page (server-rendered, no script), the `/raw` redirect and the
//! error pages. Each is an update's reply, certified by consensus.
//!
//! Every page:
//! - escapes what the file's owner chose (its name, its type);
//! - carries a Content-Security-Policy that allows no script at all, the
//!   page's one inline style by hash, and media only from the one bucket
//!   origin of the signed URL;
//! - is `Cache-Control: no-store` (each view resolves the share afresh:
//!   caching would outlive a revocation and hand out a stale signed URL);
//! - sends `Referrer-Policy: no-referrer`, so the signed URL never leaks
//!   in a `Referer`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use depot_api::share::{ResolvedShare, ShareError};
use ic_http_certification::{HttpResponse, StatusCode};
use sha2::{Digest, Sha256};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;color:#222}\
h1{font-size:1.3rem;overflow-wrap:anywhere}.meta{color:#555}\
img,video,iframe{display:block;max-width:100%;margin:1rem 0;border:1px solid #ddd}\
iframe{width:100%;height:70vh}audio{width:100%;margin:1rem 0}\
a.button{display:inline-block;padding:.6rem 1.2rem;background:#1a5fb4;color:#fff;border-radius:.3rem;text-decoration:none}\
a.button:focus{outline:3px solid #f5c211}";

/// `'sha256-…'` of the inline style, for the CSP.
fn style_hash() -> String {
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(STYLE.as_bytes())))
}

/// Text made safe inside HTML elements and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `scheme://host[:port]` of an absolute http(s) URL, when it holds
/// nothing but host characters (it goes into a header as a CSP source).
fn origin(url: &str) -> Option<&str> {
    let after = url.find("://")? + 3;
    let end = url[after..].find(['/', '?', '#']).map_or(url.len(), |i| after + i);
    let (scheme, host) = (&url[..after - 3], &url[after..end]);
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    (matches!(scheme, "http" | "https") && host_ok).then_some(&url[..end])
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

fn html_response(status: u16, csp: String, body: String, extra: Vec<(String, String)>) -> HttpResponse<'static> {
    let mut headers = vec![
        ("content-type".to_string(), "text/html; charset=utf-8".to_string()),
        ("content-security-policy".to_string(), csp),
        ("cache-control".to_string(), "no-store".to_string()),
        ("referrer-policy".to_string(), "no-referrer".to_string()),
        ("x-content-type-options".to_string(), "nosniff".to_string()),
    ];
    headers.extend(extra);
    HttpResponse::builder()
        .with_status_code(StatusCode::from_u16(status).expect("a valid status"))
        .with_headers(headers)
        .with_body(body.into_bytes())
        .build()
}

fn document(title: &str, main: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
<style>{STYLE}</style></head><body><main>{main}</main></body></html>",
        escape(title)
    )
}

/// The CSP of a page with no media.
pub fn plain_csp() -> String {
    format!(
        "default-src 'none'; style-src {}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        style_hash()
    )
}

/// The share page: name, size, type, a preview fitting the type, and a
/// download button.
pub fn share_page(r: &ResolvedShare) -> HttpResponse<'static> {
    let url = escape(&r.url);
    let name = escape(&r.name);
    let mime = r.mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let preview = if r.download_only {
        String::new()
    } else if mime.starts_with("image/") {
        format!("<img src=\"{url}\" alt=\"{name}\">")
    } else if mime.starts_with("video/") {
        format!("<video controls preload=\"metadata\" src=\"{url}\" aria-label=\"{name}\"></video>")
    } else if mime.starts_with("audio/") {
        format!("<audio controls preload=\"metadata\" src=\"{url}\" aria-label=\"{name}\"></audio>")
    } else if mime == "application/pdf" || mime.starts_with("text/") {
        format!("<iframe src=\"{url}\" title=\"{name}\"></iframe>")
    } else {
        "<p>No preview for this type of file.</p>".to_string()
    };
    let main = format!(
        "<h1>{name}</h1><p class=\"meta\">{} · {}</p>{preview}\
<p><a class=\"button\" href=\"{}\">Download</a></p>",
        human_size(r.size_bytes),
        escape(&r.mime),
        escape(&r.download_url)
    );
    let media = origin(&r.url).map(str::to_string).unwrap_or_else(|| "'none'".into());
    let csp = format!(
        "default-src 'none'; img-src {media}; media-src {media}; frame-src {media}; style-src {}; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        style_hash()
    );
    html_response(200, csp, document(&r.name, &main), vec![])
}

/// `/raw`: a 307 to the signed URL (the method is kept; the link stays
/// stable while the URL behind it changes).
pub fn raw_redirect(r: &ResolvedShare) -> HttpResponse<'static> {
    HttpResponse::builder()
        .with_status_code(StatusCode::TEMPORARY_REDIRECT)
        .with_headers(vec![
            ("location".to_string(), r.url.clone()),
            ("cache-control".to_string(), "no-store".to_string()),
            ("referrer-policy".to_string(), "no-referrer".to_string()),
        ])
        .build()
}

/// An error page: the status and words for each refusal of the directory,
/// or for not reaching it.
pub fn refusal(e: Result<&ShareError, &str>) -> HttpResponse<'static> {
    let (status, title, text, extra) = match e {
        Ok(ShareError::NotFound) => {
            (404, "Link not found", "This link does not exist, or its owner revoked it.".to_string(), vec![])
        }
        Ok(ShareError::Gone { reason }) => {
            (410, "Link expired", format!("This link no longer works: {reason}."), vec![])
        }
        Ok(ShareError::PaymentRequired) => {
            (402, "File unavailable", "The owner's storage is unpaid: the file is held back.".to_string(), vec![])
        }
        Ok(ShareError::RateLimited { retry_after_secs }) => (
            429,
            "Too many visits",
            format!("This link is being opened too often. Try again in {retry_after_secs} seconds."),
            vec![("retry-after".to_string(), retry_after_secs.to_string())],
        ),
        Ok(other) => (503, "Unavailable", format!("The link cannot be opened now: {other}."), vec![]),
        Err(why) => (503, "Unavailable", format!("The link cannot be opened now: {why}."), vec![]),
    };
    let main = format!("<h1>{}</h1><p>{}</p>", escape(title), escape(&text));
    html_response(status, plain_csp(), document(title, &main), extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(name: &str, mime: &str) -> ResolvedShare {
        ResolvedShare {
            name: name.into(),
            mime: mime.into(),
            size_bytes: 3_000_000,
            sha256: None,
            download_only: false,
            url: "http://b1.localhost:4943/f/00?exp=1&kid=1&sig=x".into(),
            download_url: "http://b1.localhost:4943/f/00?exp=1&kid=1&sig=y&dl=1".into(),
            expires_at_secs: 1,
        }
    }

    fn body(r: &HttpResponse) -> String {
        String::from_utf8(r.body().to_vec()).unwrap()
    }

    fn header<'a>(r: &'a HttpResponse, name: &str) -> &'a str {
        r.headers().iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap()
    }

    #[test]
    fn the_preview_fits_the_type_and_the_name_is_escaped() {
        for (mime, tag) in [
            ("image/png", "<img src=\"http://b1.localhost:4943/f/00?exp=1&amp;kid=1&amp;sig=x\""),
            ("video/mp4", "<video controls"),
            ("audio/mpeg", "<audio controls"),
            ("application/pdf", "<iframe src="),
            ("text/plain; charset=utf-8", "<iframe src="),
            ("application/zip", "No preview"),
        ] {
            let r = share_page(&resolved("<script>alert(1)</script>\".png", mime));
            let html = body(&r);
            assert!(html.contains(tag), "{mime}: {html}");
            assert!(!html.contains("<script>"), "{html}");
            assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;.png"));
            assert!(html.contains("2.9 MiB"));
            assert!(html.contains("sig=y&amp;dl=1\">Download</a>"), "the download button is the attachment URL");
            assert_eq!(r.status_code(), StatusCode::OK);
            let csp = header(&r, "content-security-policy");
            assert!(
                csp.starts_with(
                    "default-src 'none'; img-src http://b1.localhost:4943; media-src http://b1.localhost:4943;"
                ),
                "{csp}"
            );
            assert!(!csp.contains("script-src") && !csp.contains("unsafe"), "{csp}");
            assert_eq!(header(&r, "cache-control"), "no-store");
            assert_eq!(header(&r, "referrer-policy"), "no-referrer");
        }
        let mut d = resolved("a.png", "image/png");
        d.download_only = true;
        assert!(!body(&share_page(&d)).contains("<img"), "download-only: no preview");
    }

    #[test]
    fn the_inline_style_matches_its_hash() {
        let r = share_page(&resolved("a", "image/png"));
        assert!(body(&r).contains(&format!("<style>{STYLE}</style>")));
        assert!(header(&r, "content-security-policy").contains(&style_hash()));
    }

    #[test]
    fn raw_redirects_and_refusals() {
        let r = raw_redirect(&resolved("a", "image/png"));
        assert_eq!(r.status_code(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(header(&r, "location"), "http://b1.localhost:4943/f/00?exp=1&kid=1&sig=x");
        let cases = [
            (Ok(ShareError::NotFound), 404),
            (Ok(ShareError::Gone { reason: "the share expired".into() }), 410),
            (Ok(ShareError::PaymentRequired), 402),
            (Ok(ShareError::RateLimited { retry_after_secs: 7 }), 429),
            (Ok(ShareError::ServiceTemporarilyUnavailable { reason: "x".into() }), 503),
            (Err("the directory did not answer"), 503),
        ];
        for (e, status) in cases {
            let r = refusal(e.as_ref().map_err(|s| *s));
            assert_eq!(r.status_code().as_u16(), status);
            assert_eq!(header(&r, "cache-control"), "no-store");
            assert!(body(&r).starts_with("<!doctype html>"));
        }
        let r = refusal(Ok(&ShareError::RateLimited { retry_after_secs: 7 }));
        assert_eq!(header(&r, "retry-after"), "7");
    }

    #[test]
    fn escaping_and_origins() {
        assert_eq!(escape("a<b>&\"c'\n"), "a&lt;b&gt;&amp;&quot;c&#39;\u{fffd}");
        assert_eq!(origin("https://x.icp0.io/f/1?a=b"), Some("https://x.icp0.io"));
        assert_eq!(origin("http://127.0.0.1:4943?x"), Some("http://127.0.0.1:4943"));
        assert_eq!(origin("nothing"), None);
        assert_eq!(origin("https://x; script-src *;/f/1"), None);
        assert_eq!(origin("javascript://x/"), None);
    }
}
