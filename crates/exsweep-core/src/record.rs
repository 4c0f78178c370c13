//! Records: the uniform field view every detector reads, whatever the log format. A text-log
//! record borrows its values from the reader's buffers (no allocation per line); an event record
//! owns its decoded fields.

use crate::time::Timestamp;

/// Column names of a header-driven log (`#Fields:`), with case-insensitive lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub names: Vec<String>,
    lower: Vec<String>,
    /// Columns that built-in detectors read on every line, resolved once per header.
    pub known: KnownCols,
}

/// Indices of the columns read on hot paths (IIS and HttpProxy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KnownCols {
    pub method: Option<usize>,
    pub uri_stem: Option<usize>,
    pub uri_query: Option<usize>,
    pub status: Option<usize>,
    pub user_agent: Option<usize>,
    pub client_ip: Option<usize>,
    pub username: Option<usize>,
    pub anchor_mailbox: Option<usize>,
    pub backend_cookie: Option<usize>,
    pub http_status: Option<usize>,
    pub url_stem: Option<usize>,
    pub protocol: Option<usize>,
    pub client_ip_address: Option<usize>,
    pub proxy_user_agent: Option<usize>,
    pub authenticated_user: Option<usize>,
    pub routing_hint: Option<usize>,
    pub url_host: Option<usize>,
}

impl Header {
    pub fn new(names: Vec<String>) -> Header {
        let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let at = |n: &str| lower.iter().position(|x| x == n);
        let known = KnownCols {
            method: at("cs-method"),
            uri_stem: at("cs-uri-stem"),
            uri_query: at("cs-uri-query"),
            status: at("sc-status"),
            user_agent: at("cs(user-agent)"),
            client_ip: at("c-ip"),
            username: at("cs-username"),
            anchor_mailbox: at("anchormailbox"),
            backend_cookie: at("backendcookie"),
            http_status: at("httpstatus"),
            url_stem: at("urlstem"),
            protocol: at("protocol"),
            client_ip_address: at("clientipaddress"),
            proxy_user_agent: at("useragent"),
            authenticated_user: at("authenticateduser"),
            routing_hint: at("routinghint"),
            url_host: at("urlhost"),
        };
        Header { names, lower, known }
    }

    /// Index of a column, matched case-insensitively.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.lower.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A decoded Windows event (from EVTX, a wevtutil XML export or evtx_dump JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventRecord {
    pub record_id: Option<u64>,
    pub time: Option<Timestamp>,
    pub channel: String,
    pub provider: String,
    pub event_id: Option<u32>,
    pub level: Option<u8>,
    pub computer: String,
    /// EventData (or UserData) values in order; the name is `None` for classic `<Data>` values.
    pub data: Vec<(Option<String>, String)>,
    /// The rendered message, when the export carries one (`RenderingInfo/Message`).
    pub message: Option<String>,
}

impl EventRecord {
    /// The event's text as `Get-WinEvent`'s Message would contain it: the rendered message when
    /// the export has one, else the insertion strings (which is what the message is built from).
    pub fn message_contains(&self, needle: &str) -> bool {
        if let Some(m) = &self.message
            && m.contains(needle)
        {
            return true;
        }
        self.data.iter().any(|(_, v)| v.contains(needle))
    }

    /// A short one-line excerpt for evidence.
    pub fn excerpt(&self, max: usize) -> String {
        let mut s = format!(
            "{} EventID={} Level={} Provider={} Channel={} Computer={}",
            self.time.map(|t| t.to_string()).unwrap_or_default(),
            self.event_id.map(|v| v.to_string()).unwrap_or_default(),
            self.level.map(|v| v.to_string()).unwrap_or_default(),
            self.provider,
            self.channel,
            self.computer
        );
        let text = self
            .message
            .clone()
            .unwrap_or_else(|| self.data.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" | "));
        s.push_str(" :: ");
        s.push_str(&text.replace(['\r', '\n'], " "));
        crate::model::truncate(&s, max).to_string()
    }
}

/// Where a record's fields come from.
#[derive(Clone, Copy, Debug)]
pub enum Fields<'a> {
    /// A delimited text log: values are `text[span]`, named by `header`.
    Columns { header: &'a Header, text: &'a str, spans: &'a [(u32, u32)] },
    /// A Windows event.
    Event(&'a EventRecord),
    /// A line without a usable header (plain text logs).
    Text,
}

/// One record handed to detectors.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// 1-based line in a text log.
    pub line: Option<u64>,
    /// EventRecordID of an event.
    pub record_id: Option<u64>,
    pub time: Option<Timestamp>,
    /// The line as read (text logs; empty for events).
    pub raw: &'a str,
    pub fields: Fields<'a>,
}

impl<'a> Record<'a> {
    /// A column or event field by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        match self.fields {
            Fields::Columns { header, .. } => self.col(header.index(name)),
            Fields::Event(ev) => match name {
                _ if name.eq_ignore_ascii_case("Channel") => Some(ev.channel.as_str()),
                _ if name.eq_ignore_ascii_case("Provider_Name") || name.eq_ignore_ascii_case("Provider") => {
                    Some(ev.provider.as_str())
                }
                _ if name.eq_ignore_ascii_case("Computer") => Some(ev.computer.as_str()),
                _ => ev
                    .data
                    .iter()
                    .find(|(k, _)| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(name)))
                    .map(|(_, v)| v.as_str()),
            },
            Fields::Text => None,
        }
    }

    /// A column by index (from [`Header::index`], resolved once per header by hot detectors).
    #[inline]
    pub fn col(&self, idx: Option<usize>) -> Option<&'a str> {
        match self.fields {
            Fields::Columns { text, spans, .. } => {
                let (a, b) = *spans.get(idx?)?;
                text.get(a as usize..b as usize)
            }
            _ => None,
        }
    }

    /// The event, for event records.
    pub fn event(&self) -> Option<&'a EventRecord> {
        match self.fields {
            Fields::Event(e) => Some(e),
            _ => None,
        }
    }

    /// The header of a delimited record.
    pub fn header(&self) -> Option<&'a Header> {
        match self.fields {
            Fields::Columns { header, .. } => Some(header),
            _ => None,
        }
    }
}
