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

/// The Sigma view of a delimited record.
pub fn flat_columns<'a>(record: &Record<'a>, log: ColumnLog) -> FlatEvent<'a> {
    let Some(h) = record.header() else { return FlatEvent::new(Vec::new(), &[]) };
    let iis = log == ColumnLog::Iis;
    let mut entries = Vec::with_capacity(h.names.len() + 2);
    for (i, name) in h.names.iter().enumerate() {
        let Some(v) = record.col(Some(i)) else { continue };
        let value = if iis && v == "-" { None } else { Some(Cow::Borrowed(v)) };
        // The raw query is searched by keywords; rules reach it through the joined `cs-uri-query`.
        let name: &'a str = if iis && name.eq_ignore_ascii_case("cs-uri-query") { "" } else { name.as_str() };
        entries.push(Entry::new(name, value, true));
    }
    if iis && let Some(stem) = record.get("cs-uri-stem") {
        let full = match record.get("cs-uri-query") {
            Some(q) if q != "-" && !q.is_empty() => Cow::Owned(format!("{stem}?{q}")),
            _ => Cow::Borrowed(stem),
        };
        entries.push(Entry::new("cs-uri-query", Some(full.clone()), false));
        entries.push(Entry::new("cs-uri", Some(full), false));
    }
    if iis && let Some(ua) = record.get("cs(User-Agent)").filter(|ua| *ua != "-") {
        // W3C writes spaces in the user agent as `+`; rules write them as spaces.
        let decoded = if ua.contains('+') { Cow::Owned(ua.replace('+', " ")) } else { Cow::Borrowed(ua) };
        entries.push(Entry::new("cs-user-agent", Some(decoded), false));
    }
    FlatEvent::new(entries, if iis { IIS_ALIASES } else { &[] })
}
