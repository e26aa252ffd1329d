//! Folders and many files with the `depot` CLI (issue 16): `upload -r`
//! with relative names, waits instead of rate-limit errors, `--json` line
//! by line, `--skip-existing`, `download --all` back to identical bytes,
//! and the binary as `cargo install` puts it on a PATH.

use depot_api::directory::DirectoryInit;
use depot_cli::batch::{self, ManyOpts, Uploaded};
use depot_cli::download::DownloadOpts;
use depot_tests::env::{DepotEnv, EnvOpts};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Chunks of 64 KiB (the smallest), so that a multi-chunk file is small.
const CHUNK: usize = depot_api::limits::MIN_CHUNK_SIZE as usize;

fn pattern(n: usize, salt: u32) -> Vec<u8> {
    (0..n).map(|i| ((i as u32 ^ salt).wrapping_mul(2654435761) >> 11) as u8).collect()
}

/// 50 small files over three levels of folders and two multi-chunk files:
/// relative name → content.
fn make_folder(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for i in 0..50u32 {
        let name = match i % 3 {
            0 => format!("notes/n{i:02}.txt"),
            1 => format!("photos/2024/summer {i:02}.jpg"),
            _ => format!("top-{i:02}.bin"),
        };
        files.insert(name, pattern(100 + i as usize * 37, i));
    }
    files.insert("video/clip.mp4".into(), pattern(CHUNK * 2 + 1234, 77));
    files.insert("video/raw/take 2.mov".into(), pattern(CHUNK * 3, 78));
    for (name, bytes) in &files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    files
}

/// Every file under `root`, by its path relative to it.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn init(starts_per_minute: Option<u32>) -> DirectoryInit {
    DirectoryInit {
        chunk_size: Some(CHUNK as u32),
        start_upload_per_minute: starts_per_minute,
        ..DirectoryInit::default()
    }
}

/// At 5 starts a minute the 52 files need about ten minutes of the IC's
/// time: the client waits each refusal out (here the waits run devnet's
/// clock forward instead of the test's) and every file goes through,
/// uploads and waits overlapping over 4 files in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_goes_through_a_rate_limit_of_5_a_minute_without_errors() {
    let env =
        DepotEnv::start(EnvOpts { buckets: 1, directory_init: init(Some(5)), ..EnvOpts::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("holiday");
    let files = make_folder(&folder);

    let mut client = env.client(DepotEnv::identity(21)).await.unwrap();
    client.max_wait = Some(depot_cli::upload::DEFAULT_MAX_WAIT);
    let waited = Arc::new(AtomicU64::new(0));
    let (devnet, w) = (env.devnet.clone(), waited.clone());
    client.sleep = Arc::new(move |d: Duration| {
        // Several files wait at once; the clock moves by the longest wait.
        let mut dev = devnet.lock().unwrap_or_else(|p| p.into_inner());
        dev.advance_time(d);
        w.fetch_add(d.as_secs(), Ordering::Relaxed);
        Box::pin(async {})
    });

    let collected = batch::collect(std::slice::from_ref(&folder), true, None).unwrap();
    assert_eq!(collected.jobs.len(), 52);
    let opts = ManyOpts {
        parallel_files: 4,
        parallel: 2,
        mime: None,
        retention_days: None,
        skip_existing: false,
        progress: false,
        urls: false,
    };
    let mut errors = vec![];
    let summary = batch::upload_many(&client, &tmp.path().join("cfg"), collected.jobs, &opts, |_, done| {
        if let Err(e) = &done.result {
            errors.push(format!("{}: {e:#}", done.job.name));
        }
    })
    .await
    .unwrap();
    assert!(errors.is_empty(), "no file fails: {errors:?}");
    assert_eq!((summary.done, summary.skipped, summary.failed), (52, 0, 0));
    assert_eq!(summary.bytes, files.values().map(|b| b.len() as u64).sum::<u64>());
    // 52 starts at 5 a minute: at least 9 windows' worth of waiting.
    let waited = waited.load(Ordering::Relaxed);
    assert!(waited >= 9 * 55, "it waited the limit out ({waited} s of waits)");

    // Every relative name is listed, and every file is whole.
    let stored = batch::list_all(&client, false).await.unwrap();
    let names: Vec<&str> = stored.iter().map(|f| f.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, files.keys().map(String::as_str).collect::<Vec<_>>());
    for f in &stored {
        let bytes = env.with_devnet(|d| depot_tests::books::download(d, &env.deployment, &f.file_id)).unwrap();
        assert_eq!(&bytes, &files[&f.name], "{}", f.name);
    }
}

/// `--skip-existing` sends nothing for files stored with the same name,
/// size and SHA-256, and sends a changed file; downloads of several files
/// land in their folders, verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_existing_and_download_all_by_prefix() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init(None), ..EnvOpts::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("docs");
    std::fs::create_dir_all(folder.join("a/b")).unwrap();
    std::fs::write(folder.join("one.txt"), b"one").unwrap();
    std::fs::write(folder.join("a/two.txt"), b"two").unwrap();
    std::fs::write(folder.join("a/b/three.bin"), pattern(CHUNK + 5, 3)).unwrap();
    let client = env.client(DepotEnv::identity(22)).await.unwrap();
    let cfg = tmp.path().join("cfg");
    let opts = |skip_existing| ManyOpts {
        parallel_files: 2,
        parallel: 2,
        mime: None,
        retention_days: None,
        skip_existing,
        progress: false,
        urls: true,
    };
    let run = |opts: ManyOpts| {
        let jobs = batch::collect(std::slice::from_ref(&folder), true, None).unwrap().jobs;
        let (client, cfg) = (&client, &cfg);
        async move {
            let mut outcome = BTreeMap::new();
            let s = batch::upload_many(client, cfg, jobs, &opts, |_, done| {
                let what = match &done.result {
                    Ok(Uploaded::Sent { url, .. }) => {
                        assert!(url.as_deref().is_some_and(|u| u.contains("/f/")), "a signed URL: {url:?}");
                        "sent"
                    }
                    Ok(Uploaded::Skipped(_)) => "skipped",
                    Err(e) => panic!("{}: {e:#}", done.job.name),
                };
                outcome.insert(done.job.name.clone(), what);
            })
            .await
            .unwrap();
            (s, outcome)
        }
    };
    let (s, _) = run(opts(true)).await;
    assert_eq!((s.done, s.skipped), (3, 0));
    std::fs::write(folder.join("a/two.txt"), b"TWO").unwrap();
    let (s, outcome) = run(opts(true)).await;
    assert_eq!((s.done, s.skipped), (1, 2));
    assert_eq!(outcome["a/two.txt"], "sent", "changed bytes, same size: sent again");
    assert_eq!(outcome["one.txt"], "skipped");

    // `download --all --prefix a/`: the newest a/two.txt and a/b/three.bin
    // (the old a/two.txt too: both are stored, and the second one to reach
    // the same path is refused, never written over the first).
    let all = batch::list_all(&client, false).await.unwrap();
    let picked: Vec<_> = all.into_iter().filter(|f| f.name.starts_with("a/")).collect();
    assert_eq!(picked.len(), 3);
    let out = tmp.path().join("back");
    let mut failures = vec![];
    let s = batch::download_many(&client, picked.clone(), &out, &DownloadOpts::default(), 2, |_, done| {
        if let Err(e) = &done.result {
            failures.push(format!("{e:#}"));
        }
    })
    .await
    .unwrap();
    assert_eq!((s.done, s.failed), (2, 1));
    assert!(failures[0].contains("would both be written to"), "{failures:?}");
    let tree = read_tree(&out);
    assert_eq!(tree.keys().collect::<Vec<_>>(), ["a/b/three.bin", "a/two.txt"]);
    assert_eq!(tree["a/b/three.bin"], pattern(CHUNK + 5, 3));
    assert!(tree["a/two.txt"] == b"TWO" || tree["a/two.txt"] == b"two");

    // Run again: what is there already is skipped, not refused or fetched.
    let s = batch::download_many(&client, picked, &out, &DownloadOpts::default(), 2, |_, _| {}).await.unwrap();
    assert_eq!((s.done, s.skipped, s.failed), (0, 2, 1));
    assert_eq!(read_tree(&out), tree);
}

/// The binary as `cargo install --path cli` installs it, run as a person
/// would: the README's quick start, then a folder with `-r --json` and
/// `download --all` back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_depot_binary_runs_the_quick_start_and_a_folder_round_trip() {
    let env = DepotEnv::start(EnvOpts { buckets: 1, directory_init: init(None), ..EnvOpts::default() }).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let depot = install(tmp.path());
    let config = tmp.path().join("config");
    let run = |args: &[&str]| -> std::process::Output {
        let out = std::process::Command::new(&depot)
            .args(["--network", &env.url(), "--directory", &env.directory().to_text()])
            .args(args)
            .env("DEPOT_CONFIG_DIR", &config)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "depot {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let stdout = |o: std::process::Output| String::from_utf8(o.stdout).unwrap();
    let version = std::process::Command::new(&depot).arg("--version").output().unwrap();
    assert_eq!(stdout(version).trim(), format!("depot {}", env!("CARGO_PKG_VERSION")));

    // The quick start: upload, ls, url, then the URL with curl.
    let photo = tmp.path().join("photo.jpg");
    std::fs::write(&photo, pattern(CHUNK + 99, 9)).unwrap();
    let out = stdout(run(&["upload", photo.to_str().unwrap()]));
    let mut lines = out.lines();
    let id = lines.next().unwrap().split_whitespace().next().unwrap().to_string();
    assert_eq!(id.len(), 32, "{out}");
    assert!(lines.next().is_some_and(|u| u.starts_with("http://")), "{out}");
    assert!(stdout(run(&["ls"])).contains("photo.jpg"));
    let url = stdout(run(&["url", &id, "--download"])).trim().to_string();
    let fetched = tmp.path().join("fetched.jpg");
    depot_tests::clients::run("curl", &["-sf", "-o", fetched.to_str().unwrap(), &url]);
    assert_eq!(std::fs::read(&fetched).unwrap(), std::fs::read(&photo).unwrap());

    // A folder, one JSON object per line, then the summary.
    let folder = tmp.path().join("holiday");
    let files = make_folder(&folder);
    let out = stdout(run(&["upload", "-r", folder.to_str().unwrap(), "--json"]));
    let objects: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (summary, per_file) = objects.split_last().unwrap();
    assert_eq!(summary["summary"]["done"], 52, "{summary}");
    assert_eq!(summary["summary"]["failed"], 0);
    assert_eq!(per_file.len(), 52);
    for o in per_file {
        let name = o["name"].as_str().unwrap();
        assert_eq!(o["size"], files[name].len(), "{o}");
        assert_eq!(o["file_id"].as_str().unwrap().len(), 32);
        assert!(o["url"].as_str().unwrap().contains("/f/"), "{o}");
    }
    let listed = stdout(run(&["ls", "--json"]));
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    for name in files.keys() {
        assert!(listed.iter().any(|f| f["name"] == name.as_str()), "{name} is listed");
    }

    // Back into a folder: identical bytes, the same tree.
    let back = tmp.path().join("back");
    let out = stdout(run(&["download", "--all", "--prefix", "", "-o", back.to_str().unwrap(), "--json"]));
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["done"], 53, "{out}");
    let mut expected = files.clone();
    expected.insert("photo.jpg".into(), std::fs::read(&photo).unwrap());
    assert_eq!(read_tree(&back), expected);

    // Again, with --skip-existing: nothing is sent.
    let out = stdout(run(&["upload", "-r", folder.to_str().unwrap(), "--skip-existing", "--json"]));
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!((summary["summary"]["done"].as_u64(), summary["summary"]["skipped"].as_u64()), (Some(0), Some(52)));
}

/// `cargo install --path cli --root <tmp>`, into the workspace's target
/// directory so that nothing is built twice (a debug build: the same
/// binary, built faster).
fn install(root: &Path) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or(workspace.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["install", "--locked", "--debug", "--quiet", "--path"])
        .arg(workspace.join("cli"))
        .arg("--root")
        .arg(root)
        .arg("--target-dir")
        .arg(target)
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo install: {}", String::from_utf8_lossy(&out.stderr));
    root.join("bin/depot")
}
