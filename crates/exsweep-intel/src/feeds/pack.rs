//! exsweep's pack format, used by the built-in pack (data/pack/*.tsv) and open to users' own
//! lists: TAB-separated `kind value score actors source note` after that header line; `#` lines
//! are comments. `kind` is an [`IndicatorKind`] name, `score` 0–100 or empty, `actors` and
//! `source` comma-separated (actor names or aliases; source tags for the built-in pack, free text
//! otherwise), `note` free text. Values are normalized as feed values are (defanged input is
//! refanged); a filename_regex value uses Loki's regex syntax.

use super::{Sink, numbered_lines};
use crate::actors;
use crate::indicator::{Indicator, IndicatorKind};

/// The header line (TAB-separated).
pub const HEADER: &str = "kind\tvalue\tscore\tactors\tsource\tnote";

pub fn is_pack_header(line: &str) -> bool {
    line.trim_end_matches(['\r', '\n']).trim_start_matches('\u{feff}') == HEADER
}

/// Resolves a source tag to its citations (the built-in pack's `sources.tsv`).
pub type Resolver<'r> = &'r dyn Fn(&str) -> Option<String>;

/// Parses a pack TSV. With `resolve`, every source tag must resolve (else a problem) and the
/// citations are recorded; without, the source column is kept as written.
pub(crate) fn parse(text: &str, sink: &mut Sink<'_>, resolve: Option<Resolver<'_>>) {
    let mut header_seen = false;
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if is_pack_header(line) {
                continue;
            }
            sink.problem(n, format!("expected the header line {HEADER:?}"));
        }
        sink.entries += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 6 {
            sink.problem(n, format!("{} TAB-separated columns, 6 expected ({HEADER})", cols.len()));
            continue;
        }
        let Some(kind) = IndicatorKind::parse(cols[0]) else {
            sink.problem(n, format!("unknown kind {:?}", cols[0]));
            continue;
        };
        let mut ind = match Indicator::parse(kind, cols[1]) {
            Ok(i) => i,
            Err(e) => {
                sink.problem(n, e);
                continue;
            }
        };
        if ind.kind != kind {
            sink.problem(n, format!("{kind} column holds a {}", ind.kind));
            continue;
        }
        let score = cols[2].trim();
        if !score.is_empty() {
            match score.parse::<u8>() {
                Ok(s) if s <= 100 => ind.score = Some(s),
                _ => {
                    sink.problem(n, format!("score {score:?} is not 0–100"));
                    continue;
                }
            }
        }
        let mut names = Vec::new();
        for a in cols[3].split(',').map(str::trim).filter(|a| !a.is_empty()) {
            match actors::canonical(a) {
                Some(c) => names.push(c.to_string()),
                None if resolve.is_some() => {
                    sink.problem(n, format!("unknown actor {a:?} (not in actors.tsv)"));
                }
                None => names.push(a.to_string()),
            }
        }
        ind.actors = names;
        let tags: Vec<&str> = cols[4].split(',').map(str::trim).filter(|t| !t.is_empty()).collect();
        if tags.is_empty() {
            sink.problem(n, "no source");
            continue;
        }
        let mut cites = Vec::new();
        for t in &tags {
            match resolve {
                Some(r) => match r(t) {
                    Some(c) => cites.push(c),
                    None => sink.problem(n, format!("unknown source tag {t:?} (not in sources.tsv)")),
                },
                None => cites.push(t.to_string()),
            }
        }
        ind.description = cols[5].trim().to_string();
        ind.attrs.insert("source_tags".into(), tags.join(","));
        if kind == IndicatorKind::FileNameRegex && ind.score.is_none() {
            ind.score = Some(60);
        }
        sink.cites = cites;
        sink.add(n, ind);
        sink.cites.clear();
    }
    if !header_seen {
        sink.file_problem("no entries");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::FeedFormat;
    use crate::indicator::IocSet;

    #[test]
    fn pack_lines() {
        let text = "# my list\nkind\tvalue\tscore\tactors\tsource\tnote\n\
sha256\tB75F163CA9B9240BF4B37AD92BC7556B40A17E27C2B8ED5C8991385FE07D17D0\t\tHAFNIUM\tmy report\tSecChecker\n\
domain\tyolkish[.]com\t\tCalypso,Some New Group\tESET\tC&C\n\
ip\tnot-an-ip\t\t\tx\t\n\
filepath\tC:\\x\\y.aspx\t150\t\tx\t\n\
url\thxxp://a.example/b\n";
        let mut set = IocSet::new();
        set.add_text("mine.tsv", text, FeedFormat::Pack);
        assert_eq!(set.len(), 2);
        let d = set.get(IndicatorKind::Domain, "yolkish.com").unwrap();
        assert_eq!(d.actors, vec!["Calypso", "Some New Group"]);
        assert_eq!(d.sources[0].cites, vec!["ESET"]);
        let lines: Vec<u64> = set.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 6, 7], "{:?}", set.problems);
    }
}
