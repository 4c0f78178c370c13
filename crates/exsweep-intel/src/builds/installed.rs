//! The installed build, from files: the file version of `ExSetup.exe` (its VS_FIXEDFILEINFO, as
//! HealthChecker reads it) and the `MsiProductMajor/Minor`, `MsiBuildMajor/Minor` values of the
//! `HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Setup` key in a registry export (as EOMT reads
//! them). Both tell the build at collection time, which the log headers may predate.

use super::version::Build;
use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::source::LogicalPath;
use exsweep_core::sweep::{FileCheck, SweptFile};

pub static RULE_BUILD_INSTALLED: RuleMeta = RuleMeta {
    id: "EXS-BUILD-INSTALLED",
    title: "Installed Exchange build",
    severity: Severity::Info,
    category: Category::Vulnerability,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// The file version in a PE file's VS_FIXEDFILEINFO (signature 0xFEEF04BD, then the structure
/// version, then FileVersionMS and FileVersionLS).
pub fn pe_file_version(data: &[u8]) -> Option<Build> {
    if !data.starts_with(b"MZ") {
        return None;
    }
    let sig = [0xBD, 0x04, 0xEF, 0xFE];
    let at = data.windows(4).position(|w| w == sig)?;
    let word = |o: usize| -> Option<u32> {
        data.get(at + o..at + o + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (ms, ls) = (word(8)?, word(12)?);
    let b = Build::new(ms >> 16, ms & 0xFFFF, ls >> 16, Some(ls & 0xFFFF));
    b.product().map(|_| b)
}

/// The build in a registry export (`.reg`, UTF-16LE with a BOM or 8-bit) of the Exchange Setup key.
pub fn reg_export_build(data: &[u8]) -> Option<Build> {
    let text = if data.starts_with(&[0xFF, 0xFE]) {
        let units: Vec<u16> = data[2..].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(data).into_owned()
    };
    let mut in_setup = false;
    let mut vals = [None::<u32>; 4];
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_setup = line.to_ascii_lowercase().ends_with(r"\microsoft\exchangeserver\v15\setup]");
            continue;
        }
        if !in_setup {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else { continue };
        let slot = match name.trim_matches('"').to_ascii_lowercase().as_str() {
            "msiproductmajor" => 0,
            "msiproductminor" => 1,
            "msibuildmajor" => 2,
            "msibuildminor" => 3,
            _ => continue,
        };
        vals[slot] = value.trim().strip_prefix("dword:").and_then(|h| u32::from_str_radix(h, 16).ok());
    }
    let b = Build::new(vals[0]?, vals[1]?, vals[2]?, Some(vals[3]?));
    b.product().map(|_| b)
}

/// The file check that reports the installed build.
#[derive(Default)]
pub struct InstalledBuildCheck;

impl FileCheck for InstalledBuildCheck {
    fn selects(&self, _windows_path: &str, logical: &LogicalPath) -> bool {
        let name = logical.file_name();
        name == "exsetup.exe" || name.ends_with(".reg")
    }

    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        let name = file.name();
        let (build, how) = if name == "exsetup.exe" {
            (pe_file_version(file.data), "ExSetup.exe file version")
        } else if name.ends_with(".reg") {
            (reg_export_build(file.data), "MsiProductMajor/MsiBuildMajor values of the Exchange Setup key")
        } else {
            return;
        };
        let Some(build) = build else { return };
        let mut f = file
            .finding(&RULE_BUILD_INSTALLED)
            .with_evidence(&format!("{how}: {build} in {}", file.windows_path))
            .with_extra("build", build.to_string())
            .with_extra("build_source", how);
        f.title = format!("Installed Exchange build {build} ({how})");
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_version_and_registry_values() {
        let mut pe = b"MZ\x90\0 some header bytes VS_VERSION_INFO".to_vec();
        pe.extend([0xBD, 0x04, 0xEF, 0xFE, 0, 0, 1, 0]);
        pe.extend(((15u32 << 16) | 1).to_le_bytes());
        pe.extend(((2176u32 << 16) | 9).to_le_bytes());
        assert_eq!(pe_file_version(&pe), Some(Build::new(15, 1, 2176, Some(9))));
        assert_eq!(pe_file_version(b"MZ no version"), None);
        assert_eq!(pe_file_version(&pe[2..]), None, "not a PE file");
        let reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup]\r\n\"MsiInstallPath\"=\"C:\\\\Program Files\\\\Microsoft\\\\Exchange Server\\\\V15\\\\\"\r\n\"MsiProductMajor\"=dword:0000000f\r\n\"MsiProductMinor\"=dword:00000002\r\n\"MsiBuildMajor\"=dword:00000318\r\n\"MsiBuildMinor\"=dword:0000000a\r\n";
        assert_eq!(reg_export_build(reg.as_bytes()), Some(Build::new(15, 2, 792, Some(10))));
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(reg.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(reg_export_build(&utf16), Some(Build::new(15, 2, 792, Some(10))));
        // The values under another key do not count.
        assert_eq!(reg_export_build(reg.replace("v15\\Setup]", "v15\\Other]").as_bytes()), None);
    }
}
