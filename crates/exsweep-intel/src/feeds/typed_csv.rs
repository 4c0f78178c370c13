//! CSV feeds with a value column and a type column: Microsoft MSTIC's
//! `DateAdded,FirstSeen,Indicator,IndicatorType,TLP` and Volexity's `value,type,notes`. The type
//! names of both (and common ones of other feeds: ipv4, url, md5, ...) map to indicator kinds;
//! an unknown type is a problem on its row.

use super::{FeedFormat, Sink};
use crate::actors;
use crate::indicator::{Indicator, IndicatorKind};
use crate::normalize;

/// Which typed-CSV feed a header line belongs to.
pub fn header_kind(header: &str) -> Option<FeedFormat> {
    let cols = header_cols(header);
    let has = |n: &str| cols.iter().any(|c| c == n);
    if has("indicator") && has("indicatortype") {
        return Some(FeedFormat::Mstic);
    }
    (value_col(&cols).is_some() && type_col(&cols).is_some()).then_some(FeedFormat::TypedCsv)
}

fn header_cols(header: &str) -> Vec<String> {
    header.trim_start_matches('\u{feff}').split(',').map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).collect()
}

fn value_col(cols: &[String]) -> Option<usize> {
    cols.iter().position(|c| ["indicator", "value", "ioc", "indicator_value"].contains(&c.as_str()))
}

fn type_col(cols: &[String]) -> Option<usize> {
    cols.iter().position(|c| ["indicatortype", "type", "ioc_type", "indicator_type"].contains(&c.as_str()))
}

/// The kind a feed's type name stands for (hash types are checked against the value's length).
pub fn kind_of_type(t: &str) -> Option<IndicatorKind> {
    let t: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    use IndicatorKind as K;
    Some(match t.as_str() {
        "md5" => K::Md5,
        "sha1" => K::Sha1,
        "sha256" => K::Sha256,
        "filepath" | "path" | "filefullpath" => K::FilePath,
        "filename" | "file" => K::FileName,
        "domainname" | "domain" | "hostname" | "fqdn" | "host" => K::Domain,
        "ipaddress" | "ip" | "ipv4" | "ipv6" | "ipv4addr" | "ipv6addr" | "ipdst" | "ipsrc" | "ipaddr" => K::Ip,
        "cidr" | "iprange" | "subnet" | "netblock" => K::Cidr,
        "url" | "uri" | "link" => K::Url,
        "useragent" | "httpuseragent" => K::UserAgent,
        _ => return None,
    })
}

/// Parses a typed CSV (MSTIC or value/type).
pub(crate) fn parse(text: &str, sink: &mut Sink<'_>) {
    // The csv crate counts a CRLF line end as no line on the record after it; LF only keeps the
    // numbers right.
    let text = text.replace("\r\n", "\n");
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(text.as_bytes());
    let mut records = rdr.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            sink.problem(1, format!("unreadable header: {e}"));
            return;
        }
        None => {
            sink.file_problem("empty file");
            return;
        }
    };
    let cols: Vec<String> =
        header.iter().map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let (Some(vcol), Some(tcol)) = (value_col(&cols), type_col(&cols)) else {
        sink.problem(1, format!("header {cols:?} has no value and type columns"));
        return;
    };
    let at = |n: &str| cols.iter().position(|c| c == n);
    let notes = ["notes", "description", "comment", "comments"].iter().find_map(|n| at(n));
    let attr_cols: Vec<(usize, &str)> = [("dateadded", "date_added"), ("firstseen", "first_seen"), ("tlp", "tlp")]
        .iter()
        .filter_map(|(c, a)| at(c).map(|i| (i, *a)))
        .collect();
    let mstic = sink.feed == FeedFormat::Mstic.name();
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                sink.entries += 1;
                sink.problem(line, format!("unreadable CSV row: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        sink.entries += 1;
        let raw_type = rec.get(tcol).unwrap_or("").trim();
        let raw_value = rec.get(vcol).unwrap_or("");
        let Some(kind) = kind_of_type(raw_type) else {
            sink.problem(line, format!("unknown indicator type {raw_type:?} for {:?}", crate::clip(raw_value, 80)));
            continue;
        };
        let mut ind = match normalize::value(kind, raw_value) {
            Ok((k, v)) => Indicator::new(k, v),
            Err(e) => {
                sink.problem(line, format!("{raw_type}: {e}"));
                continue;
            }
        };
        for &(i, name) in &attr_cols {
            if let Some(v) = rec.get(i).map(str::trim).filter(|v| !v.is_empty()) {
                ind.attrs.insert(name.into(), v.into());
            }
        }
        ind.attrs.insert("type".into(), raw_type.to_string());
        ind.description = match notes.and_then(|i| rec.get(i)).map(str::trim).filter(|s| !s.is_empty()) {
            Some(n) => n.to_string(),
            None if mstic => {
                let added = ind.attrs.get("date_added").map(|d| format!(", added {d}")).unwrap_or_default();
                format!("MSTIC Exchange Server vulnerabilities feed ({raw_type}{added})")
            }
            None => String::new(),
        };
        ind.actors = actors::actors_in(&ind.description).into_iter().map(String::from).collect();
        sink.add(line, ind);
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::FeedFormat;
    use crate::indicator::{IndicatorKind as K, IocSet};

    const MSTIC: &str = "DateAdded,FirstSeen,Indicator,IndicatorType,TLP\r
2021-03-09,2021-01-06T18:38:17.8341434Z,B75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0,sha256,White\r
2021-03-09,,C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx,filepath,White\r
2021-03-09,,C:\\inetpub\\wwwroot\\aspnet_client\\Shell.aspx,filepath,White\r
2021-04-01,,jennifer.krebsonsecurity.top,domainname,White\r
2021-04-01,,1.2.3.4,ipv4,White\r
2021-04-01,,x,registrykey,White\r
2021-04-01,,abcd,sha256,White\r
\r
";

    #[test]
    fn mstic_rows() {
        let mut set = IocSet::new();
        set.add_text("mstic.csv", MSTIC, FeedFormat::Mstic);
        let c = set.counts();
        assert_eq!((c[&K::Sha256], c[&K::FilePath], c[&K::Domain], c[&K::Ip]), (1, 1, 1, 1));
        let h = set.get(K::Sha256, "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0").unwrap();
        assert_eq!(h.attrs["first_seen"], "2021-01-06T18:38:17.8341434Z");
        assert_eq!(h.attrs["tlp"], "White");
        assert_eq!(h.sources[0].line, 2);
        // The two spellings of one path are one indicator with two sources.
        let p = set.get(K::FilePath, r"c:\inetpub\wwwroot\aspnet_client\shell.aspx").unwrap();
        assert_eq!(p.sources.iter().map(|s| s.line).collect::<Vec<_>>(), vec![3, 4]);
        let lines: Vec<u64> = set.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, vec![7, 8], "{:?}", set.problems);
        assert!(set.problems[0].reason.contains("registrykey"));
        assert_eq!(set.files[0].entries, 7);
    }

    #[test]
    fn volexity_rows() {
        let text = "value,type,notes\n103.77.192.219,ipaddress,\"IP addresses attempting to exploit Exchange servers in March 2021\"\n5.254.43[.]18,ipaddress,\"quoted, with comma\"\nhxxp://evil[.]example/x,url,\n";
        let mut set = IocSet::new();
        set.add_text("indicators.csv", text, FeedFormat::TypedCsv);
        assert_eq!(set.counts()[&K::Ip], 2);
        assert_eq!(set.counts()[&K::Url], 1);
        assert_eq!(set.get(K::Ip, "5.254.43.18").unwrap().description, "quoted, with comma");
        assert!(set.get(K::Url, "http://evil.example/x").is_some());
        assert!(set.problems.is_empty());
    }
}
