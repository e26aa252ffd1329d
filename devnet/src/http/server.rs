//! Serving the HTTP interface: binds, ticks the state machine in the
//! background (timers, queued messages) and shuts down on request.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

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

/// Serves until `shutdown` resolves.
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
    // Without TCP_NODELAY, small responses wait for the client's delayed ACK
    // (~40 ms on Linux loopback), capping sequential calls at ~25/s.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let result = axum::serve(listener, app(state, gateway)).with_graceful_shutdown(shutdown).await;
    ticker.abort();
    result
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
