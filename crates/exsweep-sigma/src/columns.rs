//! Delimited log records as Sigma events: IIS W3C lines as `category: webserver` with the Sigma
//! taxonomy names, and Exchange's own logs under `product: exchange` with their own column names.
//!
//! IIS names: every `#Fields` column under its own name, and `cs(User-Agent)`, `cs(Referer)`,
//! `cs(Cookie)`, `cs(Host)` also as `cs-user-agent`, `cs-referer`, `cs-cookie`, `cs-host`. SigmaHQ
//! web-server rules match request paths against `cs-uri-query` (written for logs that keep path
//! and query together), so `cs-uri-query` and `cs-uri` are the stem followed by `?` and the query
//! when there is one. A `-` value (W3C for "empty") is null.

use exsweep_core::record::Record;
use rsigma_eval::{Event, EventValue};
use rsigma_parser::LogSource;
use serde_json::{Map, Value};
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
        let (category, product, service) = match self {
            ColumnLog::Iis => ("webserver", "windows", "iis"),
            ColumnLog::Exchange(s) => (crate::logsource::NO_CATEGORY, "exchange", s),
        };
        LogSource {
            category: Some(category.into()),
            product: Some(product.into()),
            service: Some(service.into()),
            definition: None,
            custom: Default::default(),
        }
    }
}

/// W3C columns under their Sigma taxonomy names.
const IIS_ALIASES: &[(&str, &str)] = &[
    ("cs-user-agent", "cs(User-Agent)"),
    ("cs-referer", "cs(Referer)"),
    ("cs-cookie", "cs(Cookie)"),
    ("cs-host", "cs(Host)"),
];

/// A delimited record, evaluated by Sigma rules.
pub struct ColumnEvent<'a> {
    pub record: &'a Record<'a>,
    pub log: ColumnLog,
}

impl<'a> ColumnEvent<'a> {
    fn value(&self, name: &str) -> Option<EventValue<'a>> {
        let v = self.record.get(name)?;
        Some(if self.log == ColumnLog::Iis && v == "-" { EventValue::Null } else { EventValue::Str(Cow::Borrowed(v)) })
    }

    /// Stem and query together, for `cs-uri-query` and `cs-uri`.
    fn full_uri(&self) -> Option<String> {
        let stem = self.record.get("cs-uri-stem")?;
        Some(match self.record.get("cs-uri-query") {
            Some(q) if q != "-" && !q.is_empty() => format!("{stem}?{q}"),
            _ => stem.to_string(),
        })
    }

    fn each_value(&self, mut visit: impl FnMut(&'a str)) {
        if let Some(h) = self.record.header() {
            for i in 0..h.names.len() {
                if let Some(v) = self.record.col(Some(i)) {
                    visit(v);
                }
            }
        }
    }
}

impl Event for ColumnEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if self.log == ColumnLog::Iis {
            if path.eq_ignore_ascii_case("cs-uri-query") || path.eq_ignore_ascii_case("cs-uri") {
                return self.full_uri().map(|u| EventValue::Str(Cow::Owned(u)));
            }
            if let Some((_, real)) = IIS_ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(path)) {
                return self.value(real).or_else(|| self.value(path));
            }
        }
        self.value(path)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        self.each_value(|v| hit = hit || pred(v));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        self.each_value(|v| out.push(Cow::Borrowed(v)));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.each_value(visit);
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(h) = self.record.header() {
            for (i, name) in h.names.iter().enumerate() {
                if let Some(v) = self.record.col(Some(i)) {
                    m.insert(name.clone(), v.into());
                }
            }
        }
        Value::Object(m)
    }
}
