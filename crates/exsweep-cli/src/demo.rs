//! `exsweep demo` (generate a synthetic compromised Exchange server, scan it, print the report)
//! and `exsweep fixtures` (write such a server, with its ground truth, for tests and experiments).

use crate::{FailOn, OutFormat, ScanArgs, fail};
use clap::{Args, ValueEnum};
use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{self, Layout};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LayoutArg {
    /// A copy of the system drive.
    Drive,
    /// KAPE output (`C/...`).
    Kape,
    /// Velociraptor collection (`uploads/auto/C%3A/...`).
    Velociraptor,
    /// Velociraptor collection through the NTFS accessor (`uploads/ntfs/%5C%5C.%5CC%3A/...`).
    VelociraptorNtfs,
}

impl LayoutArg {
    fn layout(self) -> Layout {
        match self {
            LayoutArg::Drive => Layout::Drive,
            LayoutArg::Kape => Layout::Kape,
            LayoutArg::Velociraptor => Layout::Velociraptor,
            LayoutArg::VelociraptorNtfs => Layout::VelociraptorNtfs,
        }
    }
}

#[derive(Args, Clone)]
pub struct ServerArgs {
    /// Source layout to write.
    #[arg(long, value_enum, default_value = "drive")]
    layout: LayoutArg,
    /// Write the source as one zip file instead of a folder.
    #[arg(long)]
    zip: bool,
    /// Seed of the generator (same seed, same bytes).
    #[arg(long, default_value_t = 2021)]
    seed: u64,
    /// Size: 1.0 is about 30 MB of logs; 50 is about 1–2 GB.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// A clean server: benign traffic and look-alikes only, no planted indicators.
    #[arg(long)]
    clean: bool,
    /// Host name of the server.
    #[arg(long, default_value = "EX01")]
    host: String,
}

impl ServerArgs {
    /// The compromised default server at a given size (benchmarks).
    pub fn for_bench(scale: f64, layout: LayoutArg) -> ServerArgs {
        ServerArgs { layout, zip: false, seed: 2021, scale, clean: false, host: "EX01".into() }
    }
}

#[derive(Args, Clone)]
pub struct DemoArgs {
    /// Keep the generated server in this folder instead of a temporary one.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Findings format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Args, Clone)]
pub struct FixturesArgs {
    /// Folder to write into (created; the source is written below it).
    out: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
}

/// Writes the server described by `a` below `dir`; returns the source path and the truth.
pub fn generate(a: &ServerArgs, dir: &Path) -> std::io::Result<(PathBuf, exsweep_fixtures::truth::GroundTruth)> {
    let spec = ServerSpec {
        seed: a.seed,
        host: a.host.clone(),
        compromised: !a.clean,
        scale: a.scale,
        ..ServerSpec::default()
    };
    let server = Server::new(spec);
    std::fs::create_dir_all(dir)?;
    if a.zip {
        let path = dir.join(format!("{}-triage.zip", a.host));
        let truth = layout::write_zip(&server, a.layout.layout(), &path)?;
        Ok((path, truth))
    } else {
        let path = dir.join(&a.host);
        let truth = layout::write_tree(&server, a.layout.layout(), &path)?;
        Ok((path, truth))
    }
}

pub fn run(a: &DemoArgs) -> u8 {
    let tmp;
    let dir = match &a.keep {
        Some(d) => d.clone(),
        None => match tempfile::tempdir() {
            Ok(t) => {
                tmp = t;
                tmp.path().to_path_buf()
            }
            Err(e) => return fail(format!("cannot create a temporary folder: {e}")),
        },
    };
    let started = std::time::Instant::now();
    let (source, truth) = match generate(&a.server, &dir) {
        Ok(v) => v,
        Err(e) => return fail(format!("cannot write the synthetic server: {e}")),
    };
    eprintln!(
        "demo: synthetic Exchange server {} ({} planted indicators) written to {} in {:.2} s\n",
        truth.host,
        truth.indicators.len(),
        source.display(),
        started.elapsed().as_secs_f64()
    );
    let args = ScanArgs {
        sources: vec![source],
        format: a.format,
        output: None,
        collect: None,
        inventory: None,
        threads: None,
        fail_on: FailOn::Never,
        since: "2021-03-03".into(),
        quiet: false,
        sigma: Vec::new(),
        sigma_placeholders: None,
        sweep: crate::intel::SweepArgs::default(),
    };
    match crate::scan(&args) {
        Ok(_) => 0,
        Err(code) => code,
    }
}

pub fn fixtures(a: &FixturesArgs) -> u8 {
    match generate(&a.server, &a.out) {
        Ok((source, truth)) => {
            let truth_path = a.out.join("truth.json");
            if let Err(e) = truth.write_json(&truth_path) {
                return fail(format!("cannot write {}: {e}", truth_path.display()));
            }
            println!("{}", source.display());
            eprintln!(
                "ground truth: {} ({} indicators, {} traps)",
                truth_path.display(),
                truth.indicators.len(),
                truth.traps.len()
            );
            0
        }
        Err(e) => fail(format!("cannot write the synthetic server: {e}")),
    }
}
