//! Delimited log records as Sigma events: IIS W3C lines as `category: webserver` with the Sigma
//! taxonomy names, and Exchange's own logs under `product: exchange` with their own column names.
//!
//! IIS names: every `#Fields` column under its own name, and `cs(Referer)`, `cs(Cookie)`,
//! `cs(Host)` also as `cs-referer`, `cs-cookie`, `cs-host`; `cs-user-agent` is `cs(User-Agent)`
//! with its `+` read back as spaces (rules write user agents with spaces). SigmaHQ
//! web-server rules match request paths against `cs-uri-query` (written for logs that keep path
//! and query together), so `cs-uri-query` and `cs-uri` are the stem followed by `?` and the query
//! when there is one. A `-` value (W3C for "empty") is null.

use crate::event::{Entry, FlatEvent};
use crate::logsource::{LogSource, NO_CATEGORY, Route};
use exsweep_core::record::Record;
use std::borrow::Cow;

/// Which log a record comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnLog {
    Iis,
    /// An Exchange log, by its Sigma service name (`httpproxy`, `ecp_server`, `oab_generator`).
    Exchange(&'static str),
}

impl ColumnLog {
    /// The logsource of the log's records (see `docs/SIGMA_LOGSOURCES.md`).
    pub fn logsource(self) -> LogSource {
        match self {
            ColumnLog::Iis => LogSource { product: "windows", service: "iis", category: "webserver" },
            ColumnLog::Exchange(s) => LogSource { product: "exchange", service: s, category: NO_CATEGORY },
        }
    }

    pub fn route(self) -> Route {
        Route::one(self.logsource())
    }
}

/// W3C columns under their Sigma taxonomy names.
const IIS_ALIASES: &[(&str, &str)] =
    &[("cs-referer", "cs(Referer)"), ("cs-cookie", "cs(Cookie)"), ("cs-host", "cs(Host)")];

/// The Sigma view of a delimited record: every column, or (with `view`) only the fields the
/// rules of its logsource read or show, found by name, which spares splitting and copying the
/// other columns of every line.
pub fn flat_columns<'a>(record: &Record<'a>, log: ColumnLog, view: Option<&'a [String]>) -> FlatEvent<'a> {
    let Some(h) = record.header() else { return FlatEvent::new(Vec::new(), &[]) };
    let iis = log == ColumnLog::Iis;
    let Some(view) = view else { return all_columns(record, h, iis) };
    let mut entries = Vec::with_capacity(view.len());
    for name in view {
        let name = name.as_str();
        let value = if iis && (name.eq_ignore_ascii_case("cs-uri-query") || name.eq_ignore_ascii_case("cs-uri")) {
            full_uri(record)
        } else if iis && name.eq_ignore_ascii_case("cs-user-agent") {
            user_agent(record)
        } else {
            let real = if iis {
                IIS_ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(name)).map_or(name, |(_, r)| *r)
            } else {
                name
            };
            let col = if iis { known_iis(h, real) } else { None }.or_else(|| h.index(real));
            col.and_then(|i| record.col(Some(i))).map(|v| if iis && v == "-" { None } else { Some(Cow::Borrowed(v)) })
        };
        if let Some(v) = value {
            entries.push(Entry::new(name, v, false));
        }
    }
    FlatEvent::new(entries, &[])
}

/// The column of an IIS field the reader resolved once per header (no search per line).
fn known_iis(h: &exsweep_core::record::Header, name: &str) -> Option<usize> {
    let k = &h.known;
    let n = |s: &str| name.eq_ignore_ascii_case(s);
    if n("cs-method") {
        k.method
    } else if n("cs-uri-stem") {
        k.uri_stem
    } else if n("sc-status") {
        k.status
    } else if n("c-ip") {
        k.client_ip
    } else if n("cs(User-Agent)") {
        k.user_agent
    } else {
        None
    }
}

/// A known IIS column's value.
fn known_col<'a>(record: &Record<'a>, col: Option<usize>, name: &str) -> Option<&'a str> {
    record.col(col).or_else(|| record.get(name))
}

/// `cs-uri-stem` and `?query` joined (absent without a stem).
fn full_uri<'a>(record: &Record<'a>) -> Option<Option<Cow<'a, str>>> {
    let k = record.header()?.known;
    let stem = known_col(record, k.uri_stem, "cs-uri-stem")?;
    Some(Some(match known_col(record, k.uri_query, "cs-uri-query") {
        Some(q) if q != "-" && !q.is_empty() => Cow::Owned(format!("{stem}?{q}")),
        _ => Cow::Borrowed(stem),
    }))
}

/// The user agent with W3C's `+` read back as spaces (rules write user agents with spaces).
fn user_agent<'a>(record: &Record<'a>) -> Option<Option<Cow<'a, str>>> {
    let k = record.header()?.known;
    let ua = known_col(record, k.user_agent, "cs(User-Agent)").filter(|ua| *ua != "-")?;
    Some(Some(if ua.contains('+') { Cow::Owned(ua.replace('+', " ")) } else { Cow::Borrowed(ua) }))
}

fn all_columns<'a>(record: &Record<'a>, h: &'a exsweep_core::record::Header, iis: bool) -> FlatEvent<'a> {
    let mut entries = Vec::with_capacity(h.names.len() + 3);
    for (i, name) in h.names.iter().enumerate() {
        let Some(v) = record.col(Some(i)) else { continue };
        let value = if iis && v == "-" { None } else { Some(Cow::Borrowed(v)) };
        // The raw query is searched by keywords; rules reach it through the joined `cs-uri-query`.
        let name: &'a str = if iis && name.eq_ignore_ascii_case("cs-uri-query") { "" } else { name.as_str() };
        entries.push(Entry::new(name, value, true));
    }
    if iis {
        if let Some(full) = full_uri(record).flatten() {
            entries.push(Entry::new("cs-uri-query", Some(full.clone()), false));
            entries.push(Entry::new("cs-uri", Some(full), false));
        }
        if let Some(ua) = user_agent(record).flatten() {
            entries.push(Entry::new("cs-user-agent", Some(ua), false));
        }
    }
    FlatEvent::new(entries, if iis { IIS_ALIASES } else { &[] })
}
