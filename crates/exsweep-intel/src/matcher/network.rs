//! [`NetworkIocDetector`]: IPs, IP ranges, domains, URLs and user agents in every field of every
//! log record that can carry them: all columns of IIS, HttpProxy, ECP and other Exchange logs
//! (`c-ip`, `X-Forwarded-For`, `cs(User-Agent)`, `cs(Referer)`, `cs-host`, `cs-uri-query`,
//! `ClientIpAddress`, `UserAgent`, `UrlHost`, ...), every EventData value of Windows events
//! (Sysmon 3 `DestinationIp`, Sysmon 22 `QueryName`, 4624 `IpAddress`, command lines), and the
//! whole line of plain text logs.
//!
//! IPs are found by parsing the address-shaped runs of a value (so `1.2.3.45` is not `1.2.3.4`);
//! domains need label boundaries (`evil.com` matches `a.evil.com`, not `notevil.com`); URLs match
//! from their host on, also percent-decoded; user agents match as substrings with `+` and space
//! taken as equal (IIS writes spaces as `+`). The engine's prefilter gets the literals of all of
//! them; an IP range has no literal, so with ranges loaded every record is checked (every line
//! is then parsed and scanned: several times slower on large IIS logs). A URL's anchor is its
//! host, so a line whose host is itself percent-encoded (`evil%2Ecom`) is not looked at.

use super::{actor_label, describe, source_label};
use crate::indicator::{Indicator, IndicatorKind, IocSet};
use crate::normalize;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use exsweep_core::detect::{Detector, FileCtx};
use exsweep_core::model::{ArtifactKind, Category, Finding, MAX_EVIDENCE, RuleMeta, Severity};
use exsweep_core::record::{Fields, Record};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

pub const RULE_IP: RuleMeta = RuleMeta {
    id: "EXS-IOC-IP",
    title: "Published IOC IP address in a log record",
    severity: Severity::High,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

pub const RULE_DOMAIN: RuleMeta = RuleMeta {
    id: "EXS-IOC-DOMAIN",
    title: "Published IOC domain in a log record",
    severity: Severity::High,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

pub const RULE_URL: RuleMeta = RuleMeta {
    id: "EXS-IOC-URL",
    title: "Published IOC URL in a log record",
    severity: Severity::High,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

pub const RULE_UA: RuleMeta = RuleMeta {
    id: "EXS-IOC-UA",
    title: "User agent named in exploitation reports (a lead, not proof)",
    severity: Severity::Low,
    category: Category::Ioc,
    cves: &[],
    actors: &[],
    attack: &[],
};

const KINDS: [ArtifactKind; 7] = [
    ArtifactKind::Httpproxy,
    ArtifactKind::EcpServer,
    ArtifactKind::OabGenerator,
    ArtifactKind::ExchangeLog,
    ArtifactKind::IisW3c,
    ArtifactKind::Evtx,
    ArtifactKind::EventExport,
];

/// Longest field value kept in a finding's `extra.ioc_matched`.
const MAX_MATCHED: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needle {
    Domain,
    Url,
    UserAgent,
}

/// The network IOC detector. Build it once per scan.
pub struct NetworkIocDetector {
    inds: Vec<Indicator>,
    ips: HashMap<IpAddr, Vec<usize>>,
    /// Per prefix length: masked network → indicators.
    cidrs: Vec<(u32, bool, HashMap<IpAddr, Vec<usize>>)>,
    has_v6: bool,
    ac: Option<AhoCorasick>,
    /// Per automaton pattern: the indicators it stands for.
    needles: Vec<Vec<(usize, Needle)>>,
    /// Literals selecting the lines to check (domains, URL hosts, user-agent pieces, IPv6).
    anchors: Vec<String>,
    /// IPv4 indicator addresses, found by the prefilter as address runs (as [`Self::scan_ips`]
    /// reads them).
    ipv4_anchors: Vec<Ipv4Addr>,
    kinds: Vec<ArtifactKind>,
}

/// `+` as space, for user agents as IIS writes them.
fn fold(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('+') { s.replace('+', " ").into() } else { s.into() }
}

fn label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl NetworkIocDetector {
    /// Takes the IP, range, domain, URL and user-agent indicators of `set`.
    pub fn new(set: &IocSet) -> NetworkIocDetector {
        let inds: Vec<Indicator> = set.indicators().iter().filter(|i| i.kind.is_network()).cloned().collect();
        let mut ips: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        let mut cidr_map: HashMap<(u32, bool), HashMap<IpAddr, Vec<usize>>> = HashMap::new();
        let mut needle_ids: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut needles: Vec<Vec<(usize, Needle)>> = Vec::new();
        let mut anchors: Vec<String> = Vec::new();
        let mut ipv4_anchors: Vec<Ipv4Addr> = Vec::new();
        let mut has_cidr = false;
        let mut has_v6 = false;
        let mut add_needle = |text: String, n: usize, kind: Needle| {
            if text.is_empty() {
                return;
            }
            let next = patterns.len();
            let id = *needle_ids.entry(text.clone()).or_insert(next);
            if id == next {
                patterns.push(text);
                needles.push(Vec::new());
            }
            needles[id].push((n, kind));
        };
        for (n, i) in inds.iter().enumerate() {
            match i.kind {
                IndicatorKind::Ip => {
                    if let Some(ip) = normalize::ip(&i.value) {
                        has_v6 |= ip.is_ipv6();
                        ips.entry(ip).or_default().push(n);
                        match normalize::canonical_ip(ip) {
                            IpAddr::V4(v4) => ipv4_anchors.push(v4),
                            v6 => anchors.push(v6.to_string()),
                        }
                    }
                }
                IndicatorKind::Cidr => {
                    if let Some((net, len)) = i.value.split_once('/')
                        && let (Some(net), Ok(len)) = (normalize::ip(net), len.parse::<u32>())
                    {
                        has_cidr = true;
                        has_v6 |= net.is_ipv6();
                        cidr_map.entry((len, net.is_ipv6())).or_default().entry(net).or_default().push(n);
                    }
                }
                IndicatorKind::Domain => {
                    add_needle(i.value.to_lowercase(), n, Needle::Domain);
                    anchors.push(i.value.to_lowercase());
                }
                IndicatorKind::Url => {
                    let rest = i.value.split_once("://").map_or(i.value.as_str(), |(_, r)| r);
                    add_needle(fold(rest).to_lowercase(), n, Needle::Url);
                    anchors.push(normalize::url_host(&i.value).to_lowercase());
                }
                IndicatorKind::UserAgent => {
                    add_needle(fold(&i.value).to_lowercase(), n, Needle::UserAgent);
                    // Every `+`/space-free piece of the agent appears verbatim in the line,
                    // whichever form the log writes; the longest is the most selective.
                    let token = i.value.split([' ', '+']).max_by_key(|t| t.len()).unwrap_or(&i.value);
                    anchors.push(token.to_lowercase());
                }
                _ => {}
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new().ascii_case_insensitive(true).match_kind(MatchKind::Standard).build(&patterns).ok()
        };
        let mut cidrs: Vec<(u32, bool, HashMap<IpAddr, Vec<usize>>)> =
            cidr_map.into_iter().map(|((len, v6), m)| (len, v6, m)).collect();
        cidrs.sort_by_key(|(len, v6, _)| (*v6, std::cmp::Reverse(*len)));
        anchors.sort();
        anchors.dedup();
        ipv4_anchors.sort();
        ipv4_anchors.dedup();
        if has_cidr {
            // No literal selects the lines of a range: every record must be looked at.
            anchors.clear();
            ipv4_anchors.clear();
        }
        let kinds = if inds.is_empty() { Vec::new() } else { KINDS.to_vec() };
        NetworkIocDetector { inds, ips, cidrs, has_v6, ac, needles, anchors, ipv4_anchors, kinds }
    }

    /// Indicators the detector holds.
    pub fn len(&self) -> usize {
        self.inds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inds.is_empty()
    }

    /// True when IP ranges are loaded, so that every record is checked.
    pub fn checks_every_record(&self) -> bool {
        !self.inds.is_empty() && self.anchors.is_empty() && self.ipv4_anchors.is_empty()
    }

    fn lookup_ip(&self, ip: IpAddr, out: &mut Vec<usize>) {
        let ip = normalize::canonical_ip(ip);
        if let Some(v) = self.ips.get(&ip) {
            out.extend_from_slice(v);
        }
        for (len, v6, nets) in &self.cidrs {
            if *v6 == ip.is_ipv6()
                && let Some(v) = nets.get(&normalize::mask(ip, *len))
            {
                out.extend_from_slice(v);
            }
        }
    }

    /// The indicators `value` contains (unsorted, may repeat).
    #[cfg(test)]
    fn scan(&self, value: &str, out: &mut Vec<usize>) {
        self.scan_with(value, &mut String::new(), out);
    }

    /// [`Self::scan`] with a reused buffer for the `+`-folded value.
    fn scan_with(&self, value: &str, buf: &mut String, out: &mut Vec<usize>) {
        if !self.ips.is_empty() || !self.cidrs.is_empty() {
            self.scan_ips(value, out);
        }
        if let Some(ac) = &self.ac {
            let text = if value.contains('+') {
                buf.clear();
                for (i, part) in value.split('+').enumerate() {
                    if i > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(part);
                }
                buf.as_str()
            } else {
                value
            };
            self.scan_text(ac, text, true, out);
            if value.contains('%') {
                let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                if decoded != value {
                    self.scan_text(ac, &fold(&decoded), false, out);
                }
            }
        }
    }

    fn scan_ips(&self, value: &str, out: &mut Vec<usize>) {
        let b = value.as_bytes();
        let mut i = 0;
        // IPv4: maximal runs of digits and dots (so that neighbours of a longer number or
        // address do not match), trailing dots dropped.
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let run = value[start..i].trim_end_matches('.');
            if run.len() >= 7
                && run.bytes().filter(|&c| c == b'.').count() == 3
                && let Ok(ip) = run.parse::<std::net::Ipv4Addr>()
            {
                self.lookup_ip(IpAddr::V4(ip), out);
            }
        }
        if self.has_v6 && value.contains(':') {
            let mut i = 0;
            while i < b.len() {
                if !(b[i].is_ascii_hexdigit() || b[i] == b':') {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b':' || b[i] == b'.') {
                    i += 1;
                }
                let run = &value[start..i];
                if run.contains(':')
                    && let Ok(ip) = run.trim_end_matches('.').parse::<std::net::Ipv6Addr>()
                {
                    self.lookup_ip(IpAddr::V6(ip), out);
                }
            }
        }
    }

    fn scan_text(&self, ac: &AhoCorasick, text: &str, raw: bool, out: &mut Vec<usize>) {
        let b = text.as_bytes();
        for m in ac.find_overlapping_iter(text) {
            let (s, e) = (m.start(), m.end());
            let before = s.checked_sub(1).map(|k| b[k]);
            let after = b.get(e).copied();
            for &(n, kind) in &self.needles[m.pattern().as_usize()] {
                let ok = match kind {
                    // Decoded text is read for URLs and domains only.
                    Needle::UserAgent => raw,
                    Needle::Domain => {
                        let left = before.is_none_or(|c| !label_char(c));
                        let right = match after {
                            None => true,
                            Some(b'.') => b.get(e + 1).is_none_or(|&c| !label_char(c)),
                            Some(c) => !label_char(c),
                        };
                        left && right
                    }
                    Needle::Url => {
                        let left = before.is_none_or(|c| !label_char(c) && c != b'.');
                        let ends_open = b[e - 1] == b'/';
                        let right =
                            ends_open || after.is_none_or(|c| !(c.is_ascii_alphanumeric() || b"-._~%".contains(&c)));
                        left && right
                    }
                };
                if ok {
                    out.push(n);
                }
            }
        }
    }

    fn finding(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, n: usize, fields: &[(String, String)]) -> Finding {
        let ind = &self.inds[n];
        let rule = match ind.kind {
            IndicatorKind::Ip | IndicatorKind::Cidr => &RULE_IP,
            IndicatorKind::Domain => &RULE_DOMAIN,
            IndicatorKind::Url => &RULE_URL,
            _ => &RULE_UA,
        };
        let mut f = ctx.finding(rule, rec);
        describe(&mut f, ind);
        let (field, value) = fields.first().map(|(k, v)| (k.as_str(), v.as_str())).unwrap_or(("", ""));
        f.title = format!(
            "{} {} in {field} ({}{})",
            ind.kind.label(),
            crate::clip(&ind.value, 160),
            source_label(ind),
            actor_label(ind)
        );
        f.evidence = match rec.event() {
            Some(ev) if rec.raw.is_empty() => ev.excerpt(MAX_EVIDENCE),
            _ => exsweep_core::model::truncate(rec.raw, MAX_EVIDENCE).to_string(),
        };
        let x = &mut f.extra;
        x.insert("ioc_field".into(), field.into());
        x.insert("ioc_matched".into(), crate::clip(value, MAX_MATCHED).into());
        if fields.len() > 1 {
            x.insert("ioc_fields".into(), fields.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>().into());
        }
        if ind.kind == IndicatorKind::UserAgent {
            x.insert("lead".into(), "a user agent alone proves nothing: look at what the requests did".into());
        }
        f
    }
}

/// Calls `f` with every (field name, value) of a record.
fn each_field(rec: &Record<'_>, mut f: impl FnMut(&str, &str)) {
    match rec.fields {
        Fields::Columns { header, .. } => {
            for (i, name) in header.names.iter().enumerate() {
                if let Some(v) = rec.col(Some(i)) {
                    f(name, v);
                }
            }
        }
        Fields::Event(ev) => {
            for (i, (k, v)) in ev.data.iter().enumerate() {
                match k {
                    Some(k) => f(k, v),
                    None => f(&format!("Data[{i}]"), v),
                }
            }
            if let Some(m) = &ev.message {
                f("Message", m);
            }
        }
        Fields::Text => f("line", rec.raw),
    }
}

impl Detector for NetworkIocDetector {
    fn kinds(&self) -> &[ArtifactKind] {
        &self.kinds
    }
    fn anchors(&self) -> &[&'static str] {
        &[]
    }
    fn anchors_for(&self, _kind: ArtifactKind) -> Vec<&str> {
        self.anchors.iter().map(String::as_str).collect()
    }
    fn ipv4_anchors(&self, _kind: ArtifactKind) -> Vec<Ipv4Addr> {
        self.ipv4_anchors.clone()
    }
    fn check(&self, ctx: &FileCtx<'_>, rec: &Record<'_>, out: &mut Vec<Finding>) {
        // Indicator → the fields it was found in (first one first).
        let mut found: Vec<(usize, Vec<(String, String)>)> = Vec::new();
        let mut scratch = Vec::new();
        let mut buf = String::new();
        each_field(rec, |name, value| {
            if value.is_empty() || value == "-" {
                return;
            }
            scratch.clear();
            self.scan_with(value, &mut buf, &mut scratch);
            if scratch.is_empty() {
                return;
            }
            scratch.sort_unstable();
            scratch.dedup();
            for &n in &scratch {
                match found.iter_mut().find(|(i, _)| *i == n) {
                    Some((_, fields)) => {
                        if !fields.iter().any(|(k, _)| k == name) {
                            fields.push((name.to_string(), value.to_string()));
                        }
                    }
                    None => found.push((n, vec![(name.to_string(), value.to_string())])),
                }
            }
        });
        found.sort_by_key(|(n, _)| *n);
        let posted = || {
            ["cs-method", "Method", "HttpMethod"]
                .iter()
                .any(|m| rec.get(m).is_some_and(|v| v.eq_ignore_ascii_case("POST")))
        };
        for (n, fields) in found {
            // Crawler agents are leads only on POSTs (crawlers do not post): plain crawling by
            // the real Googlebot stays silent, as in EXS-IIS-HAFNIUM-UA.
            let ind = &self.inds[n];
            if ind.kind == IndicatorKind::UserAgent && is_crawler_agent(&ind.value) && !posted() {
                continue;
            }
            out.push(self.finding(ctx, rec, n, &fields));
        }
    }
}

/// User agents of web crawlers (and the Chrome 51 agent Volexity saw) that real crawlers send too.
fn is_crawler_agent(ua: &str) -> bool {
    let l = ua.to_ascii_lowercase();
    ["bot", "spider", "slurp", "facebookexternalhit", "crawler", "chrome/51.0.2704.103"].iter().any(|k| l.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::FeedFormat;
    use exsweep_core::record::{EventRecord, Header};

    fn detector(extra: &str) -> NetworkIocDetector {
        let mut set = IocSet::new();
        let text = format!(
            "kind\tvalue\tscore\tactors\tsource\tnote\n\
             ip\t5.254.43.18\t\tHAFNIUM\tVOL\tVolexity\n\
             domain\tevil.example.com\t\tTick\tESET\tC&C\n\
             url\thxxp://drop.example.net/p/a.ps1\t\t\tX\tdownload\n\
             user_agent\tMozilla/5.0+(compatible;+Baiduspider/2.0;++http://www.baidu.com/search/spider.html)\t\t\tCISA\tlead\n\
             user_agent\tpython-requests/2.25.1\t\t\tCISA\tlead\n{extra}"
        );
        set.add_text("test.tsv", &text, FeedFormat::Pack);
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        NetworkIocDetector::new(&set)
    }

    fn spans_of(text: &str) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c == ' ' {
                out.push((start as u32, i as u32));
                start = i + 1;
            }
        }
        out.push((start as u32, text.len() as u32));
        out
    }

    const CTX: FileCtx<'static> = FileCtx {
        source: 0,
        path: "C/inetpub/logs/LogFiles/W3SVC1/u_ex210303.log",
        kind: ArtifactKind::IisW3c,
        protocol: None,
        exchange_path: None,
    };

    /// Checks one W3C line (space-separated, as IIS writes it) under a fixed header.
    fn check_line(d: &NetworkIocDetector, line: &str) -> Vec<Finding> {
        let header = Header::new(
            "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status"
                .split(' ')
                .map(String::from)
                .collect(),
        );
        let spans = spans_of(line);
        let rec = Record {
            line: Some(5),
            record_id: None,
            time: None,
            raw: line,
            fields: Fields::Columns { header: &header, text: line, spans: &spans },
        };
        let mut out = Vec::new();
        d.check(&CTX, &rec, &mut out);
        out
    }

    #[test]
    fn iis_fields() {
        let d = detector("");
        let line = "2021-03-03 06:47:55 10.0.0.5 POST /owa/auth/Current/themes/resources/logon.css \
                    &r=http%3A%2F%2Fdrop.example.net%2Fp%2Fa.ps1 443 - 5.254.43.18 \
                    Mozilla/5.0+(compatible;+Baiduspider/2.0;++http://www.baidu.com/search/spider.html) \
                    http://a.evil.example.com/x 200";
        let out = check_line(&d, line);
        let rules: Vec<(&str, &str)> =
            out.iter().map(|f| (f.rule_id.as_str(), f.extra["ioc_field"].as_str().unwrap())).collect();
        assert_eq!(
            rules,
            vec![
                ("EXS-IOC-IP", "c-ip"),
                ("EXS-IOC-DOMAIN", "cs(Referer)"),
                ("EXS-IOC-URL", "cs-uri-query"),
                ("EXS-IOC-UA", "cs(User-Agent)")
            ]
        );
        let ip = &out[0];
        assert_eq!(ip.severity, Severity::High);
        assert_eq!(ip.rule_source, "ioc");
        assert_eq!(ip.category, Category::Ioc);
        assert_eq!(ip.actors, vec!["HAFNIUM"]);
        assert_eq!(ip.line, Some(5));
        assert_eq!(ip.evidence, line);
        assert_eq!(ip.extra["ioc_matched"], "5.254.43.18");
        assert!(ip.title.starts_with("IP address 5.254.43.18 in c-ip (VOL; HAFNIUM)"), "{}", ip.title);
        assert_eq!(out[3].severity, Severity::Low);
        assert!(out[3].extra.contains_key("lead"));
    }

    #[test]
    fn boundaries() {
        let d = detector("");
        let cases = [
            ("5.254.43.18", true),
            ("::ffff:5.254.43.18", true),
            ("5.254.43.18:443", true),
            ("15.254.43.18", false),
            ("5.254.43.181", false),
            ("5.254.43.18.7", false),
            ("evil.example.com", true),
            ("a.evil.example.com", true),
            ("EVIL.EXAMPLE.COM.", true),
            ("notevil.example.com", false),
            ("evil.example.com.attacker.net", false),
            ("evil.example.community", false),
            ("https://drop.example.net/p/a.ps1?x=1", true),
            ("https://drop.example.net/p/a.ps1x", false),
            ("https://xdrop.example.net/p/a.ps1", false),
            ("python-requests/2.25.1", true),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            d.scan(v, &mut out);
            assert_eq!(!out.is_empty(), want, "{v}: {out:?}");
        }
        // User agents match in both forms: IIS `+` and HttpProxy spaces.
        let mut out = Vec::new();
        d.scan("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn events_and_ranges() {
        let d = detector("cidr\t91.192.103.0/24\t\t\tX\trange\n");
        assert!(d.checks_every_record());
        assert!(d.anchors_for(ArtifactKind::Evtx).is_empty());
        let ev = EventRecord {
            record_id: Some(77),
            channel: "Microsoft-Windows-Sysmon/Operational".into(),
            provider: "Microsoft-Windows-Sysmon".into(),
            event_id: Some(22),
            computer: "EX01".into(),
            data: vec![
                (Some("QueryName".into()), "cdn.evil.example.com".into()),
                (Some("QueryResults".into()), "::ffff:91.192.103.43;".into()),
            ],
            ..EventRecord::default()
        };
        let rec = Record { line: None, record_id: Some(77), time: None, raw: "", fields: Fields::Event(&ev) };
        let ctx = FileCtx { kind: ArtifactKind::Evtx, path: "Windows/System32/winevt/Logs/Sysmon.evtx", ..CTX };
        let mut out = Vec::new();
        d.check(&ctx, &rec, &mut out);
        let got: Vec<(&str, &str)> =
            out.iter().map(|f| (f.rule_id.as_str(), f.extra["ioc_field"].as_str().unwrap())).collect();
        assert_eq!(got, vec![("EXS-IOC-DOMAIN", "QueryName"), ("EXS-IOC-IP", "QueryResults")]);
        assert_eq!(out[0].record, Some(77));
        assert!(out[0].evidence.contains("EventID=22"));
    }

    #[test]
    fn anchors_cover_both_user_agent_forms() {
        let d = detector("");
        let anchors = d.anchors_for(ArtifactKind::IisW3c);
        let ips = d.ipv4_anchors(ArtifactKind::IisW3c);
        // Addresses go to the prefilter as addresses, not as literals.
        assert!(!anchors.contains(&"5.254.43.18"));
        assert!(ips.contains(&"5.254.43.18".parse().unwrap()));
        assert!(anchors.contains(&"evil.example.com"));
        assert!(anchors.contains(&"drop.example.net"));
        let lits = exsweep_core::read::prefilter::CiLiterals::with_ipv4(&anchors, &ips);
        for line in [
            "2021-03-03 06:47:55 POST /x - 1.1.1.1 Mozilla/5.0+(compatible;+Baiduspider/2.0;++http://www.baidu.com/search/spider.html) 200",
            "2021-03-03T06:47:55Z,x,Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html),1.1.1.1",
            "2021-03-03 06:47:55 POST /owa/auth/x.aspx - 443 - 5.254.43.18 python-requests/2.25.1 200",
            "2021-03-03T06:47:55Z,x,/ecp/y.js,Mozilla/5.0,5.254.43.18,",
        ] {
            assert!(lits.is_match(line.as_bytes()), "{line}");
        }
        assert!(!lits.is_match(b"2021-03-03 06:47:55 GET /owa/ - 10.0.0.1 Mozilla/5.0+(Windows+NT+10.0) 200"));
        // A longer number holding the address is another address (as the detector reads it).
        assert!(!lits.is_match(b"2021-03-03 06:47:55 GET /owa/ - 15.254.43.180 Mozilla/5.0 200"));
        // Nothing loaded: the detector reads no record kind at all.
        assert!(NetworkIocDetector::new(&IocSet::new()).kinds().is_empty());
    }
}
