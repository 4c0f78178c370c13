//! Mitigations found on disk: the IIS URL Rewrite rules that EOMT / ExchangeMitigations add
//! against the CVE-2021-26855 SSRF and that EOMTv2 / EEMS add against ProxyNotShell, in
//! `web.config` and `applicationHost.config` copies; and the traces EOMT and MSERT leave
//! (`EOMT.log`, `EOMTSummary.txt`, `msert.log`, whose "Threat Detected" lines name what MSERT
//! found). A server with a rewrite rule is still vulnerable by its build: the rule is reported as
//! a mitigation, apart from a patch.

use exsweep_core::model::{Category, Finding, RuleMeta, Severity};
use exsweep_core::source::LogicalPath;
use exsweep_core::sweep::{FileCheck, SweptFile};

pub static RULE_EOMT_REWRITE: RuleMeta = RuleMeta {
    id: "EXS-MITIGATION-EOMT",
    title: "EOMT URL Rewrite rule against the CVE-2021-26855 SSRF",
    severity: Severity::Info,
    category: Category::Vulnerability,
    cves: &["CVE-2021-26855"],
    actors: &[],
    attack: &[],
};

pub static RULE_EOMTV2_REWRITE: RuleMeta = RuleMeta {
    id: "EXS-MITIGATION-EOMTV2",
    title: "URL Rewrite rule against ProxyNotShell (EOMTv2 or the Emergency Mitigation Service)",
    severity: Severity::Info,
    category: Category::Vulnerability,
    cves: &["CVE-2022-41040", "CVE-2022-41082"],
    actors: &[],
    attack: &[],
};

pub static RULE_EOMT_RAN: RuleMeta = RuleMeta {
    id: "EXS-MITIGATION-EOMT-RAN",
    title: "EOMT or MSERT ran on this server",
    severity: Severity::Info,
    category: Category::Vulnerability,
    cves: &["CVE-2021-26855"],
    actors: &[],
    attack: &[],
};

pub static RULE_MSERT_THREAT: RuleMeta = RuleMeta {
    id: "EXS-MSERT-THREAT",
    title: "Microsoft Safety Scanner (MSERT) detected a threat",
    severity: Severity::High,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

/// The file check for mitigations and their traces.
#[derive(Default)]
pub struct MitigationCheck;

fn is_config(name: &str) -> bool {
    name == "web.config" || name == "applicationhost.config"
}

fn is_trace(name: &str) -> bool {
    matches!(name, "eomt.log" | "eomtsummary.txt" | "msert.log" | "msert.old.log")
}

/// Lines of `text` that hold `needle`, ASCII case-insensitively (at most `max`).
fn lines_with<'a>(text: &'a str, needle: &str, max: usize) -> Vec<&'a str> {
    let n = needle.to_ascii_lowercase();
    text.lines().filter(|l| l.to_ascii_lowercase().contains(&n)).map(str::trim).take(max).collect()
}

impl FileCheck for MitigationCheck {
    fn selects(&self, _windows_path: &str, logical: &LogicalPath) -> bool {
        let name = logical.file_name();
        is_config(name) || is_trace(name)
    }

    fn check(&self, file: &SweptFile<'_>, out: &mut Vec<Finding>) {
        let name = file.name();
        if !(is_config(name) || is_trace(name)) {
            return;
        }
        let text = String::from_utf8_lossy(file.data);
        let lower = text.to_ascii_lowercase();
        if is_config(name) {
            // EOMT's rules: cookie conditions on X-AnonResource-Backend / X-BEResource, aborted.
            let ssrf = lower.contains("x-anonresource-backend") || lower.contains("x-beresource=(.+)/(.+)~(.+)");
            if ssrf && lower.contains("abortrequest") {
                let mut f = file.finding(&RULE_EOMT_REWRITE).with_evidence(
                    &lines_with(&text, "X-AnonResource-Backend", 2)
                        .into_iter()
                        .chain(lines_with(&text, "X-BEResource", 2))
                        .collect::<Vec<_>>()
                        .join(" | "),
                );
                f.title = format!(
                    "{}: {} aborts requests with the SSRF cookies (mitigated, not patched)",
                    RULE_EOMT_REWRITE.title, file.windows_path
                );
                out.push(f);
            }
            if lower.contains("(?=.*autodiscover)(?=.*powershell)") {
                let mut f =
                    file.finding(&RULE_EOMTV2_REWRITE).with_evidence(&lines_with(&text, "autodiscover", 2).join(" | "));
                f.title = format!(
                    "{}: {} (a bypass was published: mitigated, not patched)",
                    RULE_EOMTV2_REWRITE.title, file.windows_path
                );
                out.push(f);
            }
            return;
        }
        let mut f = file.finding(&RULE_EOMT_RAN).with_evidence(&text.lines().take(3).collect::<Vec<_>>().join(" | "));
        f.title = format!("{}: {}", RULE_EOMT_RAN.title, file.windows_path);
        out.push(f);
        if name.starts_with("msert") {
            for (i, line) in
                text.lines().enumerate().filter(|(_, l)| l.to_ascii_lowercase().contains("threat detected"))
            {
                let mut f = file.finding(&RULE_MSERT_THREAT).with_evidence(line.trim());
                f.line = Some(i as u64 + 1);
                f.title = format!("{}: {}", RULE_MSERT_THREAT.title, line.trim());
                out.push(f);
            }
        }
    }
}
