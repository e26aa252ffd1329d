//! Running real HTTP clients (curl, wget, aria2c) against a `DepotEnv`.

/// `http://<bucket>.localhost:<port>/f/…?…` as `http://127.0.0.1:<port>/f/…?…&canisterId=<bucket>`:
/// wget and aria2c resolve `*.localhost` through DNS, which has no answer
/// here (curl and browsers map it to loopback themselves).
pub fn loopback_url(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let (canister, port) = host.split_once(".localhost:").expect("<bucket>.localhost:<port>");
    format!("http://127.0.0.1:{port}{path}&canisterId={canister}")
}

/// Runs `program` once and panics, with its stderr, unless it succeeds.
pub fn run(program: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `aria2c -x 8 -s 8` into `dir/name`: eight connections, pieces of 1 MiB.
pub fn aria2c(url: &str, dir: &std::path::Path, name: &str) {
    let dir = dir.to_str().unwrap();
    let url = loopback_url(url);
    run("aria2c", &["-q", "-x", "8", "-s", "8", "-k", "1M", "--allow-overwrite=true", "-d", dir, "-o", name, &url]);
}

/// What `depot upload PATH` does with no options: 4 chunks in flight, no
/// progress bar, the file's own name and type.
pub fn plain_upload(path: std::path::PathBuf) -> depot_cli::upload::UploadOpts {
    depot_cli::upload::UploadOpts {
        path,
        name: None,
        mime: None,
        parallel: 4,
        progress: false,
        stop_after: None,
        retention_days: None,
    }
}
