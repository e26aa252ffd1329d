//! Stopping the server: a client that holds a connection open (a browser's
//! preconnect, a `<video>` part-way through a long 206, a request sent in
//! halves) cannot hold the stop open past the grace period, and the port is
//! free again once the stop returns.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use depot_devnet::http::ApiConfig;
use depot_devnet::http::server::SHUTDOWN_GRACE;
use support::fake_ic::{FakeIc, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_client_holding_a_connection_cannot_hold_the_stop_open() {
    let server = start(Arc::new(Mutex::new(FakeIc::new())), ApiConfig::default()).await;
    let addr = server.addr;
    // A whole request, answered: the connection then sits idle (keep-alive).
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /api/v2/status HTTP/1.1\r\nhost: localhost\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    // Half a request head, never finished.
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled.write_all(b"GET /api/v2/status HTTP/1.1\r\nhost: loc").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let began = Instant::now();
    tokio::time::timeout(SHUTDOWN_GRACE * 3, server.stop())
        .await
        .expect("the stop returns although a client holds a connection")
        .unwrap();
    let took = began.elapsed();
    assert!(took >= SHUTDOWN_GRACE, "the stalled request got its grace period ({took:?})");
    // Both connections were closed by the server.
    let mut rest = Vec::new();
    stalled.read_to_end(&mut rest).await.unwrap();
    idle.read_to_end(&mut rest).await.unwrap();
    // The port is free for the next server (what a restart on the same port needs).
    tokio::net::TcpListener::bind(addr).await.expect("the port is free after the stop");
}
