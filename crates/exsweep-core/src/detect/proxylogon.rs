//! The CVE checks of Test-ProxyLogon.ps1 (CSS-Exchange, `Security/src/Test-ProxyLogon.ps1`) that
//! Sigma cannot say, with every pattern and exclusion the script has, and exsweep's own parsed
//! check of ECP `Set-*VirtualDirectory` URLs. CVE-2021-26857 and the blog's `BackEndCookie`
//! variant of CVE-2021-26855 are exsweep Sigma rules (`crates/exsweep-sigma/rules/`).

use super::like::like;
use super::{Detector, FileCtx, contains_ci};
use crate::model::{ArtifactKind, Category, Finding, RuleMeta, Severity};
use crate::record::Record;
use regex::Regex;

pub const RULE_26855_SERVERINFO: RuleMeta = RuleMeta {
    id: "EXS-26855-SERVERINFO",
    title: "ProxyLogon SSRF (CVE-2021-26855): request proxied to an attacker-chosen back-end URL",
    severity: Severity::High,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &[],
    attack: &["T1190"],
};
pub const RULE_27065_RESETVDIR: RuleMeta = RuleMeta {
    id: "EXS-27065-RESETVDIR",
    title: "CVE-2021-27065: virtual directory reset through the SSRF succeeded (web shell written)",
    severity: Severity::Critical,
    category: Category::Exploitation,
    cves: &["CVE-2021-27065", "CVE-2021-26855"],
    actors: &[],
    attack: &["T1190", "T1505.003"],
};
pub const RULE_27065_SETVDIR: RuleMeta = RuleMeta {
    id: "EXS-27065-SETVDIR",
    title: "CVE-2021-27065: Set-*VirtualDirectory with markup in a URL (Test-ProxyLogon pattern)",
    severity: Severity::Critical,
    category: Category::Exploitation,
    cves: &["CVE-2021-27065"],
    actors: &[],
    attack: &["T1190", "T1505.003"],
};
pub const RULE_27065_SETVDIR_SCRIPT: RuleMeta = RuleMeta {
    id: "EXS-27065-SETVDIR-SCRIPT",
    title: "CVE-2021-27065: script written into a virtual directory URL",
    severity: Severity::Critical,
    category: Category::Exploitation,
    cves: &["CVE-2021-27065"],
    actors: &[],
    attack: &["T1190", "T1505.003"],
};
pub const RULE_26858_OAB: RuleMeta = RuleMeta {
    id: "EXS-26858-OAB-DOWNLOAD",
    title: "CVE-2021-26858: OAB generator wrote a file outside its download folder",
    severity: Severity::Critical,
    category: Category::Exploitation,
    cves: &["CVE-2021-26858"],
    actors: &[],
    attack: &["T1190", "T1505.003"],
};
/// A short `Name=value` evidence line from the columns that explain an HttpProxy hit.
fn httpproxy_evidence(rec: &Record<'_>, lead: &str) -> String {
    let mut s = String::from(lead);
    for name in ["UrlHost", "UrlStem", "HttpStatus", "ClientIpAddress", "UserAgent", "AuthenticatedUser", "RoutingHint"]
    {
        if let Some(v) = rec.get(name)
            && !v.is_empty()
        {
            s.push(' ');
            s.push_str(name);
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

fn with_http_extra(mut f: Finding, rec: &Record<'_>) -> Finding {
    for (key, col) in [
        ("client_ip", "ClientIpAddress"),
        ("user_agent", "UserAgent"),
        ("url_stem", "UrlStem"),
        ("http_status", "HttpStatus"),
        ("authenticated_user", "AuthenticatedUser"),
    ] {
        if let Some(v) = rec.get(col)
            && !v.is_empty()
        {
            f.extra.insert(key.into(), v.into());
        }
    }
    f
}

/// Test-ProxyLogon `Get-Cve26855`.
pub struct ServerInfo26855;

/// The AnchorMailbox test of `Get-Cve26855`, patterns and exclusions exactly as in the script.
pub fn is_26855_anchor(anchor: &str) -> bool {
    like(anchor, "ServerInfo~*/*")
        && !like(anchor, "ServerInfo~*/autodiscover*")
        && !like(anchor, "ServerInfo~localhost*/*")
}

impl Detector for ServerInfo26855 {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::Httpproxy]
    }
    fn anchors(&self) -> &[&'static str] {
        &["ServerInfo~"]
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        let Some(am) = rec.get("AnchorMailbox") else {
            return;
        };
        if !is_26855_anchor(am) {
            return;
        }
        let status = rec.get("HttpStatus").unwrap_or("");
        let target = &am["ServerInfo~".len()..];
        let mut f = ctx.finding(&RULE_26855_SERVERINFO, rec);
        // 241 is the status of the /ecp/proxyLogon.ecp call that hands the attacker a session.
        if status == "241" || (status == "200" && contains_ci(am, "/ecp/DDI/DDIService.svc/SetObject")) {
            f.severity = Severity::Critical;
        }
        f.title = format!("ProxyLogon SSRF (CVE-2021-26855) to {target} (HTTP {status})");
        let f =
            f.with_evidence(&httpproxy_evidence(rec, &format!("AnchorMailbox={am}"))).with_extra("ssrf_target", target);
        out.push(with_http_extra(f, rec));
    }
}

/// Test-ProxyLogon `Get-Cve27065` part (a): ResetVirtualDirectory through the SSRF, HTTP 200,
/// in the Ecp HttpProxy logs.
pub struct ResetVDir27065;

impl Detector for ResetVDir27065 {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::Httpproxy]
    }
    fn anchors(&self) -> &[&'static str] {
        &["ServerInfo~"]
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        // The script reads only `Logging\HttpProxy\Ecp`; for loose files the row's Protocol says it.
        let is_ecp = match ctx.protocol {
            Some(p) => p.eq_ignore_ascii_case("Ecp"),
            None => rec.get("Protocol").is_some_and(|p| p.eq_ignore_ascii_case("Ecp")),
        };
        if !is_ecp {
            return;
        }
        let Some(am) = rec.get("AnchorMailbox") else {
            return;
        };
        // PowerShell compares the string column with the number 200 as strings.
        if !like(am, "ServerInfo~*/*Reset*VirtualDirectory#") || rec.get("HttpStatus") != Some("200") {
            return;
        }
        let f = ctx
            .finding(&RULE_27065_RESETVDIR, rec)
            .with_evidence(&httpproxy_evidence(rec, &format!("AnchorMailbox={am}")));
        out.push(with_http_extra(f, rec));
    }
}

/// Test-ProxyLogon `Get-Cve27065` part (b), and exsweep's parsed form of the same idea.
pub struct SetVDir27065 {
    tpl: Regex,
    cmd: Regex,
    markup: Regex,
}

impl Default for SetVDir27065 {
    fn default() -> Self {
        Self::new()
    }
}

impl SetVDir27065 {
    pub fn new() -> SetVDir27065 {
        SetVDir27065 {
            // The script's `Set-.+VirtualDirectory.+?(?=Url).+<\w+.*>(.*?)<\/\w+>.+?(?=VirtualDirectory)`
            // without look-ahead: `.+?(?=Url).+<` needs at least `Url` before the tag, and the trailing
            // look-ahead only asks that `VirtualDirectory` follows; both forms accept the same lines.
            tpl: Regex::new(r"(?i)Set-.+VirtualDirectory.+Url.*<\w+.*>.*</\w+>.+VirtualDirectory")
                .unwrap_or_else(|_| never()),
            // A Set-*VirtualDirectory cmdlet and its `.Param=value` list inside S:CMD.
            cmd: Regex::new(r"(?is)^S:CMD=(?:Pipeline\.\d+\|)?(Set-\w*VirtualDirectory)\.(.*)$")
                .unwrap_or_else(|_| never()),
            markup: Regex::new(r"(?i)<\s*script|<%|runat\s*=|<\s*[a-z!/][^>]*>").unwrap_or_else(|_| never()),
        }
    }
}

/// A regex that matches nothing (the patterns above are constant and always compile).
fn never() -> Regex {
    Regex::new(r"[^\s\S]").expect("constant regex")
}

impl Detector for SetVDir27065 {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::EcpServer]
    }
    fn anchors(&self) -> &[&'static str] {
        &["VirtualDirectory"]
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        let line = rec.raw;
        if self.tpl.is_match(line) {
            out.push(ctx.finding(&RULE_27065_SETVDIR, rec).with_evidence(line));
        }
        let Some(item) = cmd_item(rec) else { return };
        let Some(c) = self.cmd.captures(&item) else {
            return;
        };
        let cmdlet = c.get(1).map(|m| m.as_str()).unwrap_or("");
        let params = c.get(2).map(|m| m.as_str()).unwrap_or("");
        for (name, value) in url_params(params) {
            if self.markup.is_match(value) {
                let f = ctx
                    .finding(&RULE_27065_SETVDIR_SCRIPT, rec)
                    .titled(format!("CVE-2021-27065: {cmdlet} set {name} to a value with script markup"))
                    .with_evidence(&format!("{cmdlet} -{name} {value}"))
                    .with_extra("cmdlet", cmdlet)
                    .with_extra("parameter", name)
                    .with_extra("value", value);
                out.push(f);
                return;
            }
        }
    }
}

/// The `S:CMD=...` item of an ECP Server record, unquoted. EventData is a `;`-separated list of
/// `S:KEY=value` items; an item with special characters is wrapped in `'` with inner `'` doubled.
/// Without an EventData column (lines trimmed by hand, as in HelseCERT's report) the raw line is
/// used, with its CSV-doubled `""` undone.
fn cmd_item(rec: &Record<'_>) -> Option<String> {
    let data: std::borrow::Cow<'_, str> = match rec.get("EventData") {
        Some(d) => d.into(),
        None => rec.raw.replace("\"\"", "\"").into(),
    };
    let start = data.find("S:CMD=")?;
    let bytes = data.as_bytes();
    if start > 0 && bytes[start - 1] == b'\'' {
        let mut out = String::new();
        let mut j = start;
        while j < bytes.len() {
            if bytes[j] == b'\'' {
                if bytes.get(j + 1) == Some(&b'\'') {
                    out.push('\'');
                    j += 2;
                    continue;
                }
                break;
            }
            let ch = data[j..].chars().next()?;
            out.push(ch);
            j += ch.len_utf8();
        }
        Some(out)
    } else {
        let rest = &data[start..];
        let end = rest.find(";S:").or_else(|| rest.find(";;")).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

/// `(name, value)` of every `.<Something>Url=value` parameter in an S:CMD parameter list. Values
/// run to the next `.Param=` boundary; quoted values may contain dots.
fn url_params(params: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let bytes = params.as_bytes();
    let mut i = 0;
    while let Some(eq) = params[i..].find('=').map(|k| k + i) {
        let name_start = params[..eq].rfind('.').map(|d| d + 1).unwrap_or(0);
        let name = &params[name_start..eq];
        // Value: quoted ('...' with '' escapes, possibly wrapped again) or up to the next `.X=`.
        let mut j = eq + 1;
        let value_end = if bytes.get(j) == Some(&b'\'') {
            j += 1;
            loop {
                match bytes.get(j) {
                    None => break params.len(),
                    Some(b'\'') if bytes.get(j + 1) == Some(&b'\'') => j += 2,
                    Some(b'\'') => break j + 1,
                    Some(_) => j += 1,
                }
            }
        } else {
            let mut k = j;
            loop {
                match params[k..].find('.') {
                    None => break params.len(),
                    Some(d) => {
                        let after = &params[k + d + 1..];
                        let ident = after.bytes().take_while(|b| b.is_ascii_alphanumeric()).count();
                        if ident > 0 && after.as_bytes().get(ident) == Some(&b'=') {
                            break k + d;
                        }
                        k += d + 1;
                    }
                }
            }
        };
        let value = &params[eq + 1..value_end.min(params.len())];
        if name.len() >= 3 && name[name.len() - 3..].eq_ignore_ascii_case("url") {
            out.push((name, value));
        }
        if value_end >= params.len() {
            break;
        }
        i = value_end;
    }
    out
}

/// Test-ProxyLogon `Get-Cve26858`.
pub struct OabDownload26858 {
    capture: Regex,
    benign_fallback: Regex,
}

impl Default for OabDownload26858 {
    fn default() -> Self {
        Self::new()
    }
}

impl OabDownload26858 {
    pub fn new() -> OabDownload26858 {
        OabDownload26858 {
            capture: Regex::new(r"(?i)Download failed and temporary file (.*?) needs to be removed")
                .unwrap_or_else(|_| never()),
            benign_fallback: Regex::new(r"(?i)^'[a-z]:\\(?:[^\\]+\\)*ClientAccess\\OAB(?:\\|')")
                .unwrap_or_else(|_| never()),
        }
    }

    /// Whether a captured path is the OAB download folder (the script's exclusion). `exchange_path`
    /// ends with `\`, as the registry value the script reads does; it starts with `?:` when the
    /// drive letter is unknown, and then any drive matches.
    pub fn is_benign(&self, captured: &str, exchange_path: Option<&str>) -> bool {
        match exchange_path {
            Some(ex) => {
                let prefix = format!("'{ex}ClientAccess\\OAB");
                let any_drive = ex.starts_with("?:");
                captured.len() >= prefix.len()
                    && captured.is_char_boundary(prefix.len())
                    && captured.char_indices().zip(prefix.chars()).all(|((i, a), b)| {
                        (any_drive && i == 1) || a.eq_ignore_ascii_case(&b) || a.to_lowercase().eq(b.to_lowercase())
                    })
            }
            None => self.benign_fallback.is_match(captured) && !captured.contains("\\..\\"),
        }
    }
}

impl Detector for OabDownload26858 {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::OabGenerator]
    }
    fn anchors(&self) -> &[&'static str] {
        &["Download failed and temporary file"]
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        let Some(c) = self.capture.captures(rec.raw) else {
            return;
        };
        let path = c.get(1).map(|m| m.as_str()).unwrap_or("");
        if self.is_benign(path, ctx.exchange_path) {
            return;
        }
        let f = ctx
            .finding(&RULE_26858_OAB, rec)
            .titled(format!("CVE-2021-26858: OAB generator wrote {path}"))
            .with_evidence(rec.raw)
            .with_extra("written_path", path.trim_matches('\''));
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_params_split_on_parameter_boundaries() {
        let p = "ExternalUrl='http://f/<script language=\"JScript\" runat=\"server\">function Page_Load(){eval(Request[\"k\"],\"unsafe\");}</script>'.Identity='982d48c8'";
        let v = url_params(p);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, "ExternalUrl");
        assert!(v[0].1.contains("<script"));
        let p = "InternalUrl='https://ex01.contoso.local/owa'.Identity='EX01\\owa (Default Web Site)'";
        assert_eq!(url_params(p), vec![("InternalUrl", "'https://ex01.contoso.local/owa'")]);
        let p = "ExternalUrl=$null.Identity='x'";
        assert_eq!(url_params(p), vec![("ExternalUrl", "$null")]);
    }

    #[test]
    fn oab_exclusion_follows_the_script() {
        let d = OabDownload26858::new();
        let ex = Some("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\");
        assert!(
            d.is_benign("'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\a.lzx'", ex)
        );
        assert!(
            d.is_benign("'c:\\program files\\microsoft\\exchange server\\v15\\clientaccess\\oab\\temp\\a.lzx'", ex)
        );
        assert!(!d.is_benign(
            "'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\shell.aspx'",
            ex
        ));
        assert!(!d.is_benign("'\\\\127.0.0.1\\c$\\inetpub\\wwwroot\\aspnet_client\\discover.aspx'", ex));
        // Without the install path: any drive's ...\ClientAccess\OAB folder, no `..`.
        assert!(d.is_benign("'D:\\Exchange\\ClientAccess\\OAB\\Temp\\x.lzx'", None));
        assert!(!d.is_benign("'D:\\Exchange\\ClientAccess\\OAB\\..\\..\\FrontEnd\\x.aspx'", None));
        assert!(!d.is_benign("'C:\\inetpub\\wwwroot\\aspnet_client\\x.aspx'", None));
        // A plain drive copy does not say its drive letter: any letter matches.
        let guessed = Some("?:\\Exchange\\");
        assert!(d.is_benign("'D:\\Exchange\\ClientAccess\\OAB\\Temp\\x.lzx'", guessed));
        assert!(!d.is_benign("'D:\\Exchange\\FrontEnd\\HttpProxy\\owa\\auth\\x.aspx'", guessed));
        assert!(!d.is_benign("'D:\\Other\\ClientAccess\\OAB\\x.lzx'", guessed));
    }
}
