//! Helpers for core integration tests: realistic HttpProxy rows, ECP and IIS lines, and scans of
//! small hand-built sources.

#![allow(dead_code)]

use exsweep_core::model::Finding;
use exsweep_core::read::HTTPPROXY_FIELDS;
use exsweep_core::{Engine, ScanOptions, ScanReport};
use std::path::Path;

pub const EX: &str = "Program Files/Microsoft/Exchange Server/V15";

pub fn httpproxy_header(build: &str, date: &str) -> String {
    format!(
        "#Software: Microsoft Exchange Server\r\n#Version: {build}\r\n#Log-type: HttpProxy Logs\r\n#Date: {date}\r\n#Fields: {}\r\n",
        HTTPPROXY_FIELDS.join(",")
    )
}

fn csv_quote(v: &str) -> String {
    if v.contains(',') || v.contains('"') { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_string() }
}

/// A 74-column HttpProxy row: realistic defaults, overridden by `fields`.
pub fn httpproxy_row(fields: &[(&str, &str)]) -> String {
    let get = |name: &str, default: &str| -> String {
        fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()).unwrap_or_else(|| default.to_string())
    };
    let defaults: Vec<(&str, &str)> = vec![
        ("DateTime", "2021-03-03T06:00:00.000Z"),
        ("RequestId", "9a1b2c3d-0000-4000-8000-000000000001"),
        ("MajorVersion", "15"),
        ("MinorVersion", "1"),
        ("BuildVersion", "2176"),
        ("RevisionVersion", "2"),
        ("Protocol", "Owa"),
        ("UrlHost", "mail.contoso.com"),
        ("UrlStem", "/owa/service.svc"),
        ("AuthenticationType", "Negotiate"),
        ("IsAuthenticated", "true"),
        ("AuthenticatedUser", "alice@contoso.com"),
        ("AnchorMailbox", "Smtp~alice@contoso.com"),
        (
            "UserAgent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/88.0.4324.190 Safari/537.36",
        ),
        ("ClientIpAddress", "10.1.2.3"),
        ("ServerHostName", "EX01"),
        ("HttpStatus", "200"),
        ("BackEndStatus", "200"),
        ("Method", "POST"),
        ("ProxyAction", "Proxy"),
        ("TargetServer", "ex01.contoso.local"),
        ("TargetServerVersion", "15.01.2176.002"),
        ("RoutingType", "Anchor"),
        ("BackEndCookie", "Database~7a3c1c42-5f5b-4d0e-9f33-2a4b8e1d1f00~~2021-03-04T06:00:00"),
        ("GenericInfo", "BeginRequest=2021-03-03T06:00:00.000Z;ProxyState-Run=None;"),
        ("RoutingStatus", "CafeV1"),
    ];
    HTTPPROXY_FIELDS
        .iter()
        .map(|f| {
            let d = defaults.iter().find(|(k, _)| k == f).map(|(_, v)| *v).unwrap_or("");
            csv_quote(&get(f, d))
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

pub fn scan(paths: &[&Path]) -> ScanReport {
    let paths: Vec<_> = paths.iter().map(|p| p.to_path_buf()).collect();
    Engine::default().scan(&paths, &ScanOptions::default()).expect("scan")
}

pub fn by_rule<'a>(r: &'a ScanReport, rule: &str) -> Vec<&'a Finding> {
    r.findings.iter().filter(|f| f.rule_id == rule).collect()
}

/// PowerShell `-like` as a regex (the tests' independent model of the script).
pub fn like_regex(pattern: &str) -> regex::Regex {
    let mut re = String::from("(?is)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap()
}

pub fn ps_like(text: &str, pattern: &str) -> bool {
    like_regex(pattern).is_match(text)
}
