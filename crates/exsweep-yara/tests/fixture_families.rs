//! exsweep's built-in rules over the synthetic server's planted files: every file whose content
//! carries its family's public traits (`expect: rule`) is matched by a built-in rule of that
//! family, and no legitimate Exchange file is matched at all.

use exsweep_core::model::Finding;
use exsweep_core::source::{Entry, Locator, LogicalPath};
use exsweep_core::sweep::{FileCheck, FileHashes, SweptFile};
use exsweep_core::time::Timestamp;
use exsweep_fixtures::generator::{Server, ServerSpec};
use exsweep_fixtures::layout::{Layout, write_tree};
use exsweep_yara::{LoadOptions, ScanSettings, YaraCheck, YaraRules};

fn scan(check: &YaraCheck, rel: &str, data: &[u8]) -> Vec<Finding> {
    let lp =
        LogicalPath { drive: Some('c'), parts: rel.split('/').map(|s| s.to_lowercase()).collect(), anchored: true };
    let win = format!("C:\\{}", rel.replace('/', "\\"));
    let entry = Entry {
        rel_path: rel.into(),
        size: data.len() as u64,
        mtime: None,
        created: None,
        accessed: None,
        locator: Locator::Fs(rel.into()),
    };
    let hashes = FileHashes::of(data);
    let file = SweptFile {
        source: 0,
        path: rel,
        logical: &lp,
        windows_path: &win,
        located: None,
        entry: &entry,
        hashes: &hashes,
        data,
        window_start: Timestamp(0),
        folder_mtime: None,
    };
    let mut out = Vec::new();
    check.check(&file, &mut out);
    out
}

/// The built-in rule ids that describe a family.
fn rules_of(family: &str) -> &'static [&'static str] {
    match family {
        "china_chopper" => {
            &["EXS-YARA-CHOPPER", "EXS-YARA-CHOPPER-FORM", "EXS-YARA-CHOPPER-OBFUSCATED", "EXS-YARA-CHOPPER-BASE64"]
        }
        "oab_dump" => &["EXS-YARA-OAB-DUMP"],
        "secchecker" => &["EXS-YARA-SECCHECKER"],
        "sportsball" => &["EXS-YARA-SPORTSBALL"],
        "regeorg" => &["EXS-YARA-REGEORG"],
        "simpleseesharp" => &["EXS-YARA-SIMPLESEESHARP"],
        "streamwriter" | "csharp_uploader" => &["EXS-YARA-ASPX-DROPPER"],
        "file_explorer" => &["EXS-YARA-FILE-EXPLORER"],
        "compiled_webshell" => &["EXS-YARA-COMPILED-WEBSHELL"],
        "lsass_dump_procdump" | "lsass_dump_comsvcs" => &["EXS-YARA-LSASS-MINIDUMP"],
        "powercat_batch" => &["EXS-YARA-POWERCAT"],
        "nishang_tcp_oneliner" => &["EXS-YARA-NISHANG-TCP"],
        "recon_cab" => &["EXS-YARA-RECON-CAB"],
        _ => &[],
    }
}

#[test]
fn every_planted_family_is_found_by_its_rule_and_legitimate_files_by_none() {
    let rules = YaraRules::load(&LoadOptions::default());
    assert!(rules.problems.is_empty(), "{:?}", rules.problems);
    let check = YaraCheck::new(rules, ScanSettings::default());
    for spec in [
        ServerSpec { days: 2, first_day: (2021, 3, 3), scale: 0.0, ..ServerSpec::default() },
        ServerSpec {
            host: "MAIL03".into(),
            domain: "corp.example.org".into(),
            seed: 99,
            days: 3,
            scale: 0.0,
            ..ServerSpec::default()
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let truth = write_tree(&Server::new(spec), Layout::Drive, dir.path()).unwrap();
        let mut misses = Vec::new();
        let mut checked = 0;
        for f in &truth.files_on_disk {
            let data = std::fs::read(dir.path().join(&f.path)).unwrap();
            let hits: Vec<String> = scan(&check, &f.path, &data).into_iter().map(|x| x.rule_id).collect();
            if f.expect.iter().any(|e| e == "rule") {
                checked += 1;
                let want = rules_of(&f.family);
                if !hits.iter().any(|h| want.contains(&h.as_str())) {
                    misses.push(format!("{} ({} {}): hits {hits:?}", f.path, f.family, f.variant));
                }
            }
        }
        assert!(misses.is_empty(), "planted files the built-in rules miss:\n{}", misses.join("\n"));
        assert!(checked >= 25, "{checked}");
        for legit in &truth.legit_files {
            let data = std::fs::read(dir.path().join(legit)).unwrap();
            let hits = scan(&check, legit, &data);
            assert!(hits.is_empty(), "{legit}: {:?}", hits.iter().map(|h| &h.rule_id).collect::<Vec<_>>());
        }
        assert!(truth.legit_files.len() >= 20);
    }
}
