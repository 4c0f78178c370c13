//! Same spec, same bytes (trees and zips); another seed, other bytes; plausible modification
//! times; output grows linearly with the scale.

mod generator_common;

use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree, write_zip};
use generator_common::*;
use std::time::{Duration, SystemTime};

fn tree_bytes(root: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    walk(root).into_iter().map(|(rel, full)| (rel, std::fs::read(full).unwrap())).collect()
}

fn short() -> ServerSpec {
    ServerSpec { days: 5, first_day: (2021, 3, 1), ..small_spec() }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, ta) = generate(short(), Layout::Kape);
    let (b, tb) = generate(short(), Layout::Kape);
    assert_eq!(ta, tb);
    let (ba, bb) = (tree_bytes(a.path()), tree_bytes(b.path()));
    assert_eq!(ba.len(), bb.len());
    for (x, y) in ba.iter().zip(&bb) {
        assert!(x == y, "{} differs", x.0);
    }

    let zd = tempfile::tempdir().unwrap();
    let (za, zb) = (zd.path().join("a.zip"), zd.path().join("b.zip"));
    write_zip(&Server::new(short()), Layout::Velociraptor, &za).unwrap();
    write_zip(&Server::new(short()), Layout::Velociraptor, &zb).unwrap();
    assert!(std::fs::read(&za).unwrap() == std::fs::read(&zb).unwrap(), "zips differ");

    let (c, tc) = generate(ServerSpec { seed: 7, ..short() }, Layout::Kape);
    let bc = tree_bytes(c.path());
    let same = ba.iter().zip(&bc).filter(|(x, y)| x == y).count();
    assert!(same < ba.len() / 10, "{same} of {} files identical across seeds", ba.len());
    // The story is the same; only the benign traffic around it (and line numbers) moves.
    assert_eq!(ta.rule_ids(), tc.rule_ids());
}

#[test]
fn modification_times_are_plausible() {
    let (dir, truth) = generate(short(), Layout::Drive);
    let at = |rel: &str| std::fs::metadata(dir.path().join(rel)).unwrap().modified().unwrap();
    let utc = |y: i32, mo: u32, d: u32, h: u64, mi: u64, s: u64| {
        // Days from 1970-01-01 for dates in 2021.
        let days = [0u32, 31, 59, 90][mo as usize - 1] + d - 1 + 18_628;
        assert_eq!(y, 2021);
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(days) * 86_400 + h * 3600 + mi * 60 + s)
    };
    let ex = "Program Files/Microsoft/Exchange Server/V15";
    assert_eq!(at(&format!("{ex}/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG")), utc(2021, 3, 3, 6, 59, 58));
    assert_eq!(at(&format!("{ex}/Logging/ECP/Server/ECPServer20210303-1.LOG")), utc(2021, 3, 3, 23, 59, 58));
    assert_eq!(at("inetpub/logs/LogFiles/W3SVC1/u_ex210302.log"), utc(2021, 3, 2, 23, 59, 58));
    assert!(
        at(&format!("{ex}/FrontEnd/HttpProxy/owa/auth/logon.aspx")) < utc(2021, 3, 1, 0, 0, 0),
        "installed before the logs"
    );
    let shell = at(&format!("{ex}/FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx"));
    assert!(shell > utc(2021, 3, 3, 6, 49, 0) && shell < utc(2021, 3, 3, 6, 51, 0), "written by the OAB reset");
    // Whole even seconds, which a zip stores exactly.
    for (_, f) in walk(dir.path()) {
        let t = std::fs::metadata(f).unwrap().modified().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!((t.subsec_nanos(), t.as_secs() % 2), (0, 0));
    }
    for d in &truth.files_on_disk {
        assert!(at(&d.path) >= utc(2021, 3, 3, 0, 0, 0), "{} planted on or after the attack day", d.path);
    }
}

/// Total bytes of a tree.
fn size(spec: ServerSpec) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    write_tree(&Server::new(spec), Layout::Drive, dir.path()).unwrap();
    walk(dir.path()).iter().map(|(_, f)| std::fs::metadata(f).unwrap().len()).sum()
}

#[test]
fn bytes_grow_linearly_with_the_scale() {
    let spec = |scale| ServerSpec { scale, days: 2, first_day: (2021, 3, 2), ..ServerSpec::default() };
    let (s1, s2, s4) = (size(spec(0.5)), size(spec(1.0)), size(spec(2.0)));
    // Affine: a fixed part (headers, static files) plus a part proportional to the scale.
    let (d1, d2) = ((s2 - s1) as f64, (s4 - s2) as f64);
    assert!((d2 / d1 - 2.0).abs() < 0.3, "{s1} {s2} {s4}");
    assert!(s4 as f64 / s2 as f64 > 1.6, "{s1} {s2} {s4}");
}
