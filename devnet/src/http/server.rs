//! Serving the HTTP interface: binds, ticks the state machine in the
//! background (timers, queued messages) and shuts down on request.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};

use super::backend::Backend;
use super::state::{ApiConfig, ApiState};

/// How often the background task ticks the state machine.
pub const TICK_INTERVAL: Duration = Duration::from_millis(100);

/// A running server's address and the handle to stop it.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub root_key_der: Vec<u8>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the server to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Builds the full app: `/api/…` plus the HTTP gateway for everything else.
pub fn app(state: Arc<ApiState>, gateway: Router) -> Router {
    super::api_router(state).merge(gateway)
}

/// Starts serving on `listener` (on the current tokio runtime).
pub async fn spawn(
    listener: TcpListener,
    backend: Arc<Mutex<dyn Backend>>,
    config: ApiConfig,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let root_key_der = super::state::lock(&backend).certifier().root_key_der();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, backend, config, async {
        let _ = rx.await;
    }));
    Ok(RunningServer { addr, root_key_der, shutdown: Some(tx), task })
}

/// How long a stop waits for open connections to finish their requests
/// before closing them. Browsers keep connections open (preconnects, a
/// `<video>` streaming a long 206), and a stop must not wait on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Serves until `shutdown` resolves, then lets open connections finish for
/// at most [`SHUTDOWN_GRACE`] and closes the rest.
pub async fn run(
    listener: TcpListener,
    backend: Arc<Mutex<dyn Backend>>,
    config: ApiConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = Arc::new(ApiState::new(backend, config));
    let ticker = tokio::spawn(tick_forever(state.clone()));
    let addr = listener.local_addr()?;
    let gateway = crate::gateway::router(addr, state.root_key_der.clone());
    let app = app(state, gateway);
    let (drain_tx, drain_rx) = tokio::sync::watch::channel(());
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(serve_connection(tcp, app.clone(), drain_rx.clone()));
                }
                // Out of file descriptors and the like: the listener is fine,
                // so wait a little instead of spinning on the same error.
                Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
            },
        }
    }
    drop(listener);
    let _ = drain_tx.send(());
    let drained =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        eprintln!(
            "devnet: closing {} connection(s) still busy {} s after the stop",
            connections.len(),
            SHUTDOWN_GRACE.as_secs()
        );
        connections.shutdown().await;
    }
    ticker.abort();
    Ok(())
}

/// How long accepting pauses after an error (e.g. too many open files).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// One connection, HTTP/1 or HTTP/2 with prior knowledge (upgrades included), until it ends or a
/// stop asks it to finish its requests and close.
async fn serve_connection(tcp: TcpStream, app: Router, mut drain: tokio::sync::watch::Receiver<()>) {
    // Without TCP_NODELAY, small responses wait for the client's delayed ACK
    // (~40 ms on Linux loopback), capping sequential calls at ~25/s.
    let _ = tcp.set_nodelay(true);
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(app));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = drain.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn tick_forever(state: Arc<ApiState>) {
    let mut interval = tokio::time::interval(TICK_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if state.with_backend(|b| b.tick()).await.is_err() {
            return;
        }
    }
}
