//! The embedded build table (`data/builds/exchange-builds.csv`): every Exchange 2010 SP3 to SE
//! build the sources list, with its CU/SU label, release date, KB and sources.

use super::version::{Build, Product};
use std::sync::OnceLock;

/// The table as embedded; `versions()` tells its version.
pub const BUILDS_CSV: &str = include_str!("../../data/builds/exchange-builds.csv");

/// One build of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRow {
    /// `Exchange 2019`, as in the table.
    pub product: String,
    /// CU and update label: `CU8 Mar21SU`, `SP3 RU32`, `RTM`.
    pub label: String,
    pub build: Build,
    /// `YYYY-MM-DD`, or `YYYY-MM` where the sources give only the month.
    pub released: String,
    pub kb: String,
    pub sources: String,
    pub note: String,
}

impl BuildRow {
    /// `Exchange 2019 CU8 Mar21SU`.
    pub fn name(&self) -> String {
        format!("{} {}", self.product, self.label)
    }
}

/// Every row of the table, in its order. A malformed row (none in the shipped file; a test checks
/// it) is left out.
pub fn rows() -> &'static [BuildRow] {
    static ROWS: OnceLock<Vec<BuildRow>> = OnceLock::new();
    ROWS.get_or_init(|| parse_rows(BUILDS_CSV).0)
}

/// Parses the table text: the rows, and a message per row that could not be read.
pub fn parse_rows(text: &str) -> (Vec<BuildRow>, Vec<String>) {
    let body: String = text.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body.as_bytes());
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {line}: {e}"));
                continue;
            }
        };
        let field = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let Some(build) = Build::parse_dotted(&field(2)).filter(|b| b.revision.is_some()) else {
            problems.push(format!("row {line}: build {:?} is not a four-part Exchange build", field(2)));
            continue;
        };
        if Build::parse_dotted(&field(3)) != Some(build) {
            problems.push(format!("row {line}: padded build {:?} differs from {build}", field(3)));
            continue;
        }
        rows.push(BuildRow {
            product: field(0),
            label: field(1),
            build,
            released: field(4),
            kb: field(5),
            sources: field(6),
            note: field(7),
        });
    }
    (rows, problems)
}

/// The rows of exactly this build (two when the sources disagree on a label's build, or list one
/// build under two labels).
pub fn rows_of(build: &Build) -> Vec<&'static BuildRow> {
    rows().iter().filter(|r| r.build == *build).collect()
}

/// The first row of a CU, by its build field (`15.2.792`): the CU's own release.
pub fn cu_row(product: Product, cu_build: u32) -> Option<&'static BuildRow> {
    rows().iter().find(|r| r.build.build == cu_build && r.build.product() == Some(product))
}

/// The CU part of a label: `CU8` of `CU8 Mar21SU`, `SP3` of `SP3 RU32`.
pub fn cu_label(label: &str) -> &str {
    label.split_whitespace().next().unwrap_or(label)
}

fn normalize(s: &str) -> String {
    s.to_ascii_lowercase().replace(['(', ')', ','], " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds named by a CU or update name: `Exchange 2019 CU8 Mar21SU`, `2016 CU23`, `E2013 SP1`,
/// `Exchange Server SE RTM Aug26SU`. Several builds come back when the sources disagree.
pub fn by_name(name: &str) -> Vec<&'static BuildRow> {
    let n = normalize(name);
    let words: Vec<&str> = n.split(' ').filter(|w| !matches!(*w, "exchange" | "server" | "ms" | "microsoft")).collect();
    let Some((first, rest)) = words.split_first() else { return Vec::new() };
    let product = match first.trim_start_matches('e') {
        "2010" => "exchange 2010 sp3",
        "2013" => "exchange 2013",
        "2016" => "exchange 2016",
        "2019" => "exchange 2019",
        "se" => "exchange se",
        _ => return Vec::new(),
    };
    let mut label = rest.join(" ");
    // "2010 SP3 RU32": the table's product already says SP3.
    if product == "exchange 2010 sp3" && !label.starts_with("sp3") {
        label = format!("sp3 {label}").trim().to_string();
    }
    rows().iter().filter(|r| normalize(&r.product) == product && normalize(&r.label) == label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_reads_whole() {
        let (rows, problems) = parse_rows(BUILDS_CSV);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 358);
        for p in [
            Product::Exchange2010Sp3,
            Product::Exchange2013,
            Product::Exchange2016,
            Product::Exchange2019,
            Product::ExchangeSe,
        ] {
            assert!(rows.iter().any(|r| r.build.product() == Some(p)), "{p:?}");
            assert!(rows.iter().all(|r| r.build.product() != Some(p) || r.product == p.name()), "{p:?}");
        }
    }

    #[test]
    fn names_resolve_to_builds() {
        let one = |n: &str| by_name(n).iter().map(|r| r.build.to_string()).collect::<Vec<_>>();
        assert_eq!(one("Exchange 2019 CU8 Mar21SU"), ["15.2.792.10"]);
        assert_eq!(one("e2019 cu8 mar21su"), ["15.2.792.10"]);
        assert_eq!(one("2013 SP1 Mar21SU"), ["15.0.847.64"]);
        assert_eq!(one("Exchange 2010 SP3 RU32"), ["14.3.513.0"]);
        assert_eq!(one("2010 RU32"), ["14.3.513.0"]);
        assert_eq!(one("Exchange Server SE RTM"), ["15.2.2562.17"]);
        // The sources disagree: both builds.
        assert_eq!(one("Exchange 2016 CU8 Mar21SU"), ["15.1.1415.8", "15.1.1415.10"]);
        assert!(one("Exchange 2019 CU99").is_empty());
        assert!(one("").is_empty());
        assert_eq!(cu_label("CU8 Mar21SU"), "CU8");
    }
}
