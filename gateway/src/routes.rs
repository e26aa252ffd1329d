//! Which request is which: share routes are answered by an update (they
//! resolve the share, which counts a use and signs a URL); everything else
//! is a certified asset, or the certified 404 when there is none.

use depot_api::gateway::{RAW_SUFFIX, SHARE_PATH_PREFIX};
use depot_api::share::parse_share_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/s/<id>`: the share's page.
    SharePage(String),
    /// `/s/<id>/raw`: a redirect to the file itself.
    ShareRaw(String),
    /// Anything else, a share path with a malformed id included: served by
    /// the asset router from certified responses.
    Asset,
}

/// The route of a GET or HEAD to `url` (path and query). Ids are kept in
/// lowercase, the form the directory writes.
pub fn route(method: &str, url: &str) -> Route {
    if method != "GET" && method != "HEAD" {
        return Route::Asset;
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    let Some(rest) = path.strip_prefix(SHARE_PATH_PREFIX) else { return Route::Asset };
    let (id, raw) = match rest.strip_suffix(RAW_SUFFIX) {
        Some(id) => (id, true),
        None => (rest.strip_suffix('/').unwrap_or(rest), false),
    };
    if parse_share_id(id).is_none() {
        return Route::Asset;
    }
    let id = id.to_ascii_lowercase();
    if raw { Route::ShareRaw(id) } else { Route::SharePage(id) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn share_paths_and_everything_else() {
        assert_eq!(route("GET", &format!("/s/{ID}")), Route::SharePage(ID.into()));
        assert_eq!(route("GET", &format!("/s/{ID}/")), Route::SharePage(ID.into()));
        assert_eq!(route("HEAD", &format!("/s/{ID}?utm=x")), Route::SharePage(ID.into()));
        assert_eq!(route("GET", &format!("/s/{ID}/raw")), Route::ShareRaw(ID.into()));
        assert_eq!(route("GET", &format!("/s/{}/raw#x", ID.to_uppercase())), Route::ShareRaw(ID.into()));
        for other in [
            "/",
            "/index.html",
            "/s/",
            "/s/abc",
            &format!("/s/{ID}/raw/x"),
            &format!("/s/{ID}x"),
            &format!("/s/{ID}//raw"),
            &format!("/s/../{ID}"),
            &format!("/x/s/{ID}"),
            &format!("/s/{}", "g".repeat(32)),
        ] {
            assert_eq!(route("GET", other), Route::Asset, "{other:?}");
        }
        assert_eq!(route("POST", &format!("/s/{ID}")), Route::Asset);
    }
}
