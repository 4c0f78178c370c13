//! All layouts, and their zips, hold the same logical files with the same bytes; paths are
//! escaped the Velociraptor way; a non-default install on D: lands on drive D.

mod generator_common;

use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, velociraptor_escape, write_tree, write_zip};
use generator_common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// Logical Windows path (lower case) -> CRC32 of the content, for a tree.
fn logical_tree(root: &std::path::Path, layout: Layout) -> BTreeMap<String, u32> {
    walk(root)
        .into_iter()
        .filter_map(|(rel, full)| {
            let win = logical(layout, &rel)?;
            Some((win.to_lowercase(), crc32fast::hash(&std::fs::read(full).unwrap())))
        })
        .collect()
}

#[test]
fn layouts_and_zips_hold_the_same_logical_files() {
    let server = Server::new(ServerSpec { days: 4, first_day: (2021, 3, 2), ..small_spec() });
    let mut reference: Option<BTreeMap<String, u32>> = None;
    let mut truths = Vec::new();
    for layout in Layout::ALL {
        let dir = tempfile::tempdir().unwrap();
        let truth = write_tree(&server, layout, dir.path()).unwrap();
        let files = logical_tree(dir.path(), layout);
        assert!(files.len() > 900, "{layout}: {} files", files.len());
        match &reference {
            None => reference = Some(files.clone()),
            Some(r) => assert_eq!(r, &files, "{layout} differs from drive"),
        }
        // The same truth, modulo the path mapping.
        let mapped: BTreeSet<(String, String, Option<u64>, Option<u64>)> = truth
            .indicators
            .iter()
            .map(|p| (p.rule_id.clone(), logical(layout, &p.path).unwrap().to_lowercase(), p.line, p.record))
            .collect();
        truths.push(mapped);

        // The zip of the layout: same entry names as the tree, same bytes, same truth.
        if matches!(layout, Layout::Kape | Layout::VelociraptorNtfs) {
            let zip_path = dir.path().with_extension("zip");
            let ztruth = write_zip(&server, layout, &zip_path).unwrap();
            assert_eq!(ztruth.indicators, truth.indicators);
            assert_eq!(ztruth.traps, truth.traps);
            assert_eq!(ztruth.layout, format!("{}+zip", layout.name()));
            let mut z = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
            let mut names = Vec::new();
            for i in 0..z.len() {
                let mut e = z.by_index(i).unwrap();
                if e.is_dir() {
                    continue;
                }
                let name = e.name().unwrap().to_string();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                assert_eq!(bytes, std::fs::read(dir.path().join(&name)).unwrap(), "{name}");
                names.push(name);
            }
            let tree: Vec<String> = walk(dir.path()).into_iter().map(|w| w.0).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(sorted, tree);
            std::fs::remove_file(zip_path).unwrap();
        }
    }
    assert!(truths.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn velociraptor_escaping() {
    assert_eq!(velociraptor_escape("C:"), "C%3A");
    assert_eq!(velociraptor_escape(r"\\.\C:"), "%5C%5C.%5CC%3A");
    assert_eq!(velociraptor_escape(".hidden.txt"), "%2Ehidden.txt");
    assert_eq!(velociraptor_escape("100%.log"), "100%25.log");
    assert_eq!(velociraptor_escape("a/b"), "a%2Fb");
    assert_eq!(velociraptor_escape("Program Files"), "Program Files");
    let p = r"C:\Program Files\Microsoft\Exchange Server\V15\Logging\HttpProxy\Owa\HttpProxy_2021030306-1.LOG";
    assert_eq!(
        Layout::Velociraptor.source_path(p),
        "uploads/auto/C%3A/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG"
    );
    assert_eq!(
        Layout::VelociraptorNtfs.source_path(r"C:\Windows\Temp\lsass.dmp"),
        "uploads/ntfs/%5C%5C.%5CC%3A/Windows/Temp/lsass.dmp"
    );
    assert_eq!(Layout::Kape.source_path(r"D:\Exchange\Bin\ExSetup.exe"), "D/Exchange/Bin/ExSetup.exe");
    assert_eq!(
        Layout::Drive.source_path(r"C:\inetpub\logs\LogFiles\W3SVC1\u_ex210303.log"),
        "inetpub/logs/LogFiles/W3SVC1/u_ex210303.log"
    );
    assert_eq!("velociraptor-ntfs".parse::<Layout>().unwrap(), Layout::VelociraptorNtfs);
    assert!("nope".parse::<Layout>().is_err());

    let (dir, truth) = generate(ServerSpec { days: 2, ..small_spec() }, Layout::Velociraptor);
    for f in ["collection_context.json", "log.json", "results/Windows.KapeFiles.Targets%2FAll File Metadata.json"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{f}: {e}"));
        }
    }
    assert!(dir.path().join("uploads/auto/C%3A/Windows/System32/winevt/Logs/Application.evtx").is_file());
    assert!(truth.traps.iter().all(|t| t.path.starts_with("uploads/auto/C%3A/")));
    // Mixed case as on a real system; consumers match case-insensitively.
    let rels: Vec<String> = walk(dir.path()).into_iter().map(|w| w.0).collect();
    for part in [
        "/Program Files/",
        "/inetpub/logs/LogFiles/W3SVC1/",
        "/Logging/HttpProxy/Owa/",
        "/Logging/ECP/Server/",
        "/winevt/Logs/",
        "/OABGeneratorLog/",
    ] {
        assert!(rels.iter().any(|r| r.contains(part)), "{part}");
    }
}

#[test]
fn non_default_install_on_drive_d() {
    let spec = ServerSpec { exchange_path: r"D:\Exchange".into(), days: 10, ..small_spec() };
    let ex = spec.exchange_path.clone();
    let (dir, truth) = generate(spec.clone(), Layout::Kape);
    assert!(dir.path().join("D/Exchange/Logging/HttpProxy/Ecp").is_dir());
    assert!(dir.path().join("D/Exchange/Bin/ExSetup.exe").is_file());
    assert!(dir.path().join("C/inetpub/logs/LogFiles/W3SVC1").is_dir());
    let oab: Vec<_> = truth.indicators.iter().filter(|p| p.rule_id == "EXS-26858-OAB-DOWNLOAD").collect();
    assert_eq!(oab.len(), 2);
    assert!(
        line_at(dir.path(), &oab[0].path, oab[0].line.unwrap())
            .contains(r"'D:\Exchange\FrontEnd\HttpProxy\owa\auth\shell.aspx'")
    );
    let benign_oab = truth.traps.iter().find(|t| t.note.contains("OAB\\Temp")).unwrap();
    assert!(
        line_at(dir.path(), &benign_oab.path, benign_oab.line.unwrap())
            .contains(r"'D:\Exchange\ClientAccess\OAB\Temp\")
    );
    let fired = oracle_scan(dir.path(), Layout::Kape, &ex);
    assert_eq!(fired, truth_keys(&truth));

    let (vdir, vtruth) = generate(spec, Layout::Velociraptor);
    assert!(vdir.path().join("uploads/auto/D%3A/Exchange/Logging/ECP/Server").is_dir());
    assert!(vtruth.indicators.iter().any(|p| p.path.starts_with("uploads/auto/D%3A/Exchange/Logging/")));
}
