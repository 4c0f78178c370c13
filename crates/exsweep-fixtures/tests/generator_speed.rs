//! Generation throughput (ignored by default; run in release):
//! `SCALE=10 cargo test --release -p exsweep-fixtures --test generator_speed -- --ignored --nocapture`

mod generator_common;

use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree, write_zip};
use std::time::Instant;

#[test]
#[ignore = "throughput measurement; run in release mode"]
fn generation_throughput() {
    let scale: f64 = std::env::var("SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let server = Server::new(ServerSpec { scale, ..ServerSpec::default() });
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let truth = write_tree(&server, Layout::Kape, dir.path()).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let files = generator_common::walk(dir.path());
    let bytes: u64 = files.iter().map(|(_, f)| std::fs::metadata(f).unwrap().len()).sum();
    eprintln!(
        "scale {scale}: {} files, {:.1} MB, tree in {secs:.2} s ({:.0} MB/s), {} indicators, {} traps",
        files.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        truth.indicators.len(),
        truth.traps.len()
    );
    let zip = dir.path().with_extension("zip");
    let t = Instant::now();
    write_zip(&server, Layout::Kape, &zip).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let zbytes = std::fs::metadata(&zip).unwrap().len();
    eprintln!("zip: {:.1} MB in {secs:.2} s ({:.0} MB/s of content)", zbytes as f64 / 1e6, bytes as f64 / 1e6 / secs);
    std::fs::remove_file(zip).unwrap();
}
