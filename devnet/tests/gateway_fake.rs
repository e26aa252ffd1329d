//! The HTTP gateway (ic-http-gateway-protocol 0.6.2 over ic-agent) serving a
//! canister's `http_request`: verified responses pass, tampered ones are
//! refused, the raw domain skips verification, `upgrade` goes through
//! `http_request_update`. Uses the scripted backend (no wasm).

mod support;

use std::sync::{Arc, Mutex};

use depot_devnet::http::ApiConfig;
use support::fake_ic::{FakeIc, canister, start};
use support::http_cert::{certified_reply, plain_reply, upgrade_reply};

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// GET `path` on our server with the given Host header.
async fn get(addr: std::net::SocketAddr, host: &str, path: &str) -> (u16, String, Option<String>) {
    let response =
        reqwest::Client::new().get(format!("http://{addr}{path}")).header("host", host).send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    (status, response.text().await.unwrap(), content_type)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_tampered_raw_and_upgraded_responses() {
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let certified = {
        let f = fake.lock().unwrap();
        certified_reply(&f.certifier, canister(), now_ns(), "/hello", b"hello world")
    };
    {
        let mut f = fake.lock().unwrap();
        f.certified_data = certified.certified_data.to_vec();
        f.http_reply = Some(certified.reply.clone());
    }
    let server = start(fake.clone(), ApiConfig::default()).await;
    let id = canister().to_text();
    let host = format!("{id}.localhost:{}", server.addr.port());

    // Verified through the subdomain and through ?canisterId=.
    let (status, body, content_type) = get(server.addr, &host, "/hello").await;
    assert_eq!((status, body.as_str()), (200, "hello world"));
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    let (status, body, _) = get(server.addr, "localhost", &format!("/hello?canisterId={id}")).await;
    assert_eq!((status, body.as_str()), (200, "hello world"));

    // A body the certificate does not cover is refused…
    fake.lock().unwrap().http_reply = Some(certified.tampered_reply.clone());
    let (status, body, _) = get(server.addr, &host, "/hello").await;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("verification"), "{body}");
    // …but served as-is on the raw domain.
    let raw_host = format!("{id}.raw.localhost:{}", server.addr.port());
    let (status, body, _) = get(server.addr, &raw_host, "/hello").await;
    assert_eq!((status, body.as_str()), (200, "hello world (tampered)"));

    // upgrade = true: the gateway calls http_request_update (certified by consensus).
    {
        let mut f = fake.lock().unwrap();
        f.http_reply = Some(upgrade_reply());
        f.http_update_reply = Some(plain_reply(b"from update"));
    }
    let (status, body, _) = get(server.addr, &host, "/anything").await;
    assert_eq!((status, body.as_str()), (200, "from update"));

    // The API stays reachable on canister hosts (browser agents use same-origin /api).
    let (status, _, content_type) = get(server.addr, &host, "/api/v2/status").await;
    assert_eq!((status, content_type.as_deref()), (200, Some("application/cbor")));

    // No canister named: a clear 400.
    let (status, body, _) = get(server.addr, "localhost", "/").await;
    assert_eq!(status, 400);
    assert!(body.contains("canisterId"), "{body}");
    server.stop().await.unwrap();
}

mod streaming {
    //! Candid types of a streamed `http_request` reply (callback strategy).
    use candid::{CandidType, Deserialize};

    #[derive(CandidType, Deserialize, Clone)]
    pub struct Token {
        pub chunk: u32,
    }

    #[derive(CandidType, Deserialize)]
    pub struct CallbackReply {
        #[serde(with = "serde_bytes")]
        pub body: Vec<u8>,
        pub token: Option<Token>,
    }

    candid::define_function!(pub Callback : (Token) -> (CallbackReply) query);

    #[derive(CandidType, Deserialize)]
    pub struct CallbackStrategy {
        pub callback: Callback,
        pub token: Token,
    }

    #[derive(CandidType, Deserialize)]
    pub enum StreamingStrategy {
        Callback(CallbackStrategy),
    }

    #[derive(CandidType, Deserialize)]
    pub struct Reply {
        pub status_code: u16,
        pub headers: Vec<(String, String)>,
        #[serde(with = "serde_bytes")]
        pub body: Vec<u8>,
        pub streaming_strategy: Option<StreamingStrategy>,
    }
}

/// A body split over `http_request` and one streaming callback is
/// reassembled by the gateway and verified against the certified hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_body_is_reassembled_and_verified() {
    use streaming::*;
    let fake = Arc::new(Mutex::new(FakeIc::new()));
    let full = b"first half | second half".to_vec();
    let (response, certified_data) = {
        let f = fake.lock().unwrap();
        support::http_cert::certified_response(&f.certifier, canister(), now_ns(), "/big", &full)
    };
    let reply = Reply {
        status_code: 200,
        headers: response.headers().to_vec(),
        body: full[..12].to_vec(),
        streaming_strategy: Some(StreamingStrategy::Callback(CallbackStrategy {
            callback: Callback::new(canister(), "next_chunk".into()),
            token: Token { chunk: 1 },
        })),
    };
    let rest = CallbackReply { body: full[12..].to_vec(), token: None };
    {
        let mut f = fake.lock().unwrap();
        f.certified_data = certified_data.to_vec();
        f.http_reply = Some(candid::encode_one(&reply).unwrap());
        f.query_replies.insert("next_chunk".into(), candid::encode_one(&rest).unwrap());
    }
    let server = start(fake.clone(), ApiConfig::default()).await;
    let host = format!("{}.localhost:{}", canister().to_text(), server.addr.port());
    let (status, body, _) = get(server.addr, &host, "/big").await;
    assert_eq!((status, body.as_bytes()), (200, full.as_slice()));

    // A tampered callback chunk breaks the certified hash of the whole body.
    let forged = CallbackReply { body: b"forged half".to_vec(), token: None };
    fake.lock().unwrap().query_replies.insert("next_chunk".into(), candid::encode_one(&forged).unwrap());
    let (status, body, _) = get(server.addr, &host, "/big").await;
    assert_eq!(status, 500, "{body}");
    server.stop().await.unwrap();
}
