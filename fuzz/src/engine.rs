//! A small fuzzing engine for stable Rust (no libFuzzer, no nightly).
//!
//! Each byte target is a function that panics when one of its properties
//! fails. A case is either a fresh input from the target's grammar
//! (`generate`) or a corpus/pool input run through 1–6 random mutations
//! (bit flips, byte edits, insertions and deletions of runs, dictionary
//! tokens, splices with another input, truncation). There is no coverage
//! feedback; the grammars and the dictionaries put inputs past the first
//! checks of every parser, and the mutations explore around them.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// SplitMix64: small, fast, and reproducible from a seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }

    /// Random bytes, `0..max` of them.
    pub fn bytes_below(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        self.bytes(n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A "interesting" integer: edges of every width, small values, or random.
    pub fn interesting_u64(&mut self) -> u64 {
        const EDGES: [u64; 14] = [
            0,
            1,
            2,
            63,
            64,
            255,
            256,
            65_535,
            65_536,
            u32::MAX as u64 - 1,
            u32::MAX as u64,
            1 << 32,
            u64::MAX - 1,
            u64::MAX,
        ];
        match self.below(4) {
            0 => *self.pick(&EDGES),
            1 => self.below(1024) as u64,
            2 => self.next_u64() >> self.below(64),
            _ => self.next_u64(),
        }
    }
}

/// Runs one input; panics when a property fails.
pub type RunFn = Box<dyn Fn(&[u8])>;
/// A fresh input from a grammar.
pub type GenerateFn = Box<dyn Fn(&mut Rng) -> Vec<u8>>;

/// A fuzz target fed with bytes.
pub struct ByteTarget {
    pub name: String,
    /// What the target asserts, one line.
    pub about: &'static str,
    /// Panics when a property fails.
    pub run: RunFn,
    /// A fresh input from the target's grammar.
    pub generate: GenerateFn,
    /// Tokens spliced in by mutation.
    pub dictionary: Vec<Vec<u8>>,
    /// Longest input tried.
    pub max_len: usize,
    /// Built-in seeds (valid signed inputs), added to the corpus.
    pub seeds: Vec<Vec<u8>>,
}

/// A property-based target (proptest), run for a number of cases.
pub struct PropTarget {
    pub name: String,
    pub about: &'static str,
    /// Runs `cases` cases; `Err` is the failure (minimal input and reason).
    pub run: Box<dyn Fn(u32) -> Result<(), String>>,
}

pub enum Target {
    Bytes(ByteTarget),
    Prop(PropTarget),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Bytes(t) => &t.name,
            Target::Prop(t) => &t.name,
        }
    }

    pub fn about(&self) -> &'static str {
        match self {
            Target::Bytes(t) => t.about,
            Target::Prop(t) => t.about,
        }
    }
}

/// One failing input.
#[derive(Clone, Debug)]
pub struct Failure {
    pub input: Vec<u8>,
    pub message: String,
}

/// The outcome of fuzzing one target.
#[derive(Debug)]
pub struct Report {
    pub name: String,
    pub cases: u64,
    pub failures: u64,
    /// The first few distinct failures (by message).
    pub examples: Vec<Failure>,
    pub elapsed: Duration,
}

impl Report {
    pub fn describe_failures(&self) -> String {
        let mut s = String::new();
        for f in &self.examples {
            s.push_str(&format!(
                "  {}: {}\n    input ({} bytes): {}\n    as text: {:?}\n",
                self.name,
                f.message,
                f.input.len(),
                hex(&f.input),
                String::from_utf8_lossy(&f.input)
            ));
        }
        s
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Silences the panic hook while a fuzz case runs on this thread (expected
/// panics would flood the output); outside cases the default hook prints.
pub fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`, returning the panic message if it panicked.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_quiet_panic_hook();
    let was = QUIET.with(|q| q.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    r.map_err(|p| panic_message(&*p))
}

/// Runs one input through a byte target.
pub fn run_one(t: &ByteTarget, input: &[u8]) -> Result<(), String> {
    catch(|| (t.run)(input))
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>], dict: &[Vec<u8>], max_len: usize) {
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        let len = input.len();
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.byte();
            }
            2 if len > 0 => {
                let i = rng.below(len);
                input[i] = *rng.pick(&[0u8, 0x7f, 0x80, 0xff, b'0', b'9', b'-', b',', b'=', b'&', b'?', b'/', b' ']);
            }
            3 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes = rng.bytes(n);
                input.splice(i..i, bytes);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                input.drain(i..i + n);
            }
            5 if len > 0 => {
                // duplicate a run
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                let run: Vec<u8> = input[i..i + n].to_vec();
                let at = rng.below(input.len() + 1);
                input.splice(at..at, run);
            }
            6 | 7 if !dict.is_empty() => {
                let token = rng.pick(dict).clone();
                let i = rng.below(len + 1);
                if rng.one_in(3) && len > 0 {
                    // overwrite
                    let end = (i + token.len()).min(len);
                    input.splice(i..end, token);
                } else {
                    input.splice(i..i, token);
                }
            }
            8 if !pool.is_empty() => {
                // splice: our head with another input's tail
                let other = rng.pick(pool);
                let cut = rng.below(len + 1);
                let ocut = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[ocut..]);
            }
            9 if len > 0 => input.truncate(rng.below(len)),
            _ if len > 0 => {
                // arithmetic on one byte
                let i = rng.below(len);
                input[i] = input[i].wrapping_add((rng.below(33) as u8).wrapping_sub(16));
            }
            _ => input.push(rng.byte()),
        }
    }
    input.truncate(max_len);
}

/// Fuzzes `t` for `cases` cases from `seed`, starting from `corpus`.
pub fn fuzz(t: &ByteTarget, corpus: &[Vec<u8>], cases: u64, seed: u64) -> Report {
    let start = Instant::now();
    let mut rng = Rng::new(seed ^ fnv(t.name.as_bytes()));
    let mut pool: Vec<Vec<u8>> = corpus.to_vec();
    let mut report = Report { name: t.name.clone(), cases: 0, failures: 0, examples: vec![], elapsed: Duration::ZERO };
    for _ in 0..cases {
        let input = if pool.is_empty() || rng.one_in(4) {
            let mut g = (t.generate)(&mut rng);
            g.truncate(t.max_len);
            if pool.len() < 512 {
                pool.push(g.clone());
            } else {
                let i = rng.below(pool.len() - corpus.len()) + corpus.len();
                pool[i] = g.clone();
            }
            g
        } else {
            let mut m = rng.pick(&pool).clone();
            mutate(&mut rng, &mut m, &pool, &t.dictionary, t.max_len);
            m
        };
        report.cases += 1;
        if let Err(message) = run_one(t, &input) {
            report.failures += 1;
            if report.examples.len() < 3 && report.examples.iter().all(|f| f.message != message) {
                report.examples.push(Failure { input, message });
            }
        }
    }
    report.elapsed = start.elapsed();
    report
}

/// Runs a property target.
pub fn run_prop(t: &PropTarget, cases: u32) -> Report {
    let start = Instant::now();
    let r = catch(|| (t.run)(cases)).and_then(|r| r);
    let mut report =
        Report { name: t.name.clone(), cases: cases as u64, failures: 0, examples: vec![], elapsed: start.elapsed() };
    if let Err(message) = r {
        report.failures = 1;
        report.examples.push(Failure { input: vec![], message });
    }
    report
}

/// Fuzzes any target.
pub fn fuzz_target(t: &Target, cases: u64, seed: u64) -> Report {
    match t {
        Target::Bytes(b) => fuzz(b, &[load_corpus(&b.name), b.seeds.clone()].concat(), cases, seed),
        Target::Prop(p) => run_prop(p, cases.min(u32::MAX as u64) as u32),
    }
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, x| (h ^ *x as u64).wrapping_mul(0x100_0000_01b3))
}

/// `fuzz/corpus`.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The corpus of a target: every file of `fuzz/corpus/<target>/`, sorted.
pub fn load_corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = corpus_root().join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return vec![] };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    paths.sort();
    paths.into_iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Writes a corpus file named after its content's hash (idempotent).
pub fn save_corpus_file(target: &str, input: &[u8]) -> std::io::Result<PathBuf> {
    let dir = corpus_root().join(target);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{:016x}", fnv(input)));
    std::fs::write(&path, input)?;
    Ok(path)
}

/// Cases per target: `DEPOT_FUZZ_CASES`, else `default`.
pub fn cases_from_env(default: u64) -> u64 {
    std::env::var("DEPOT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Seed: `DEPOT_FUZZ_SEED`, else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    std::env::var("DEPOT_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The command-line runner shared by the three binaries: fuzzes every
/// target (or those named in the arguments), prints one line per target,
/// saves failing inputs under `fuzz/artifacts/<target>/`, and exits 1 when
/// anything failed. `--list` lists targets, `--write-seeds` adds generated
/// seeds to the corpus.
pub fn main_with(targets: Vec<Target>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        for t in &targets {
            println!("{:<44} {}", t.name(), t.about());
        }
        return;
    }
    if args.iter().any(|a| a == "--write-seeds") {
        let mut rng = Rng::new(1);
        for t in &targets {
            if let Target::Bytes(b) = t {
                for _ in 0..4 {
                    let g = (b.generate)(&mut rng);
                    save_corpus_file(&b.name, &g).expect("write corpus");
                }
            }
        }
        return;
    }
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let cases = cases_from_env(10_000);
    let seed = seed_from_env(now_seed());
    println!("seed {seed}, {cases} cases per target");
    let mut total_fail = 0;
    let mut total_cases = 0;
    let start = Instant::now();
    for t in targets.iter().filter(|t| names.is_empty() || names.iter().any(|n| *n == t.name())) {
        let r = fuzz_target(t, cases, seed);
        println!("{:<44} cases {:>8}  failures {:>4}  {:>7.2}s", r.name, r.cases, r.failures, r.elapsed.as_secs_f64());
        if r.failures > 0 {
            print!("{}", r.describe_failures());
            for f in &r.examples {
                if !f.input.is_empty() {
                    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts").join(&r.name);
                    let _ = std::fs::create_dir_all(&dir);
                    let _ = std::fs::write(dir.join(format!("crash-{:016x}", fnv(&f.input))), &f.input);
                }
            }
        }
        total_fail += r.failures;
        total_cases += r.cases;
    }
    println!("total: cases {total_cases}, failures {total_fail}, {:.1}s", start.elapsed().as_secs_f64());
    if total_fail > 0 {
        std::process::exit(1);
    }
}

fn now_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Replays every corpus file of `t`; returns the failures.
pub fn replay_corpus(t: &ByteTarget) -> (usize, Vec<Failure>) {
    let corpus = [load_corpus(&t.name), t.seeds.clone()].concat();
    let failures = corpus
        .iter()
        .filter_map(|input| run_one(t, input).err().map(|message| Failure { input: input.clone(), message }))
        .collect();
    (corpus.len(), failures)
}

/// What the crate's `cargo test` runs for a set of targets: every corpus
/// file replayed, then a small bounded pass (`DEPOT_FUZZ_TEST_CASES` cases
/// per target, default `default_cases`; fixed seed unless
/// `DEPOT_FUZZ_SEED` is set, so CI is reproducible). Panics with every
/// failure found.
pub fn test_pass(targets: &[Target], default_cases: u64) {
    let cases = std::env::var("DEPOT_FUZZ_TEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    let seed = seed_from_env(0x5eed_de90);
    let mut problems = String::new();
    for t in targets {
        if let Target::Bytes(b) = t {
            let (n, failures) = replay_corpus(b);
            if n == 0 {
                problems.push_str(&format!("{}: empty corpus (fuzz/corpus/{}/)\n", b.name, b.name));
            }
            for f in failures {
                problems.push_str(&format!("{}: corpus input {} fails: {}\n", b.name, hex(&f.input), f.message));
            }
        }
        let r = fuzz_target(t, cases, seed);
        eprintln!("{:<44} cases {:>6}  failures {}", r.name, r.cases, r.failures);
        if r.failures > 0 {
            problems.push_str(&format!("{} (seed {seed}): {} failures\n{}", r.name, r.failures, r.describe_failures()));
        }
    }
    assert!(problems.is_empty(), "fuzzing found problems:\n{problems}");
}
