//! Saving a running devnet every few seconds, and once more at a clean stop.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{SaveOutcome, StateDir};
use crate::execution::Devnet;

/// How often a running devnet saves what changed: at most this much work
/// is lost to a crash (kill -9, power loss).
pub const DEFAULT_SAVE_INTERVAL: Duration = Duration::from_secs(2);

/// A devnet with its state directory, saved in the background.
pub struct Autosave {
    devnet: Arc<Mutex<Devnet>>,
    dir: Arc<Mutex<StateDir>>,
    task: tokio::task::JoinHandle<()>,
}

impl Autosave {
    /// Starts saving `devnet` into `dir` every `interval`.
    pub fn start(devnet: Arc<Mutex<Devnet>>, dir: StateDir, interval: Duration) -> Self {
        let dir = Arc::new(Mutex::new(dir));
        let (d, s) = (devnet.clone(), dir.clone());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let (d, s) = (d.clone(), s.clone());
                let saved = tokio::task::spawn_blocking(move || save(&d, &s, false)).await;
                if let Ok(Err(e)) = saved {
                    eprintln!("devnet: saving the state failed (will try again): {e}");
                }
            }
        });
        Autosave { devnet, dir, task }
    }

    /// Stops the background saves and saves once more, waiting (up to
    /// `patience`) for calls in flight to finish.
    pub async fn finish(self, patience: Duration) -> Result<SaveOutcome, String> {
        self.task.abort();
        let _ = self.task.await;
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let (d, s) = (self.devnet.clone(), self.dir.clone());
            let outcome = tokio::task::spawn_blocking(move || {
                if let Ok(mut dev) = d.lock() {
                    dev.tick();
                }
                save(&d, &s, true)
            })
            .await
            .map_err(|e| e.to_string())??;
            if outcome != SaveOutcome::Busy || tokio::time::Instant::now() >= deadline {
                return Ok(outcome);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn save(devnet: &Mutex<Devnet>, dir: &Mutex<StateDir>, force: bool) -> Result<SaveOutcome, String> {
    let mut dir = dir.lock().map_err(|_| "state directory lock poisoned")?;
    let mut devnet = devnet.lock().map_err(|_| "devnet lock poisoned")?;
    dir.save(&mut devnet, force)
}
