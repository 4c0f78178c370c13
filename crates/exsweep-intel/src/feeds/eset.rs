//! ESET's malware-ioc layout: `samples.md5/.sha1/.sha256` (one bare hash per line) and
//! `README.adoc`, whose AsciiDoc tables list hashes (`|SHA-1|detection|Details`) and network
//! indicators (`|Ip address / domain|Details`, defanged), with the group named in "Details".

use super::{Sink, numbered_lines};
use crate::actors;
use crate::indicator::{Indicator, IndicatorKind};
use crate::normalize;

/// One hash per line; `expected` (from the file extension) is checked when known.
pub(crate) fn bare_hashes(text: &str, expected: Option<IndicatorKind>, sink: &mut Sink<'_>) {
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        sink.entries += 1;
        match normalize::hash(t) {
            Ok((k, v)) if expected.is_none_or(|e| e == k) => sink.add(n, Indicator::new(k, v)),
            Ok((k, _)) => {
                sink.problem(n, format!("{} in a {} list", k.label(), expected.map_or("hash", IndicatorKind::label)))
            }
            Err(e) => sink.problem(n, e),
        }
    }
}

/// What a table column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Hash(Option<IndicatorKind>),
    Network,
    Details,
    Detection,
    Other,
}

fn column_role(title: &str) -> Col {
    let t = title.trim().to_ascii_lowercase();
    let compact: String = t.chars().filter(char::is_ascii_alphanumeric).collect();
    match compact.as_str() {
        "sha1" => Col::Hash(Some(IndicatorKind::Sha1)),
        "sha256" => Col::Hash(Some(IndicatorKind::Sha256)),
        "md5" => Col::Hash(Some(IndicatorKind::Md5)),
        "hash" => Col::Hash(None),
        _ if t.contains("detection") => Col::Detection,
        _ if t.contains("detail") || t.contains("description") || t.contains("comment") => Col::Details,
        _ if t.contains("domain") || t.starts_with("ip") || t.contains("url") || t.contains("address") => Col::Network,
        _ => Col::Other,
    }
}

/// Cells of an AsciiDoc table line (`|a |b|c`), trimmed, backticks removed.
fn cells(line: &str) -> Vec<String> {
    let body = line.trim().strip_prefix('|').unwrap_or(line.trim());
    body.split('|').map(|c| c.trim().trim_matches('`').trim().to_string()).collect()
}

/// The README tables. Rows may span lines (one cell per line); the header row sets the width.
pub(crate) fn adoc(text: &str, sink: &mut Sink<'_>) {
    let mut in_table = false;
    let mut roles: Vec<Col> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut row_line = 0;
    for (n, line) in numbered_lines(text) {
        let t = line.trim();
        if t == "|===" {
            if in_table && !pending.is_empty() {
                sink.entries += 1;
                sink.problem(row_line, format!("incomplete table row: {} of {} cells", pending.len(), roles.len()));
                pending.clear();
            }
            in_table = !in_table;
            roles.clear();
            continue;
        }
        if !in_table || t.is_empty() || t.starts_with("//") || !t.starts_with('|') {
            continue;
        }
        if roles.is_empty() {
            roles = cells(t).iter().map(|c| column_role(c)).collect();
            if !roles.iter().any(|r| matches!(r, Col::Hash(_) | Col::Network)) {
                sink.problem(n, format!("table header {t:?} has no hash or network column; its rows are not read"));
            }
            continue;
        }
        if pending.is_empty() {
            row_line = n;
        }
        pending.extend(cells(t));
        if pending.len() < roles.len() {
            continue;
        }
        sink.entries += 1;
        let row = std::mem::take(&mut pending);
        table_row(&row, &roles, row_line, sink);
    }
    if in_table {
        sink.file_problem("a table is not closed with |===");
    }
}

fn table_row(row: &[String], roles: &[Col], line: u64, sink: &mut Sink<'_>) {
    if row.len() > roles.len() {
        sink.problem(line, format!("{} cells in a {}-column table", row.len(), roles.len()));
        return;
    }
    let get = |want: fn(&Col) -> bool| roles.iter().position(want).and_then(|i| row.get(i)).map(String::as_str);
    let details = get(|r| *r == Col::Details).unwrap_or("");
    let detection = get(|r| *r == Col::Detection);
    let result = if let Some(i) = roles.iter().position(|r| matches!(r, Col::Hash(_))) {
        let Col::Hash(expected) = roles[i] else { return };
        normalize::hash(&row[i]).and_then(|(k, v)| match expected {
            Some(e) if e != k => Err(format!("{} in the {} column", k.label(), e.label())),
            _ => Ok(Indicator::new(k, v)),
        })
    } else if let Some(i) = roles.iter().position(|r| *r == Col::Network) {
        normalize::network(&row[i], IndicatorKind::Domain).map(|(k, v)| Indicator::new(k, v))
    } else {
        Err("row of a table without a hash or network column".to_string())
    };
    match result {
        Ok(mut ind) => {
            ind.description = details.to_string();
            if let Some(d) = detection.filter(|d| !d.is_empty()) {
                ind.attrs.insert("detection".into(), d.to_string());
            }
            ind.actors = actors::actors_in(details).into_iter().map(String::from).collect();
            sink.add(line, ind);
        }
        Err(e) => sink.problem(line, e),
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::FeedFormat;
    use crate::indicator::{IndicatorKind as K, IocSet};

    const README: &str = "\
:toc:

= Microsoft Exchange Exploitation Indicators of Compromise

== Samples
|===
|SHA-1                                     |ESET Detection name                   |Details
|`30dd3076ec9abb13c15053234c436406b88fb2b9`|Win32/Korplug.RT                      |Calypso loader
|`3d5d32a62f770608b6567ec5d18424c24c3f5798`|Win64/Kryptik.CHN                     |ShadowPad backdoor used by Tonto Team
|`aa9ba493cb9e9fa6f9599c513edbcbee84ececd6`|Win64/Agent.IG                        |IIS Backoor
|`d41d8cd98f00b204e9800998ecf8427e`|Win64/Agent.IG                        |MD5 in the SHA-1 column
|===

== Network
|===
|Ip address / domain      |Details
|`34.90.207[.]23`         |LuckyMouse SysUpdate C&C server
|`www.averyspace[.]net`   |Tick Delphi backdoor C&C server
|`86.105.18[.]116`        |“Opera Cobalt Strike” C&C & distribution server
|`not a host`             |broken
|`ns.rtechs[.]org`
|Unclassified ShadowPad C&C server
|===
";

    #[test]
    fn readme_tables() {
        let mut set = IocSet::new();
        set.add_text("README.adoc", README, FeedFormat::EsetAdoc);
        let c = set.counts();
        assert_eq!((c[&K::Sha1], c[&K::Ip], c[&K::Domain]), (3, 2, 2), "{:?}", set.problems);
        let s = set.get(K::Sha1, "30dd3076ec9abb13c15053234c436406b88fb2b9").unwrap();
        assert_eq!(s.actors, vec!["Calypso"]);
        assert_eq!(s.attrs["detection"], "Win32/Korplug.RT");
        assert_eq!(s.sources[0].line, 8);
        assert_eq!(set.get(K::Sha1, "3d5d32a62f770608b6567ec5d18424c24c3f5798").unwrap().actors, vec!["Tonto Team"]);
        assert_eq!(set.get(K::Sha1, "aa9ba493cb9e9fa6f9599c513edbcbee84ececd6").unwrap().actors, vec!["IIS backdoors"]);
        assert_eq!(set.get(K::Ip, "34.90.207.23").unwrap().actors, vec!["LuckyMouse"]);
        assert_eq!(set.get(K::Domain, "www.averyspace.net").unwrap().actors, vec!["Tick"]);
        assert_eq!(set.get(K::Ip, "86.105.18.116").unwrap().actors, vec!["Opera Cobalt Strike"]);
        // A row written one cell per line.
        let ns = set.get(K::Domain, "ns.rtechs.org").unwrap();
        assert_eq!(ns.actors, vec!["ShadowPad (unclassified)"]);
        assert_eq!(ns.sources[0].line, 21);
        let lines: Vec<u64> = set.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, vec![11, 20], "{:?}", set.problems);
        assert_eq!(set.files[0].entries, 9);
    }

    #[test]
    fn sample_lists() {
        let mut set = IocSet::new();
        let text = "7a6c605af4b85954f62f35d648d532bf\ne7267a5c047f3091834e0cc824d618b9\n02886f9daa13f7d9855855048c54f1d6b1231b0a\n";
        set.add_text("exchange_exploitation/samples.md5", text, FeedFormat::BareHashes);
        assert_eq!(set.counts()[&K::Md5], 2);
        assert_eq!(set.problems.len(), 1);
        assert_eq!(set.problems[0].line, Some(3));
        assert!(set.problems[0].reason.contains("SHA-1 in a MD5 list"));
    }
}
