//! Progress on a terminal: one bar per file, and for a batch an overall bar
//! (files, bytes, rate, time left) above them, as rclone and aria2c show.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

const FILE_TEMPLATE: &str = "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}";
const BATCH_FILE_TEMPLATE: &str = "  {prefix:32!} {bar:24} {bytes:>10}/{total_bytes:<10} {msg}";
const TOTAL_TEMPLATE: &str = "{msg} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}";

/// The bars one file's transfer moves.
#[derive(Clone)]
pub struct Bars {
    pub file: ProgressBar,
    /// The batch's overall bar, when the file is one of several.
    pub total: Option<ProgressBar>,
}

impl Bars {
    /// One file alone: a bar on stderr when `visible`.
    pub fn single(size: u64, visible: bool) -> Self {
        let file = if visible { ProgressBar::new(size) } else { ProgressBar::hidden() };
        file.set_style(ProgressStyle::with_template(FILE_TEMPLATE).expect("valid template"));
        Self { file, total: None }
    }

    pub fn inc(&self, n: u64) {
        self.file.inc(n);
        if let Some(t) = &self.total {
            t.inc(n);
        }
    }

    /// Bytes already there (a resumed transfer): counted, not transferred.
    pub fn already(&self, n: u64) {
        self.file.set_position(n);
        if let Some(t) = &self.total {
            t.inc(n);
        }
    }

    /// Shown beside the file's bar (a batch's bars have a message field).
    pub fn notice(&self, text: &str) {
        self.file.set_message(text.to_string());
    }
}

/// A batch's bars: the overall one first, then a bar per file in flight.
pub struct Batch {
    multi: MultiProgress,
    pub total: ProgressBar,
    files: u64,
}

impl Batch {
    pub fn new(total_bytes: u64, files: u64, visible: bool) -> Self {
        let multi = MultiProgress::new();
        if !visible {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        let total = multi.add(ProgressBar::new(total_bytes));
        total.set_style(ProgressStyle::with_template(TOTAL_TEMPLATE).expect("valid template"));
        let b = Self { multi, total, files };
        b.files_done(0);
        b
    }

    pub fn files_done(&self, done: u64) {
        self.total.set_message(format!("{done}/{} files", self.files));
    }

    /// A bar for one file, named by `label`, below the others.
    pub fn file(&self, label: &str, size: u64) -> Bars {
        let file = self.multi.add(ProgressBar::new(size));
        file.set_style(ProgressStyle::with_template(BATCH_FILE_TEMPLATE).expect("valid template"));
        file.set_prefix(label.to_string());
        Bars { file, total: Some(self.total.clone()) }
    }

    pub fn remove(&self, bars: &Bars) {
        bars.file.finish_and_clear();
        self.multi.remove(&bars.file);
    }

    /// Prints a line above the bars without tearing them.
    pub fn println(&self, line: &str) {
        self.multi.suspend(|| println!("{line}"));
    }

    pub fn finish(&self) {
        self.total.finish_and_clear();
    }
}
