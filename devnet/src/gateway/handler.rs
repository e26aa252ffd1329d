//! Forwards browser requests to `HttpGatewayClient` and streams its answer back.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ic_agent::Agent;
use ic_http_gateway_protocol::{HttpGatewayClient, HttpGatewayRequestArgs};

use super::host::target_of;

/// Largest request body forwarded to a canister (the ingress limit).
const MAX_REQUEST_BODY: usize = 2 * 1024 * 1024;

struct GatewayState {
    client: HttpGatewayClient,
}

/// A router whose fallback serves every non-`/api` request through the gateway.
/// `api_addr` is our own HTTP interface; `root_key_der` verifies its certificates.
pub fn router(api_addr: SocketAddr, root_key_der: Vec<u8>) -> Router {
    let client = match gateway_client(api_addr, root_key_der) {
        Ok(client) => client,
        Err(message) => {
            // Without an agent there is no gateway; say why on every request.
            return Router::new().fallback(move || {
                let message = message.clone();
                async move { (StatusCode::INTERNAL_SERVER_ERROR, message) }
            });
        }
    };
    Router::new().fallback(serve).with_state(Arc::new(GatewayState { client }))
}

fn gateway_client(api_addr: SocketAddr, root_key_der: Vec<u8>) -> Result<HttpGatewayClient, String> {
    let loopback = SocketAddr::new(
        if api_addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { api_addr.ip() },
        api_addr.port(),
    );
    let agent = Agent::builder()
        .with_url(format!("http://{loopback}"))
        .build()
        .map_err(|e| format!("devnet gateway: cannot build agent: {e}"))?;
    agent.set_root_key(root_key_der);
    HttpGatewayClient::builder()
        .with_agent(agent)
        .build()
        .map_err(|e| format!("devnet gateway: cannot build client: {e}"))
}

fn text_response(status: StatusCode, message: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

async fn serve(State(state): State<Arc<GatewayState>>, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let target = match target_of(host.as_deref(), request.uri().query()) {
        Ok(target) => target,
        Err(e) => return text_response(StatusCode::BAD_REQUEST, format!("devnet gateway: {e}")),
    };

    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => return text_response(StatusCode::PAYLOAD_TOO_LARGE, format!("devnet gateway: {e}")),
    };
    // The canister sees the path and query only, as on mainnet.
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut canister_request = http::Request::builder().method(parts.method.clone()).uri(path_and_query);
    for (name, value) in parts.headers.iter().filter(|(name, _)| *name != X_REQUEST_ID) {
        canister_request = canister_request.header(name, value);
    }
    // Like ic-gateway, every request gets a fresh id (a client's own is not
    // trusted). The gateway protocol strips it from what it forwards for
    // the client, but not from its own fetches of further chunks.
    let request_id = new_request_id();
    canister_request = canister_request.header(X_REQUEST_ID, &request_id);
    let canister_request = match canister_request.body(body) {
        Ok(r) => r,
        Err(e) => return text_response(StatusCode::BAD_REQUEST, format!("devnet gateway: bad request: {e}")),
    };

    let mut builder =
        state.client.request(HttpGatewayRequestArgs { canister_request, canister_id: target.canister_id });
    builder.unsafe_set_skip_verification(target.raw);
    let response = builder.send().await;

    let (mut parts, body) = response.canister_response.into_parts();
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        parts.headers.insert(X_REQUEST_ID, v);
    }
    Response::from_parts(parts, Body::new(body))
}

const X_REQUEST_ID: &str = "x-request-id";

/// A random UUID (version 4 layout), as ic-gateway's request ids are UUIDs.
fn new_request_id() -> String {
    let b = (rand::random::<u128>() & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{b:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}
