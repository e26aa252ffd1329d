//! Devnet time: the wall clock plus an offset tests can move, never going
//! backwards (the IC's `time` is monotonic). A clock made with
//! [`Clock::starting_at`] ignores the wall clock: it stands at its start
//! time and moves only when advanced or set, so runs are reproducible.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ns: i128,
    last_ns: u64,
    /// `Some(start)`: the clock does not follow the wall clock.
    fixed_start_ns: Option<u64>,
}

fn wall_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or(0)
}

impl Clock {
    /// A clock that starts at `start_ns` and moves only by `advance`/`set`.
    pub fn starting_at(start_ns: u64) -> Self {
        Clock { offset_ns: 0, last_ns: start_ns, fixed_start_ns: Some(start_ns) }
    }

    /// A clock resumed from a saved state at `saved_ns`: it follows the
    /// wall clock again (or stands at `saved_ns` if it was `fixed`), and
    /// never reads less than `saved_ns`.
    pub fn resuming_at(saved_ns: u64, fixed: bool) -> Self {
        if fixed {
            Clock::starting_at(saved_ns)
        } else {
            Clock { offset_ns: 0, last_ns: saved_ns, fixed_start_ns: None }
        }
    }

    /// Whether the clock ignores the wall clock.
    pub fn is_fixed(&self) -> bool {
        self.fixed_start_ns.is_some()
    }

    /// What the offset is added to: the wall clock, or the fixed start.
    fn base_ns(&self) -> i128 {
        match self.fixed_start_ns {
            Some(start) => start as i128,
            None => wall_ns(),
        }
    }

    /// Current time without recording it.
    pub fn peek(&self) -> u64 {
        let t = (self.base_ns() + self.offset_ns).clamp(0, u64::MAX as i128) as u64;
        t.max(self.last_ns)
    }

    /// Current time; later calls never return less.
    pub fn now(&mut self) -> u64 {
        self.last_ns = self.peek();
        self.last_ns
    }

    pub fn advance(&mut self, d: Duration) {
        self.offset_ns += d.as_nanos() as i128;
    }

    /// Sets the clock to `ns`; a time before the last observed one is
    /// clamped to it to keep time monotonic.
    pub fn set(&mut self, ns: u64) {
        self.offset_ns = ns as i128 - self.base_ns();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_settable() {
        let mut c = Clock::default();
        let t0 = c.now();
        c.advance(Duration::from_secs(10));
        let t1 = c.now();
        assert!(t1 >= t0 + 10_000_000_000);
        c.set(t0); // backwards: clamped
        assert!(c.now() >= t1);
        c.set(t1 + 1_000_000_000_000);
        assert!(c.now() >= t1 + 1_000_000_000_000);
    }

    #[test]
    fn fixed_start_moves_only_when_told() {
        let mut c = Clock::starting_at(1_000);
        assert_eq!((c.peek(), c.now()), (1_000, 1_000));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(c.now(), 1_000);
        c.advance(Duration::from_nanos(500));
        assert_eq!(c.now(), 1_500);
        c.set(1_200); // backwards: clamped
        assert_eq!(c.now(), 1_500);
        c.set(9_000);
        assert_eq!(c.now(), 9_000);
    }
}
