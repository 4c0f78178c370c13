//! Requests to `.aspx` files in web-shell drop folders, in IIS W3C logs. Its severity depends on
//! the status (a shell that answered, or a probe for one that is not there), which Sigma cannot
//! say; the HAFNIUM request patterns and user agents are exsweep's Sigma rules
//! (`crates/exsweep-sigma/rules/webserver_iis_*.yml`). Every IIS line goes through the gate here,
//! so the checks are byte comparisons on borrowed columns: no allocation and no regex.

use super::{Detector, FieldGate, FileCtx, ends_ci, starts_ci};
use crate::model::{ArtifactKind, Category, Finding, RuleMeta, Severity};
use crate::record::Record;

pub const RULE_WEBSHELL: RuleMeta = RuleMeta {
    id: "EXS-IIS-WEBSHELL-ASPX",
    title: "Request to an .aspx file in a web-shell drop folder",
    severity: Severity::Critical,
    category: Category::Webshell,
    cves: &["CVE-2021-27065", "CVE-2021-26858"],
    actors: &[],
    attack: &["T1505.003"],
};

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

/// `EXS-IIS-WEBSHELL-ASPX`.
pub struct IisWebshell;

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

/// Every W3C line whose `cs-uri-stem` passes [`interesting_stem`] contains this (the stem is
/// space-separated from its neighbours, and every drop-folder request ends in `.aspx`).
pub const STEM_LITERALS: [&str; 1] = [".aspx "];

/// Whether a request path can fire the rule (the line is then parsed).
pub fn interesting_stem(stem: &str) -> bool {
    webshell_drop_folder(stem).is_some()
}

impl Detector for IisWebshell {
    fn kinds(&self) -> &[ArtifactKind] {
        &[ArtifactKind::IisW3c]
    }
    fn anchors(&self) -> &[&'static str] {
        &[]
    }
    fn field_gate(&self) -> Option<FieldGate> {
        Some(FieldGate { column: "cs-uri-stem", test: interesting_stem, literals: &STEM_LITERALS })
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        let Some(h) = rec.header() else { return };
        let k = h.known;
        let stem = rec.col(k.uri_stem).unwrap_or("");
        let Some(why) = webshell_drop_folder(stem) else { return };
        let method = rec.col(k.method).unwrap_or("");
        let status = rec.col(k.status).unwrap_or("");
        let mut f = ctx.finding(&RULE_WEBSHELL, rec).with_evidence(rec.raw);
        for (key, v) in [
            ("client_ip", rec.col(k.client_ip)),
            ("user_agent", rec.col(k.user_agent)),
            ("uri_stem", Some(stem)),
            ("status", Some(status)),
            ("method", Some(method)),
        ] {
            if let Some(v) = v.filter(|v| !v.is_empty() && *v != "-") {
                f.extra.insert(key.into(), v.into());
            }
        }
        if status.len() == 3 && status.starts_with('2') {
            f.title = format!("Web shell answered: {method} {stem} (HTTP {status}, {why})");
        } else {
            f.severity = Severity::Low;
            f.title = format!("Request for a web shell that did not answer: {method} {stem} (HTTP {status}, {why})");
        }
        out.push(f.with_extra("drop_folder", why));
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

    /// The stem literals stand in for `interesting_stem` on the bulk path: every stem it accepts,
    /// written between separators as in a W3C line, must contain one of them.
    #[test]
    fn stem_literals_cover_every_interesting_stem() {
        let lits = crate::read::prefilter::CiLiterals::new(&STEM_LITERALS);
        let stems: Vec<String> = [
            "/aspnet_client/system_web/abcd1234.aspx",
            "/owa/auth/x.aspx",
            "/owa/auth/Current/themes/resources/a.ASPX",
            "/ecp/auth/shell.aspx",
            "/OAB/log.aspx",
            "/EWS/shell.aspx",
        ]
        .map(String::from)
        .to_vec();
        for stem in &stems {
            assert!(interesting_stem(stem), "{stem} is not interesting");
            let line = format!("2021-03-03 06:47:55 10.0.1.31 POST {stem} - 443 - 1.2.3.4 ua - 200 0 0 1");
            assert!(lits.is_match(line.as_bytes()), "{stem}: no stem literal in {line:?}");
        }
    }
}
