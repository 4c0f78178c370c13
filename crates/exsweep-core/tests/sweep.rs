//! The file sweep in the engine: which files reach the file checks (drop folders on every layout,
//! everything with `all_files`), what a check sees (hashes, Windows path, times), and bad input:
//! files too large, files that change or vanish while read, special files, symlink loops — each
//! reported and skipped while the rest is swept; and output that does not depend on threads.

mod common;

use common::write;
use exsweep_core::engine::{Engine, ScanOptions};
use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::sweep::{FileCheck, FileHashes, Place, SweepOptions, SweptFile};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const SEEN: RuleMeta = RuleMeta {
    id: "TEST-SEEN",
    title: "seen by the sweep",
    severity: Severity::Medium,
    category: Category::Webshell,
    cves: &[],
    actors: &["HAFNIUM"],
    attack: &[],
};

/// What a check was shown: (source path, Windows path, place, SHA-256, bytes).
type Seen = (String, String, Place, String, u64);

/// Reports every file it sees, and records what it was shown.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    /// (name, path): when a file named `name` is checked, do something to `path`.
    on_name: Vec<(String, PathBuf, Action)>,
}

#[derive(Clone, Copy)]
enum Action {
    Append,
    Remove,
}

impl FileCheck for Recorder {
    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        self.seen.lock().unwrap().push((
            file.path.to_string(),
            file.windows_path.to_string(),
            file.place(),
            file.hashes.sha256_hex(),
            file.data.len() as u64,
        ));
        for (name, path, action) in &self.on_name {
            if file.name() == name {
                match action {
                    Action::Append => {
                        use std::io::Write;
                        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
                        f.write_all(b"appended while read").unwrap();
                    }
                    Action::Remove => std::fs::remove_file(path).unwrap(),
                }
            }
        }
        out.push(file.finding(&SEEN).with_evidence(file.windows_path));
    }
}

fn scan_with(paths: &[&Path], check: Recorder, sweep: SweepOptions, threads: usize) -> (Vec<Finding>, Recorder) {
    let check = std::sync::Arc::new(check);
    struct Shared(std::sync::Arc<Recorder>);
    impl FileCheck for Shared {
        fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
            self.0.check(file, out)
        }
    }
    let engine = Engine::new(Vec::new()).with_file_checks(vec![Box::new(Shared(check.clone()))]);
    let opts = ScanOptions { threads: Some(threads), sweep, ..ScanOptions::default() };
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let r = engine.scan(&paths, &opts).unwrap();
    drop(engine);
    let rec = std::sync::Arc::try_unwrap(check).ok().expect("engine dropped");
    (r.findings, rec)
}

const EXCH: &str = "Program Files/Microsoft/Exchange Server/V15";

fn drive_copy(root: &Path) {
    write(
        root,
        "C/inetpub/wwwroot/aspnet_client/system_web/AbCd1234.aspx",
        "<%eval(Request.Item[\"k\"],\"unsafe\");%>",
    );
    write(root, &format!("C/{EXCH}/FrontEnd/HttpProxy/owa/auth/logon.aspx"), "<%@ Page language=\"c#\" %>");
    write(root, &format!("C/{EXCH}/FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx"), "<%@ Page %>");
    write(root, &format!("C/{EXCH}/ClientAccess/OAB/x.aspx"), "x");
    write(root, &format!("C/{EXCH}/Bin/ExSetup.exe"), "MZ");
    write(root, "C/Windows/Temp/lsass.dmp", "MDMP\u{93}\u{a7}");
    write(root, "C/Windows/System32/notepad.exe", "MZ notepad");
    write(root, "C/Users/Public/1.log", "x");
    write(root, "C/ProgramData/it.zip", "PK\u{3}\u{4}");
    write(root, "C/root/procdump64.exe", "MZ");
}

#[test]
fn drop_folders_are_swept_on_a_drive_copy_and_the_rest_only_with_all_files() {
    let dir = tempfile::tempdir().unwrap();
    drive_copy(dir.path());
    let (findings, rec) = scan_with(&[dir.path()], Recorder::default(), SweepOptions::default(), 2);
    let seen = rec.seen.into_inner().unwrap();
    let mut places: Vec<(String, Place)> = seen.iter().map(|(p, _, pl, _, _)| (p.clone(), *pl)).collect();
    places.sort();
    let want = [
        ("C/Program Files/Microsoft/Exchange Server/V15/ClientAccess/OAB/x.aspx", Place::ClientAccess),
        (
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx",
            Place::EcpAuth,
        ),
        ("C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx", Place::OwaAuth),
        ("C/ProgramData/it.zip", Place::ProgramData),
        ("C/Users/Public/1.log", Place::UsersPublic),
        ("C/Windows/Temp/lsass.dmp", Place::WindowsTemp),
        ("C/inetpub/wwwroot/aspnet_client/system_web/AbCd1234.aspx", Place::AspnetClient),
        ("C/root/procdump64.exe", Place::Root),
    ];
    let want: Vec<(String, Place)> = want.iter().map(|(p, pl)| (p.to_string(), *pl)).collect();
    assert_eq!(places, want, "ExSetup.exe and System32 are not drop folders");
    let shell = seen.iter().find(|s| s.0.ends_with("AbCd1234.aspx")).unwrap();
    assert_eq!(shell.1, r"C:\inetpub\wwwroot\aspnet_client\system_web\AbCd1234.aspx", "Windows path in original case");
    assert_eq!(shell.3, FileHashes::of(b"<%eval(Request.Item[\"k\"],\"unsafe\");%>").sha256_hex());
    let f = findings.iter().find(|f| f.rule_id == "TEST-SEEN" && f.path.ends_with("AbCd1234.aspx")).unwrap();
    assert_eq!(f.sha256.as_deref(), Some(shell.3.as_str()));
    assert_eq!(f.extra["md5"], FileHashes::of(b"<%eval(Request.Item[\"k\"],\"unsafe\");%>").md5_hex());
    assert_eq!(f.extra["place"], "aspnet_client");
    assert!(f.extra.contains_key("modified"));
    assert_eq!(f.actors, ["HAFNIUM"]);
    // The Test-ProxyLogon file rules still fire, from the same read.
    assert!(findings.iter().any(|f| f.rule_id == "EXS-FILE-LSASS-DUMP" && f.sha256.is_some()));
    assert!(findings.iter().any(|f| f.rule_id == "EXS-FILE-ARCHIVE-PROGRAMDATA"));

    let all = SweepOptions { all_files: true, ..SweepOptions::default() };
    let (_, rec) = scan_with(&[dir.path()], Recorder::default(), all, 2);
    let seen = rec.seen.into_inner().unwrap();
    assert_eq!(seen.len(), 10, "every file with all_files");
    assert!(seen.iter().any(|s| s.0.ends_with("notepad.exe") && s.2 == Place::Elsewhere));
}

#[test]
fn drop_folders_are_found_on_velociraptor_and_zip_sources() {
    let dir = tempfile::tempdir().unwrap();
    let velo = dir.path().join("velo");
    write(&velo, "uploads/auto/C%3A/inetpub/wwwroot/aspnet_client/shell.aspx", "x");
    write(
        &velo,
        &format!("uploads/auto/C%3A/{}/Logging/HttpProxy/Owa/HttpProxy_2021030300-1.LOG", EXCH.replace(' ', "%20")),
        "",
    );
    write(&velo, "uploads/auto/C%3A/Windows/System32/x.dll", "MZ");
    let zip_path = dir.path().join("kape.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let o = zip::write::SimpleFileOptions::default();
        for (name, data) in [
            (format!("C/{EXCH}/FrontEnd/HttpProxy/owa/auth/OutlookEN.aspx"), "<%eval%>"),
            ("C/Windows/System32/x.dll".to_string(), "MZ"),
        ] {
            z.start_file(name, o).unwrap();
            std::io::Write::write_all(&mut z, data.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    let (findings, rec) = scan_with(&[&velo, &zip_path], Recorder::default(), SweepOptions::default(), 2);
    let mut seen: Vec<(String, String, Place)> =
        rec.seen.into_inner().unwrap().into_iter().map(|s| (s.0, s.1, s.2)).collect();
    seen.sort();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].1, r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\owa\auth\OutlookEN.aspx");
    assert_eq!(seen[0].2, Place::OwaAuth);
    assert_eq!(seen[1].1, r"C:\inetpub\wwwroot\aspnet_client\shell.aspx");
    assert_eq!(findings.iter().filter(|f| f.rule_id == "TEST-SEEN").count(), 2);
}

#[cfg(unix)]
#[test]
fn bad_files_are_reported_and_skipped_and_the_rest_is_swept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let temp = root.join("C/Windows/Temp");
    write(root, "C/Windows/Temp/big.bin", "");
    std::fs::File::options().write(true).open(temp.join("big.bin")).unwrap().set_len(3 << 20).unwrap();
    // Largest first with one thread, 32 files to a batch: `a-trigger.txt` (2 MB) is checked
    // with the first batch, before `vanishes.txt` is read with the second.
    write(root, "C/Windows/Temp/a-trigger.txt", vec![b'x'; 2 << 20]);
    write(root, "C/Windows/Temp/grows.txt", vec![b'g'; 1 << 20]);
    for i in 0..40 {
        write(root, &format!("C/Windows/Temp/filler-{i:02}.txt"), format!("{i:>100}"));
    }
    write(root, "C/Windows/Temp/vanishes.txt", "soon gone");
    write(root, "C/Windows/Temp/ok.txt", "fine");
    let fifo = temp.join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::os::unix::fs::symlink(root.join("C/Windows"), temp.join("loop")).unwrap();
    let rec = Recorder {
        seen: Mutex::new(Vec::new()),
        on_name: vec![
            ("a-trigger.txt".into(), temp.join("vanishes.txt"), Action::Remove),
            ("grows.txt".into(), temp.join("grows.txt"), Action::Append),
        ],
    };
    let opts = SweepOptions { max_file_size: 2 << 20, mmap_min: 1 << 20, ..SweepOptions::default() };
    let (findings, rec) = scan_with(&[root], rec, opts, 1);
    let cov = |name: &str| -> String {
        findings
            .iter()
            .filter(|f| f.category == Category::Coverage && f.path.ends_with(name))
            .map(|f| f.title.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(cov("big.bin").contains("larger than the sweep limit"), "{}", cov("big.bin"));
    assert!(cov("grows.txt").contains("changed while read"), "{}", cov("grows.txt"));
    assert!(cov("vanishes.txt").contains("unreadable"), "{}", cov("vanishes.txt"));
    assert!(cov("pipe").contains("not a regular file"), "{}", cov("pipe"));
    assert!(cov("loop").contains("symlink loop"), "{}", cov("loop"));
    // The file that changed is not reported as swept; the others are.
    let seen_ok = |n: &str| findings.iter().any(|f| f.rule_id == "TEST-SEEN" && f.path.ends_with(n));
    assert!(seen_ok("ok.txt") && seen_ok("a-trigger.txt"));
    assert!(!seen_ok("grows.txt"), "results of a file that changed while read are dropped");
    assert!(!seen_ok("big.bin") && !seen_ok("vanishes.txt"));
    // a-trigger.txt (2 MB) was memory-mapped, ok.txt read: both hashed right.
    let seen = rec.seen.into_inner().unwrap();
    let trig = seen.iter().find(|s| s.0.ends_with("a-trigger.txt")).unwrap();
    assert_eq!(trig.3, FileHashes::of(&vec![b'x'; 2 << 20]).sha256_hex());
    assert_eq!(trig.4, 2 << 20);
}

#[test]
fn sweep_output_does_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..60 {
        write(dir.path(), &format!("C/inetpub/wwwroot/aspnet_client/s{i:02}.aspx"), format!("shell {i}").repeat(i + 1));
    }
    write(dir.path(), "C/Windows/System32/x.dll", "MZ");
    let ids = |threads| {
        let (f, _) = scan_with(&[dir.path()], Recorder::default(), SweepOptions::default(), threads);
        f.into_iter().map(|f| (f.id, f.path, f.sha256)).collect::<Vec<_>>()
    };
    let one = ids(1);
    assert_eq!(one.iter().filter(|x| x.2.is_some()).count(), 60);
    assert_eq!(one, ids(2));
    assert_eq!(one, ids(4));
}

/// Files swept in batches (their MD5s computed side by side, memory-mapped and read files mixed)
/// carry the digests that md-5, sha1 and sha2 give for each file alone.
#[test]
fn batched_digests_match_each_file_hashed_alone() {
    use md5::Digest;
    let dir = tempfile::tempdir().unwrap();
    let mut contents = Vec::new();
    for i in 0..75usize {
        // Sizes from empty to 1.5 MB (over mmap_min), around block and padding boundaries.
        let len = match i % 5 {
            0 => i,
            1 => 55 + i,
            2 => 4096 * i + 63,
            3 => 20_000 + i * 997,
            _ => (1 << 20) + i * 7000,
        };
        let data: Vec<u8> = (0..len).map(|j| (j * 31 + i * 17 + (j >> 9)) as u8).collect();
        let name = format!("C/ProgramData/drop/f{i:02}.bin");
        write(dir.path(), &name, &data);
        contents.push((format!("f{i:02}.bin"), data));
    }
    let (findings, rec) = scan_with(&[dir.path()], Recorder::default(), SweepOptions::default(), 2);
    let seen = rec.seen.into_inner().unwrap();
    assert_eq!(seen.len(), 75);
    for (name, data) in &contents {
        let f = findings.iter().find(|f| f.rule_id == "TEST-SEEN" && f.path.ends_with(name.as_str())).unwrap();
        assert_eq!(f.extra["md5"], exsweep_core::sweep::hex(&md5::Md5::digest(data)), "{name}");
        assert_eq!(f.extra["sha1"], exsweep_core::sweep::hex(&sha1::Sha1::digest(data)), "{name}");
        assert_eq!(f.sha256.as_deref(), Some(exsweep_core::sweep::hex(&sha2::Sha256::digest(data)).as_str()), "{name}");
    }
}
