//! exsweep's own detections written as Sigma rules (`crates/exsweep-sigma/rules/`), embedded in
//! the binary, and the full built-in detector set: these rules plus the checks that stay in Rust
//! because Sigma cannot say them (see `docs/DETECTIONS.md`: severities that depend on another
//! field, the Exchange install path of the OAB check, the ECP log regex over a whole line).

use crate::detector::SigmaDetector;
use crate::rules::SigmaRules;
use exsweep_core::Engine;
use exsweep_core::detect::Detector;

/// (file name, text) of every embedded rule.
pub const RULE_FILES: &[(&str, &str)] = &[
    ("exchange_httpproxy_26855_backendcookie.yml", include_str!("../rules/exchange_httpproxy_26855_backendcookie.yml")),
    (
        "windows_application_26857_um_invalidcast.yml",
        include_str!("../rules/windows_application_26857_um_invalidcast.yml"),
    ),
    ("webserver_iis_hafnium_post.yml", include_str!("../rules/webserver_iis_hafnium_post.yml")),
    ("webserver_iis_ecp_short_js.yml", include_str!("../rules/webserver_iis_ecp_short_js.yml")),
    ("webserver_iis_auth_js.yml", include_str!("../rules/webserver_iis_auth_js.yml")),
    ("webserver_iis_rpc_poc.yml", include_str!("../rules/webserver_iis_rpc_poc.yml")),
    ("webserver_iis_hafnium_ua.yml", include_str!("../rules/webserver_iis_hafnium_ua.yml")),
];

/// Adds the embedded rules to a rule set (before the user's, so they keep their order).
pub fn add_to(rules: &mut SigmaRules) {
    for (name, text) in RULE_FILES {
        rules.add_yaml(text, &format!("builtin:{name}"));
    }
}

/// The embedded rules alone.
pub fn rules() -> SigmaRules {
    let mut r = SigmaRules::new();
    add_to(&mut r);
    r.finish();
    r
}

/// The rule ids of every built-in detection, Rust and Sigma.
pub fn rule_ids() -> Vec<String> {
    let mut ids: Vec<String> = exsweep_core::engine::builtin_rule_ids().into_iter().map(String::from).collect();
    ids.extend(rules().rules().iter().filter_map(|r| r.info.id.clone()));
    ids
}

/// The built-in detectors, with `rules` (the embedded ones, and the user's when given) as Sigma.
pub fn detectors_with(rules: SigmaRules) -> Vec<Box<dyn Detector>> {
    let mut d = exsweep_core::detect::builtin();
    d.push(Box::new(SigmaDetector::new(rules)));
    d
}

/// Every built-in detector.
pub fn detectors() -> Vec<Box<dyn Detector>> {
    detectors_with(rules())
}

/// A scan engine with every built-in detector.
pub fn engine() -> Engine {
    Engine::new(detectors())
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_rules_load_without_problems() {
        let r = super::rules();
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.len(), super::RULE_FILES.len());
        for rule in r.rules() {
            assert!(rule.info.id.as_deref().is_some_and(|id| id.starts_with("EXS-")), "{:?}", rule.info.title);
            assert!(rule.needles().is_some(), "{} has no prefilter needle", rule.info.title);
        }
    }

    #[test]
    fn textual_needles_cannot_come_from_binary_values() {
        use crate::rules::textual;
        for binary in [
            "4688",
            "0x1f",
            "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}",
            "s-1-5-18",
            "2021-03-03t06:49:42.162z",
            "true",
            "false",
            "nan",
            "-1.5e+10",
            "deadbeef",
            "[1, 2, 3]",
            "1,2;3",
        ] {
            assert!(!textual(binary), "{binary}");
        }
        for text in ["\\cmd.exe", "powershell", "system.invalidcastexception", "whoami", "c:\\"] {
            assert!(textual(text), "{text}");
        }
    }

    /// The scan's line and chunk prefilters rest on these: the embedded rules must give anchors
    /// for every log they read, and none as common as `/owa/` (every OWA request would be parsed).
    #[test]
    fn embedded_rules_give_selective_anchors() {
        use exsweep_core::detect::Detector;
        use exsweep_core::model::ArtifactKind;
        let d = crate::SigmaDetector::new(super::rules());
        let iis = d.anchors_for(ArtifactKind::IisW3c);
        // `k` and `s` are cut out of raw-byte anchors (see detector::raw_anchor).
        assert!(iis.contains(&"python-reque") && iis.contains(&"lurp"), "{iis:?}");
        assert!(!iis.contains(&"/owa/"), "{iis:?}");
        assert!(!iis.iter().any(|a| a.contains("unified")), "an Application rule does not see IIS: {iis:?}");
        assert_eq!(d.anchors_for(ArtifactKind::Httpproxy), vec!["erver~"]);
        assert_eq!(d.anchors_for(ArtifactKind::Evtx), vec!["tem.invalidca"]);
        assert!(d.anchors_for(ArtifactKind::EventExport).is_empty(), "exports are read whole");
    }
}
