//! The gateway canister: the web app (`www/`, embedded at build time) and
//! share links (issue 12).
//!
//! - `GET /s/<id>` and `/s/<id>/raw`: the query answers `upgrade`, and the
//!   update asks the directory to resolve the share (`resolve_share`, which
//!   counts a use and signs a fresh URL), then answers the share page, a
//!   307 to the file, or an error page (`pages.rs`). An update's reply is
//!   certified by consensus: no tree entry is needed.
//! - Everything else: certified responses from `assets.rs`.
//!
//! Endpoints are thin: routing (`routes.rs`) and pages are plain functions
//! tested natively.

pub mod assets;
pub mod head;
pub mod pages;
pub mod routes;
pub mod state;

use depot_api::gateway::GatewayInit;
use depot_api::share::ResolveShareResult;
use ic_cdk::{init, inspect_message, post_upgrade, query, update};
use ic_http_certification::{HttpRequest, HttpResponse, HttpUpdateRequest, HttpUpdateResponse};
use routes::Route;

fn install_certification() {
    let init = state::init_args().expect("the gateway is installed with its GatewayInit");
    ic_cdk::api::set_certified_data(&assets::certify(&init));
}

/// No argument at all is an empty `GatewayInit` (icp-cli installs with
/// none unless icp.yaml gives `init_args`).
#[init]
fn init(args: Option<GatewayInit>) {
    let env_directory = depot_api::canister_env::public_canister_id("directory");
    let settings = state::Settings::resolve(args.unwrap_or_default(), env_directory)
        .unwrap_or_else(|e| ic_cdk::trap(&format!("invalid GatewayInit: {e}")));
    state::set_init(settings);
    install_certification();
}

#[post_upgrade]
fn post_upgrade() {
    // The settings are in stable memory; the certified assets are rebuilt.
    install_certification();
}

/// Largest `http_request_update` argument admitted: a GET's URL and
/// headers (no body); far above real header sizes, as the bucket's.
pub const MAX_HTTP_UPDATE_ARG_BYTES: usize = 64 * 1024;

/// Candid skipping quota for that argument: it has no fields to skip.
pub const INGRESS_SKIPPING_QUOTA: usize = 10_000;

/// Only the share routes' updates are accepted from ingress: the HTTP
/// gateway sends them after the query asked for an upgrade. Anything else
/// (another method, a path with no share, an oversized or malformed
/// argument) is refused before the gateway pays for it; the argument is
/// decoded with a size cap and a skipping quota, so a Candid bomb costs
/// nothing.
#[inspect_message]
fn inspect_message() {
    let method = ic_cdk::api::call::method_name();
    let admitted =
        method == "http_request_update" && ic_cdk::api::call::arg_data_raw_size() <= MAX_HTTP_UPDATE_ARG_BYTES && {
            let mut config = candid::de::DecoderConfig::new();
            config.set_skipping_quota(INGRESS_SKIPPING_QUOTA);
            candid::utils::decode_one_with_config::<HttpUpdateRequest>(&ic_cdk::api::call::arg_data_raw(), &config)
                .is_ok_and(|req| routes::route(req.method().as_str(), req.url()) != Route::Asset)
        };
    if admitted {
        ic_cdk::api::call::accept_message();
    } else {
        ic_cdk::trap(&format!("{method}: only share links are answered by update"));
    }
}

#[query]
fn http_request(req: HttpRequest<'static>) -> HttpResponse<'static> {
    match routes::route(req.method().as_str(), req.url()) {
        Route::SharePage(_) | Route::ShareRaw(_) => HttpResponse::builder().with_upgrade(true).build(),
        Route::Asset => {
            let cert = ic_cdk::api::data_certificate().unwrap_or_default();
            assets::serve(&cert, &req)
        }
    }
}

#[update]
async fn http_request_update(req: HttpUpdateRequest<'static>) -> HttpUpdateResponse<'static> {
    let (id, raw) = match routes::route(req.method().as_str(), req.url()) {
        Route::SharePage(id) => (id, false),
        Route::ShareRaw(id) => (id, true),
        // inspect_message admits no such ingress; a canister's call gets the 404.
        Route::Asset => return pages::refusal(Ok(&depot_api::share::ShareError::NotFound)).into(),
    };
    let Some(directory) = state::directory() else {
        return pages::refusal(Err("the gateway is not installed with a directory")).into();
    };
    let reply: Result<(ResolveShareResult,), _> = ic_cdk::call(directory, "resolve_share", (id,)).await;
    let resp = match reply {
        Ok((Ok(r),)) if raw => pages::raw_redirect(&r),
        Ok((Ok(r),)) => pages::share_page(&r),
        Ok((Err(e),)) => pages::refusal(Ok(&e)),
        Err((_, why)) => pages::refusal(Err(&format!("the directory did not answer ({why})"))),
    };
    resp.into()
}

// `__export_service()` for the interface test, and the candid:service
// metadata the build adds.
ic_cdk::export_candid!();

#[cfg(test)]
mod tests;
