//! Project automation: `cargo xtask <command>`.
//!
//! - `test`: the whole test suite (what CI runs); checks that `../shared/fixtures` is present first.
//! - `fuzz [SECONDS]`: runs every `cargo fuzz` target for SECONDS each (default 600).
//! - `bench-compare`: whole-process and in-process comparison against sigstore-python (see `scripts/`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> bool {
    eprintln!("xtask: running {cmd:?}");
    cmd.status().map(|s| s.success()).unwrap_or(false)
}

fn test() -> bool {
    let fixtures = root().join("../shared/fixtures/conformance/bundle-verify");
    if !fixtures.is_dir() {
        eprintln!("xtask: {} is missing: the shared fixtures must sit beside the checkout", fixtures.display());
        return false;
    }
    run(Command::new("cargo").current_dir(root()).args(["test", "--workspace", "--all-targets", "--no-fail-fast"]))
        && run(Command::new("cargo").current_dir(root()).args(["test", "--workspace", "--doc"]))
}

fn fuzz(seconds: &str) -> bool {
    let targets = ["bundle", "trusted_root", "checkpoint", "certificate", "timestamp"];
    let mut ok = true;
    for t in targets {
        ok &= run(Command::new("cargo")
            .current_dir(root().join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", t, "--", &format!("-max_total_time={seconds}")]));
    }
    ok
}

fn bench_compare() -> bool {
    run(Command::new("bash").current_dir(root()).arg("scripts/bench-compare.sh"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("fuzz") => fuzz(args.get(1).map(String::as_str).unwrap_or("600")),
        Some("bench-compare") => bench_compare(),
        _ => {
            eprintln!("usage: cargo xtask (test | fuzz [SECONDS] | bench-compare)");
            false
        }
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
