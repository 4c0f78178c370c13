//! HAFNIUM request patterns in IIS W3C logs (Volexity via CISA AA21-062A, signature-base log
//! rules, TrustedSec queries) and requests to `.aspx` files in web-shell drop folders. Every IIS
//! line goes through here, so the checks are byte comparisons on borrowed columns: no allocation
//! and no regex on the common path.

use super::{Detector, FieldGate, FileCtx, contains_ci, ends_ci, starts_ci};
use crate::model::{ArtifactKind, Category, Finding, RuleMeta, Severity};
use crate::record::Record;
use aho_corasick::AhoCorasick;

pub const RULE_POST: RuleMeta = RuleMeta {
    id: "EXS-IIS-HAFNIUM-POST",
    title: "HAFNIUM exploit request: POST to a static OWA/ECP resource",
    severity: Severity::High,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &["HAFNIUM"],
    attack: &["T1190"],
};
pub const RULE_ECP_SHORT_JS: RuleMeta = RuleMeta {
    id: "EXS-IIS-ECP-SHORT-JS",
    title: "ProxyLogon front-end request: short .js name directly under /ecp/",
    severity: Severity::High,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &["HAFNIUM"],
    attack: &["T1190"],
};
pub const RULE_AUTH_JS: RuleMeta = RuleMeta {
    id: "EXS-IIS-AUTH-JS",
    title: "ProxyLogon probe: request to w.js or x.js under an auth folder",
    severity: Severity::Medium,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &["HAFNIUM"],
    attack: &["T1190"],
};
pub const RULE_RPC_POC: RuleMeta = RuleMeta {
    id: "EXS-IIS-RPC-POC",
    title: "ProxyLogon proof-of-concept request to /rpc/",
    severity: Severity::Medium,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &[],
    attack: &["T1190"],
};
pub const RULE_UA: RuleMeta = RuleMeta {
    id: "EXS-IIS-HAFNIUM-UA",
    title: "User agent published for HAFNIUM exploitation",
    severity: Severity::Medium,
    category: Category::Exploitation,
    cves: &["CVE-2021-26855"],
    actors: &["HAFNIUM"],
    attack: &["T1190"],
};
pub const RULE_WEBSHELL: RuleMeta = RuleMeta {
    id: "EXS-IIS-WEBSHELL-ASPX",
    title: "Request to an .aspx file in a web-shell drop folder",
    severity: Severity::Critical,
    category: Category::Webshell,
    cves: &["CVE-2021-27065", "CVE-2021-26858"],
    actors: &[],
    attack: &["T1505.003"],
};

/// Volexity: POST targets (paths compared case-insensitively).
const POST_TARGETS: &[&str] = &[
    "/owa/auth/Current/themes/resources/logon.css",
    "/owa/auth/Current/themes/resources/owafont_ja.css",
    "/owa/auth/Current/themes/resources/lgnbotl.gif",
    "/owa/auth/Current/themes/resources/owafont_ko.css",
    "/owa/auth/Current/themes/resources/SegoeUI-SemiBold.eot",
    "/owa/auth/Current/themes/resources/SegoeUI-SemiLight.ttf",
    "/owa/auth/Current/",
    "/owa/auth/Current",
    "/ecp/default.flt",
    "/ecp/main.css",
];

const AUTH_JS: &[&str] = &["/ecp/auth/w.js", "/owa/auth/w.js", "/owa/auth/x.js"];

/// Exploit tools: suspicious on any request.
const TOOL_AGENTS: &[&str] =
    &["ExchangeServicesClient/0.0.0.0", "python-requests/2.19.1", "python-requests/2.25.1", "antSword/v2.1"];

/// Crawler agents HAFNIUM posed as: suspicious only on POST under /owa/ or /ecp/ (crawlers do not post).
const CRAWLER_AGENTS: &[&str] = &[
    "DuckDuckBot/1.0",
    "facebookexternalhit/1.1",
    "Baiduspider/2.0",
    "bingbot/2.0",
    "Googlebot/2.1",
    "Konqueror/3.5",
    "Exabot-Thumbnails",
    "Slurp",
    "YandexBot/3.0",
    "Chrome/51.0.2704.103",
];

/// Legitimate files directly under `owa\auth` (union of the CSS baselines of 133 builds).
const OWA_AUTH_LEGIT: &[&str] = &[
    "OutlookCN.aspx",
    "RedirSuiteServiceProxy.aspx",
    "SvmFeedback.aspx",
    "errorFE.aspx",
    "expiredpassword.aspx",
    "frowny.aspx",
    "logoff.aspx",
    "logon.aspx",
    "signout.aspx",
];

pub struct IisHafnium {
    tools: AhoCorasick,
    crawlers: AhoCorasick,
}

impl Default for IisHafnium {
    fn default() -> Self {
        Self::new()
    }
}

fn ac(patterns: &[&str]) -> AhoCorasick {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(patterns)
        .unwrap_or_else(|_| AhoCorasick::new(Vec::<&str>::new()).expect("empty automaton"))
}

impl IisHafnium {
    pub fn new() -> IisHafnium {
        IisHafnium { tools: ac(TOOL_AGENTS), crawlers: ac(CRAWLER_AGENTS) }
    }
}

/// Why a request path is a web-shell drop location, if it is.
pub fn webshell_drop_folder(stem: &str) -> Option<&'static str> {
    if !ends_ci(stem, ".aspx") {
        return None;
    }
    if starts_ci(stem, "/aspnet_client/") {
        return Some("aspnet_client");
    }
    let direct_child = |prefix: &str| !stem[prefix.len()..].contains('/');
    if starts_ci(stem, "/owa/auth/") {
        let rest = &stem["/owa/auth/".len()..];
        if !direct_child("/owa/auth/") {
            return Some(if starts_ci(rest, "Current/") { "owa/auth/Current" } else { "owa/auth subfolder" });
        }
        return (!OWA_AUTH_LEGIT.iter().any(|l| rest.eq_ignore_ascii_case(l)))
            .then_some("owa/auth (not a legitimate OWA file)");
    }
    if starts_ci(stem, "/ecp/auth/") {
        let rest = &stem["/ecp/auth/".len()..];
        return (!rest.eq_ignore_ascii_case("TimeoutLogout.aspx"))
            .then_some("ecp/auth (only TimeoutLogout.aspx is legitimate)");
    }
    for (prefix, why) in [("/oab/", "OAB virtual directory"), ("/ews/", "EWS virtual directory")] {
        if starts_ci(stem, prefix) && direct_child(prefix) {
            return Some(why);
        }
    }
    None
}

/// `/ecp/` + 1–3 letters or digits + `.js`.
fn is_ecp_short_js(stem: &str) -> bool {
    if !starts_ci(stem, "/ecp/") || !ends_ci(stem, ".js") {
        return false;
    }
    let name = &stem[5..stem.len() - 3];
    (1..=3).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Every W3C line whose `cs-uri-stem` passes [`interesting_stem`] contains one of these (the
/// stem is space-separated from its neighbours): web-shell drops end in `.aspx`, the POST
/// targets lie under `/owa/auth/Current` or `/ecp/`, the short scripts under `/ecp/` or
/// `/owa/auth/`, and the proof of concept is the bare `/rpc/` (between two separators, so
/// `/rpc/rpcproxy.dll` of every Outlook Anywhere client is not a candidate).
pub const STEM_LITERALS: [&str; 6] =
    [".aspx ", "/owa/auth/current", "/ecp/", " /rpc/ ", "/owa/auth/w.js", "/owa/auth/x.js"];

/// Whether a request path can fire any of the path-based rules (the line is then parsed).
pub fn interesting_stem(stem: &str) -> bool {
    POST_TARGETS.iter().any(|t| stem.eq_ignore_ascii_case(t))
        || is_ecp_short_js(stem)
        || AUTH_JS.iter().any(|t| stem.eq_ignore_ascii_case(t))
        || stem.eq_ignore_ascii_case("/rpc/")
        || webshell_drop_folder(stem).is_some()
}

/// The user-agent literals: every line the user-agent rule fires on contains one.
const UA_ANCHORS: [&str; TOOL_AGENTS.len() + CRAWLER_AGENTS.len()] = {
    let mut out = [""; TOOL_AGENTS.len() + CRAWLER_AGENTS.len()];
    let mut i = 0;
    while i < TOOL_AGENTS.len() {
        out[i] = TOOL_AGENTS[i];
        i += 1;
    }
    let mut j = 0;
    while j < CRAWLER_AGENTS.len() {
        out[i + j] = CRAWLER_AGENTS[j];
        j += 1;
    }
    out
};

impl Detector for IisHafnium {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::IisW3c]
    }
    fn anchors(&self) -> &[&'static str] {
        &UA_ANCHORS
    }
    fn field_gate(&self) -> Option<FieldGate> {
        Some(FieldGate { column: "cs-uri-stem", test: interesting_stem, literals: &STEM_LITERALS })
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        let Some(h) = rec.header() else { return };
        let k = h.known;
        let stem = rec.col(k.uri_stem).unwrap_or("");
        let method = rec.col(k.method).unwrap_or("");
        let ua = rec.col(k.user_agent).unwrap_or("");
        let status = rec.col(k.status).unwrap_or("");
        let is_post = method.eq_ignore_ascii_case("POST");
        let mk = |rule: &RuleMeta| {
            let mut f = ctx.finding(rule, rec).with_evidence(rec.raw);
            for (key, v) in [
                ("client_ip", rec.col(k.client_ip)),
                ("user_agent", Some(ua)),
                ("uri_stem", Some(stem)),
                ("status", Some(status)),
                ("method", Some(method)),
            ] {
                if let Some(v) = v.filter(|v| !v.is_empty() && *v != "-") {
                    f.extra.insert(key.into(), v.into());
                }
            }
            f
        };

        if is_post && POST_TARGETS.iter().any(|t| stem.eq_ignore_ascii_case(t)) {
            out.push(mk(&RULE_POST).titled(format!("HAFNIUM exploit request: POST {stem}")));
        }
        if is_ecp_short_js(stem) {
            out.push(
                mk(&RULE_ECP_SHORT_JS).titled(format!("ProxyLogon front-end request: {method} {stem} (HTTP {status})")),
            );
        }
        if AUTH_JS.iter().any(|t| stem.eq_ignore_ascii_case(t)) {
            out.push(mk(&RULE_AUTH_JS).titled(format!("ProxyLogon probe: {method} {stem} (HTTP {status})")));
        }
        if method.eq_ignore_ascii_case("GET")
            && stem.eq_ignore_ascii_case("/rpc/")
            && matches!(status, "200" | "301" | "302")
            && rec.col(k.uri_query).is_some_and(|q| contains_ci(q, "&CorrelationID=<empty>;&RequestId="))
        {
            out.push(mk(&RULE_RPC_POC));
        }
        if !ua.is_empty() && ua != "-" {
            let tool = self.tools.find(ua).map(|m| &ua[m.range()]);
            let crawler = || {
                (is_post && (starts_ci(stem, "/owa/") || starts_ci(stem, "/ecp/")))
                    .then(|| self.crawlers.find(ua).map(|m| &ua[m.range()]))
                    .flatten()
            };
            if let Some(agent) = tool.or_else(crawler) {
                out.push(
                    mk(&RULE_UA)
                        .titled(format!("User agent published for HAFNIUM exploitation: {agent} ({method} {stem})")),
                );
            }
        }
        if let Some(why) = webshell_drop_folder(stem) {
            let ok = status.len() == 3 && status.starts_with('2');
            let mut f = mk(&RULE_WEBSHELL);
            if ok {
                f.title = format!("Web shell answered: {method} {stem} (HTTP {status}, {why})");
            } else {
                f.severity = Severity::Low;
                f.title =
                    format!("Request for a web shell that did not answer: {method} {stem} (HTTP {status}, {why})");
            }
            out.push(f.with_extra("drop_folder", why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_folders() {
        assert!(webshell_drop_folder("/owa/auth/RedirSuiteServerProxy.aspx").is_some());
        assert!(webshell_drop_folder("/owa/auth/RedirSuiteServiceProxy.aspx").is_none());
        assert!(webshell_drop_folder("/OWA/AUTH/logon.aspx").is_none());
        assert!(webshell_drop_folder("/owa/auth/Current/themes/resources/logon.aspx").is_some());
        assert!(webshell_drop_folder("/owa/auth/15.1.2176/x.aspx").is_some());
        assert!(webshell_drop_folder("/aspnet_client/system_web/abcd1234.aspx").is_some());
        assert!(webshell_drop_folder("/ecp/auth/TimeoutLogout.aspx").is_none());
        assert!(webshell_drop_folder("/ecp/auth/TimeoutLogoff.aspx").is_some());
        assert!(webshell_drop_folder("/OAB/log.aspx").is_some());
        assert!(webshell_drop_folder("/ecp/default.aspx").is_none());
        assert!(webshell_drop_folder("/aspnet_client/x.js").is_none());
    }

    #[test]
    fn short_js() {
        assert!(is_ecp_short_js("/ecp/y.js"));
        assert!(is_ecp_short_js("/ecp/ab1.js"));
        assert!(!is_ecp_short_js("/ecp/abcd.js"));
        assert!(!is_ecp_short_js("/ecp/15.1.2176/scripts/common.js"));
        assert!(!is_ecp_short_js("/ecp/.js"));
    }

    /// The stem literals stand in for `interesting_stem` on the bulk path: every stem it accepts,
    /// written between separators as in a W3C line, must contain one of them.
    #[test]
    fn stem_literals_cover_every_interesting_stem() {
        let lits = crate::read::prefilter::CiLiterals::new(&STEM_LITERALS);
        let mut stems: Vec<String> = POST_TARGETS.iter().chain(AUTH_JS).map(|s| s.to_string()).collect();
        stems.extend(
            [
                "/ecp/y.js",
                "/ECP/AB1.JS",
                "/rpc/",
                "/aspnet_client/system_web/abcd1234.aspx",
                "/owa/auth/x.aspx",
                "/owa/auth/Current/themes/resources/a.ASPX",
                "/ecp/auth/shell.aspx",
                "/OAB/log.aspx",
                "/EWS/shell.aspx",
            ]
            .map(String::from),
        );
        for stem in &stems {
            assert!(interesting_stem(stem), "{stem} is not interesting");
            let line = format!("2021-03-03 06:47:55 10.0.1.31 POST {stem} - 443 - 1.2.3.4 ua - 200 0 0 1");
            assert!(lits.is_match(line.as_bytes()), "{stem}: no stem literal in {line:?}");
        }
    }
}
