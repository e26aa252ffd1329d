//! Certified answers to `HEAD`.
//!
//! `ic-asset-certification` certifies every asset with full request
//! certification of a `GET`, so the HTTP gateway, which hashes the request
//! it was sent, cannot verify that response for a `HEAD` (`curl -I` got a
//! 500). For each response the asset router holds, the same status and
//! headers with no body are certified here in the router's own tree, under
//! the same path (the asset's, or the wildcard of its fallback scope),
//! response-only, as the buckets certify theirs. `content-length` stays
//! the length a `GET` returns, as HTTP wants of a `HEAD`.

use ic_asset_certification::{AssetMap, AssetRouter};
use ic_http_certification::utils::add_v2_certificate_header;
use ic_http_certification::{
    CERTIFICATE_EXPRESSION_HEADER_NAME, DefaultCelBuilder, DefaultResponseCertification,
    DefaultResponseOnlyCelExpression, HttpCertification, HttpCertificationPath, HttpCertificationTree,
    HttpCertificationTreeEntry, HttpResponse,
};
use std::collections::HashMap;

/// A `HEAD` answer and where it is certified.
struct Head {
    response: HttpResponse<'static>,
    entry: HttpCertificationTreeEntry<'static>,
}

/// The `HEAD` answers, by asset path and by fallback scope.
#[derive(Default)]
pub struct Heads {
    exact: HashMap<String, Head>,
    scopes: HashMap<String, Head>,
}

/// Every header certified, the body's hash (of nothing) too.
fn cel() -> DefaultResponseOnlyCelExpression<'static> {
    DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::response_header_exclusions(vec![]))
        .build()
}

impl Heads {
    /// Certifies, in `tree`, a `HEAD` answer for the unencoded whole
    /// response `router` holds for each URL of `urls` and each fallback
    /// scope of `scopes` (what its configuration named).
    pub fn certify(
        router: &AssetRouter<'static>,
        tree: &mut HttpCertificationTree,
        urls: &[String],
        scopes: &[String],
    ) -> Self {
        let cel = cel();
        let mut heads = Heads::default();
        for url in urls {
            if let Some(get) = router.get_assets().get(url.as_str(), None, None) {
                let head = Self::head_of(get, HttpCertificationPath::exact(url.clone()), &cel, tree);
                heads.exact.insert(url.clone(), head);
            }
        }
        for scope in scopes {
            if let Some(get) = router.get_fallback_assets().get(scope.as_str(), None, None) {
                let head = Self::head_of(get, HttpCertificationPath::wildcard(scope.clone()), &cel, tree);
                heads.scopes.insert(scope.clone(), head);
            }
        }
        heads
    }

    fn head_of(
        get: &HttpResponse<'_>,
        path: HttpCertificationPath<'static>,
        cel: &DefaultResponseOnlyCelExpression<'static>,
        tree: &mut HttpCertificationTree,
    ) -> Head {
        let mut headers: Vec<(String, String)> = get
            .headers()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(CERTIFICATE_EXPRESSION_HEADER_NAME))
            .cloned()
            .collect();
        headers.push((CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(), cel.to_string()));
        let response = HttpResponse::builder().with_status_code(get.status_code()).with_headers(headers).build();
        // Only a header that is not valid text could fail, and ours are.
        let certification = HttpCertification::response_only(cel, &response, None).expect("a HEAD response certifies");
        let entry = HttpCertificationTreeEntry::new(path, certification);
        tree.insert(&entry);
        Head { response, entry }
    }

    /// The certified `HEAD` answer for `path`: the asset's, else that of
    /// the longest fallback scope holding it, as the router picks for `GET`.
    pub fn serve(
        &self,
        tree: &HttpCertificationTree,
        data_certificate: &[u8],
        path: &str,
    ) -> Option<HttpResponse<'static>> {
        let head = self.exact.get(path).or_else(|| {
            let mut scopes: Vec<&str> = path.split('/').collect();
            scopes.pop();
            while !scopes.is_empty() {
                let scope = format!("{}/", scopes.join("/"));
                if let Some(h) = self.scopes.get(&scope).or_else(|| self.scopes.get(&scope[..scope.len() - 1])) {
                    return Some(h);
                }
                scopes.pop();
            }
            None
        })?;
        let witness = tree.witness(&head.entry, path).ok()?;
        let mut response = head.response.clone();
        add_v2_certificate_header(data_certificate, &mut response, &witness, &head.entry.path.to_expr_path());
        Some(response)
    }
}
