//! Bad input: every case names the file in a coverage finding with the reason, the scan goes on,
//! and every other finding is still reported.

mod common;

use common::*;
use exsweep_core::model::Severity;
use exsweep_core::source::ZipLimits;
use exsweep_core::{Engine, ScanOptions, ScanReport};
use std::io::Write;
use std::path::Path;

const ATTACK_AM: &str = "ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp?#";

/// A valid Ecp HttpProxy file with one SSRF row, so every test can check that other findings survive.
fn attack_file() -> String {
    format!(
        "{}{}\r\n",
        httpproxy_header("15.01.2176.002", "2021-03-03T06:00:00.000Z"),
        httpproxy_row(&[("AnchorMailbox", ATTACK_AM), ("HttpStatus", "241"), ("Protocol", "Ecp")])
    )
}

fn with_attack(root: &Path) {
    write(root, &format!("{EX}/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"), attack_file());
}

fn assert_attack_found(r: &ScanReport) {
    assert!(
        by_rule(r, "EXS-26855-SERVERINFO")
            .iter()
            .any(|f| f.evidence.contains("proxyLogon.ecp") && f.path.contains("Ecp/")),
        "the valid attack row must still be reported"
    );
}

/// The coverage finding for `path_end`, with a reason containing `why`.
fn assert_coverage(r: &ScanReport, path_end: &str, why: &str) {
    let f =
        r.findings.iter().find(|f| f.rule_id == "EXS-COV-FILE" && f.path.ends_with(path_end)).unwrap_or_else(|| {
            panic!(
                "no coverage finding for {path_end}; have: {:?}",
                r.findings
                    .iter()
                    .filter(|f| f.rule_id == "EXS-COV-FILE")
                    .map(|f| (&f.path, &f.evidence))
                    .collect::<Vec<_>>()
            )
        });
    assert!(f.evidence.contains(why), "{path_end}: reason {:?} lacks {why:?}", f.evidence);
    assert!(f.title.contains(path_end.rsplit('/').next().unwrap()));
}

fn ssrf_line(time: &str) -> String {
    httpproxy_row(&[("DateTime", time), ("AnchorMailbox", ATTACK_AM), ("Protocol", "Owa")])
}

#[test]
fn truncated_file_keeps_rows_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    let full = format!(
        "{}{}\r\n{}",
        httpproxy_header("15.01.2176.002", "2021-03-03T07:00:00.000Z"),
        ssrf_line("2021-03-03T07:00:01.000Z"),
        ssrf_line("2021-03-03T07:00:02.000Z")
    );
    let cut = &full[..full.len() - 200];
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030307-1.LOG"), cut);
    let r = scan(&[dir.path()]);
    assert_attack_found(&r);
    assert_coverage(&r, "HttpProxy_2021030307-1.LOG", "no line break");
    assert!(by_rule(&r, "EXS-26855-SERVERINFO").iter().any(|f| f.path.contains("Owa/") && f.line == Some(6)));
}

#[test]
fn binary_garbage_and_nul_bytes() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    let garbage: Vec<u8> = (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030308-1.LOG"), &garbage);
    let mut with_nul = format!(
        "{}{}\r\n",
        httpproxy_header("15.01.2176.002", "2021-03-03T08:00:00Z"),
        ssrf_line("2021-03-03T08:00:01Z")
    )
    .into_bytes();
    with_nul.extend_from_slice(b"2021-03-03T08:00:02.000Z,abc\0\0\0def\r\n");
    with_nul.extend_from_slice(format!("{}\r\n", ssrf_line("2021-03-03T08:00:03Z")).as_bytes());
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030309-1.LOG"), &with_nul);
    let r = scan(&[dir.path()]);
    assert_attack_found(&r);
    assert_coverage(&r, "HttpProxy_2021030308-1.LOG", "binary content");
    assert_coverage(&r, "HttpProxy_2021030309-1.LOG", "NUL bytes");
    let lines: Vec<_> =
        by_rule(&r, "EXS-26855-SERVERINFO").iter().filter(|f| f.path.ends_with("09-1.LOG")).map(|f| f.line).collect();
    assert_eq!(lines, vec![Some(6), Some(8)], "rows around the NUL line are still read");
}

#[test]
fn line_over_one_mib_is_skipped_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    let mut text = httpproxy_header("15.01.2176.002", "2021-03-03T10:00:00Z");
    text.push_str(&"2021-03-03T10:00:00.000Z,".repeat(60_000)); // 1.5 MB line
    text.push_str("\r\n");
    text.push_str(&ssrf_line("2021-03-03T10:00:05Z"));
    text.push_str("\r\n");
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030310-1.LOG"), &text);
    let r = scan(&[dir.path()]);
    assert_attack_found(&r);
    assert_coverage(&r, "HttpProxy_2021030310-1.LOG", "line 6");
    assert!(by_rule(&r, "EXS-26855-SERVERINFO").iter().any(|f| f.path.ends_with("10-1.LOG") && f.line == Some(7)));
}

#[test]
fn utf16_with_bom_is_transcoded_and_invalid_utf8_is_read_lossily() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    let text = format!(
        "{}{}\r\n",
        httpproxy_header("15.01.2176.002", "2021-03-03T11:00:00Z"),
        ssrf_line("2021-03-03T11:00:01Z")
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030311-1.LOG"), &utf16);
    let mut bad = httpproxy_header("15.01.2176.002", "2021-03-03T12:00:00Z").into_bytes();
    let mut row = ssrf_line("2021-03-03T12:00:01Z").into_bytes();
    let ua = row.windows(7).position(|w| w == b"Mozilla").unwrap();
    row[ua] = 0xC3; // a lone lead byte: invalid UTF-8
    bad.extend_from_slice(&row);
    bad.extend_from_slice(b"\r\n");
    write(dir.path(), &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030312-1.LOG"), &bad);
    let r = scan(&[dir.path()]);
    assert_attack_found(&r);
    assert_coverage(&r, "HttpProxy_2021030311-1.LOG", "UTF-16LE");
    let cov = r.findings.iter().find(|f| f.rule_id == "EXS-COV-FILE" && f.path.ends_with("11-1.LOG")).unwrap();
    assert_eq!(cov.severity, Severity::Info, "transcoded and read in full");
    assert!(by_rule(&r, "EXS-26855-SERVERINFO").iter().any(|f| f.path.ends_with("11-1.LOG") && f.line == Some(6)));
    assert_coverage(&r, "HttpProxy_2021030312-1.LOG", "invalid UTF-8");
    assert!(by_rule(&r, "EXS-26855-SERVERINFO").iter().any(|f| f.path.ends_with("12-1.LOG") && f.line == Some(6)));
}

#[test]
fn empty_unreadable_and_looping_files() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    let owa = dir.path().join(EX).join("Logging/HttpProxy/Owa");
    std::fs::create_dir_all(&owa).unwrap();
    std::fs::write(owa.join("HttpProxy_2021030313-1.LOG"), b"").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(owa.join("missing.LOG"), owa.join("HttpProxy_2021030314-1.LOG")).unwrap();
        std::os::unix::fs::symlink(dir.path().join(EX).join("Logging"), owa.join("loop")).unwrap();
        // chmod 000 only stops non-root users; as root the dangling link above covers "unreadable".
        let locked = owa.join("HttpProxy_2021030315-1.LOG");
        std::fs::write(&locked, attack_file()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        let is_root = unsafe { libc::geteuid() } == 0;
        let r = scan(&[dir.path()]);
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_attack_found(&r);
        assert_coverage(&r, "HttpProxy_2021030313-1.LOG", "empty file");
        assert_coverage(&r, "HttpProxy_2021030314-1.LOG", "dangling symlink");
        assert_coverage(&r, "Owa/loop", "symlink loop");
        if !is_root {
            assert_coverage(&r, "HttpProxy_2021030315-1.LOG", "ermission denied");
        }
    }
}

fn zip_with(entries: &[(&str, Vec<u8>)]) -> tempfile::NamedTempFile {
    let tmp = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    let mut z = zip::ZipWriter::new(tmp.reopen().unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    tmp
}

#[test]
fn zip_entries_with_unsafe_paths_are_reported_not_read() {
    let z = zip_with(&[
        (&format!("{EX}/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"), attack_file().into_bytes()),
        ("../../evil/HttpProxy_2021030307-1.LOG", attack_file().into_bytes()),
        ("/etc/HttpProxy_2021030308-1.LOG", attack_file().into_bytes()),
        ("C:/Windows/Temp/lsass.dmp", b"MDMP".to_vec()),
    ]);
    let r = scan(&[z.path()]);
    assert_attack_found(&r);
    assert_coverage(&r, "../../evil/HttpProxy_2021030307-1.LOG", "parent-directory");
    assert_coverage(&r, "/etc/HttpProxy_2021030308-1.LOG", "absolute path");
    assert_coverage(&r, "C:/Windows/Temp/lsass.dmp", "drive letter");
    assert_eq!(by_rule(&r, "EXS-26855-SERVERINFO").len(), 1, "unsafe entries are not read");
}

#[test]
fn zip_bomb_is_bounded() {
    let mut bomb = httpproxy_header("15.01.2176.002", "2021-03-03T06:00:00Z").into_bytes();
    bomb.extend(std::iter::repeat_n(b'A', 24 << 20));
    let z = zip_with(&[
        (&format!("{EX}/Logging/HttpProxy/Ecp/HttpProxy_2021030306-1.LOG"), attack_file().into_bytes()),
        (&format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_2021030306-1.LOG"), bomb),
    ]);
    let opts = ScanOptions {
        zip: ZipLimits { ratio_floor: 1 << 20, max_ratio: 100, ..ZipLimits::default() },
        ..ScanOptions::default()
    };
    let r = Engine::default().scan(&[z.path().to_path_buf()], &opts).unwrap();
    assert_attack_found(&r);
    assert_coverage(&r, "Owa/HttpProxy_2021030306-1.LOG", "zip inflate limit");
    let read: u64 = r.stats.bytes_read;
    assert!(read < 8 << 20, "inflation stopped early, read {read} bytes");
    // The total bound also holds.
    let opts =
        ScanOptions { zip: ZipLimits { max_total_bytes: 2 << 20, ..ZipLimits::default() }, ..ScanOptions::default() };
    let r = Engine::default().scan(&[z.path().to_path_buf()], &opts).unwrap();
    assert_coverage(&r, "Owa/HttpProxy_2021030306-1.LOG", "in total");
}

/// Every file's bytes, size and modification time, for the read-only check.
fn snapshot(root: &Path) -> Vec<(String, u64, std::time::SystemTime, Vec<u8>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            (e.path().display().to_string(), m.len(), m.modified().unwrap(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn scanning_never_writes_inside_a_source() {
    let dir = tempfile::tempdir().unwrap();
    with_attack(dir.path());
    write(dir.path(), "Windows/Temp/lsass.dmp", b"MDMP....");
    write(dir.path(), "exports/events.json", "{\"Event\":{\"System\":{\"Channel\":\"Application\",\"EventID\":1}}}\n");
    let before = snapshot(dir.path());
    let listing_before: Vec<_> = walkdir::WalkDir::new(dir.path())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    let r = scan(&[dir.path()]);
    assert_attack_found(&r);
    assert_eq!(snapshot(dir.path()), before);
    let listing_after: Vec<_> = walkdir::WalkDir::new(dir.path())
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap().path().to_path_buf())
        .collect();
    assert_eq!(listing_after, listing_before, "no file or folder was created");
}
