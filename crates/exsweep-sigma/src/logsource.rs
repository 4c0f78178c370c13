//! Which Sigma logsources a Windows event belongs to, from its channel and EventID. The same table
//! is printed in `docs/SIGMA_LOGSOURCES.md` (a test keeps the two equal).
//!
//! An event always names its product, service and category: a category the event does not have is
//! given as [`NO_CATEGORY`], so that a rule asking for a category never sees it (a Security 4624
//! logon is not `process_creation`; a web-server rule never sees an EVTX record).

use crate::rule::LogSourceSpec;
use exsweep_core::record::EventRecord;

/// The logsource of an event: product, service and category, each always named.
///
/// The names are the static strings of the tables here and in `columns`; equality and hashing
/// look at where they are, not at their text, because a route is looked up for every record
/// (two equal texts from different tables would only get two equal buckets).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogSource {
    pub product: &'static str,
    pub service: &'static str,
    pub category: &'static str,
}

impl LogSource {
    fn identity(&self) -> [(usize, usize); 3] {
        [self.product, self.service, self.category].map(|s| (s.as_ptr() as usize, s.len()))
    }
}

impl PartialEq for LogSource {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for LogSource {}

impl std::hash::Hash for LogSource {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl LogSource {
    /// Whether a rule asking for `spec` sees events of this logsource: every field the rule names
    /// must be the event's.
    pub fn satisfies(&self, spec: &LogSourceSpec) -> bool {
        let ok = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have));
        ok(&spec.product, self.product) && ok(&spec.service, self.service) && ok(&spec.category, self.category)
    }
}

/// Every logsource an event belongs to (one per category; at most three).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Route {
    sources: [LogSource; 3],
    len: u8,
}

impl Route {
    pub fn one(ls: LogSource) -> Route {
        Route { sources: [ls, LogSource::default(), LogSource::default()], len: 1 }
    }

    fn push(&mut self, ls: LogSource) {
        if (self.len as usize) < self.sources.len() {
            self.sources[self.len as usize] = ls;
            self.len += 1;
        }
    }

    pub fn sources(&self) -> &[LogSource] {
        &self.sources[..self.len as usize]
    }

    /// Whether a rule asking for `spec` sees events of this route.
    pub fn satisfies(&self, spec: &LogSourceSpec) -> bool {
        self.sources().iter().any(|ls| ls.satisfies(spec))
    }
}

/// The category of an event that has none in the Sigma taxonomy.
pub const NO_CATEGORY: &str = "-";
/// The service of a channel that no Sigma service names.
pub const NO_SERVICE: &str = "-";

/// Sigma `service` → Windows event log channels. pySigma's `windows_logsource_mapping`
/// (sigma/pipelines/common.py), with the other channels SigmaHQ rules name.
pub const SERVICE_CHANNELS: &[(&str, &[&str])] = &[
    ("security", &["Security"]),
    ("application", &["Application"]),
    ("system", &["System"]),
    ("sysmon", &["Microsoft-Windows-Sysmon/Operational"]),
    ("powershell", &["Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational"]),
    ("powershell-classic", &["Windows PowerShell"]),
    ("taskscheduler", &["Microsoft-Windows-TaskScheduler/Operational"]),
    ("wmi", &["Microsoft-Windows-WMI-Activity/Operational"]),
    ("dns-server", &["DNS Server"]),
    ("dns-server-audit", &["Microsoft-Windows-DNS-Server/Audit"]),
    ("dns-client", &["Microsoft-Windows-DNS Client Events/Operational"]),
    ("driver-framework", &["Microsoft-Windows-DriverFrameworks-UserMode/Operational"]),
    ("ntlm", &["Microsoft-Windows-NTLM/Operational"]),
    ("dhcp", &["Microsoft-Windows-DHCP-Server/Operational"]),
    ("msexchange-management", &["MSExchange Management"]),
    (
        "applocker",
        &[
            "Microsoft-Windows-AppLocker/EXE and DLL",
            "Microsoft-Windows-AppLocker/MSI and Script",
            "Microsoft-Windows-AppLocker/Packaged app-Deployment",
            "Microsoft-Windows-AppLocker/Packaged app-Execution",
        ],
    ),
    ("printservice-admin", &["Microsoft-Windows-PrintService/Admin"]),
    ("printservice-operational", &["Microsoft-Windows-PrintService/Operational"]),
    ("codeintegrity-operational", &["Microsoft-Windows-CodeIntegrity/Operational"]),
    ("smbclient-security", &["Microsoft-Windows-SmbClient/Security"]),
    ("smbclient-connectivity", &["Microsoft-Windows-SmbClient/Connectivity"]),
    ("smbserver-connectivity", &["Microsoft-Windows-SMBServer/Connectivity"]),
    ("firewall-as", &["Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]),
    ("bits-client", &["Microsoft-Windows-Bits-Client/Operational"]),
    ("windefend", &["Microsoft-Windows-Windows Defender/Operational"]),
    ("terminalservices-localsessionmanager", &["Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"]),
    ("microsoft-servicebus-client", &["Microsoft-ServiceBus-Client"]),
    (
        "security-mitigations",
        &["Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"],
    ),
    ("appxdeployment-server", &["Microsoft-Windows-AppXDeploymentServer/Operational"]),
    ("appxpackaging-om", &["Microsoft-Windows-AppxPackaging/Operational"]),
    ("shell-core", &["Microsoft-Windows-Shell-Core/Operational"]),
    ("openssh", &["OpenSSH/Operational"]),
    ("iis-configuration", &["Microsoft-IIS-Configuration/Operational"]),
    ("ldap_debug", &["Microsoft-Windows-LDAP-Client/Debug"]),
    ("lsa-server", &["Microsoft-Windows-LSA/Operational"]),
    ("capi2", &["Microsoft-Windows-CAPI2/Operational"]),
];

/// Categories given by (service, EventID). Sysmon's come from its event types; the others from
/// the generic Windows categories of pySigma's pipelines (a Security 4688 is a `process_creation`
/// as well, read through the field aliases of [`crate::event`]).
pub const EVENT_CATEGORIES: &[(&str, u32, &str)] = &[
    ("sysmon", 1, "process_creation"),
    ("sysmon", 2, "file_change"),
    ("sysmon", 3, "network_connection"),
    ("sysmon", 4, "sysmon_status"),
    ("sysmon", 5, "process_termination"),
    ("sysmon", 6, "driver_load"),
    ("sysmon", 7, "image_load"),
    ("sysmon", 8, "create_remote_thread"),
    ("sysmon", 9, "raw_access_thread"),
    ("sysmon", 10, "process_access"),
    ("sysmon", 11, "file_event"),
    ("sysmon", 12, "registry_add"),
    ("sysmon", 12, "registry_delete"),
    ("sysmon", 12, "registry_event"),
    ("sysmon", 13, "registry_set"),
    ("sysmon", 13, "registry_event"),
    ("sysmon", 14, "registry_rename"),
    ("sysmon", 14, "registry_event"),
    ("sysmon", 15, "create_stream_hash"),
    ("sysmon", 16, "sysmon_status"),
    ("sysmon", 17, "pipe_created"),
    ("sysmon", 18, "pipe_created"),
    ("sysmon", 19, "wmi_event"),
    ("sysmon", 20, "wmi_event"),
    ("sysmon", 21, "wmi_event"),
    ("sysmon", 22, "dns_query"),
    ("sysmon", 23, "file_delete"),
    ("sysmon", 24, "clipboard_capture"),
    ("sysmon", 25, "process_tampering"),
    ("sysmon", 26, "file_delete_detected"),
    ("sysmon", 27, "file_block_executable"),
    ("sysmon", 28, "file_block_shredding"),
    ("sysmon", 29, "file_executable_detected"),
    ("sysmon", 255, "sysmon_error"),
    ("security", 4688, "process_creation"),
    ("powershell", 4103, "ps_module"),
    ("powershell", 4104, "ps_script"),
    ("powershell-classic", 400, "ps_classic_start"),
    ("powershell-classic", 600, "ps_classic_provider_start"),
    ("powershell-classic", 800, "ps_classic_script"),
];

/// The Sigma service of a channel (`-` when none names it).
pub fn service_of(channel: &str) -> &'static str {
    // Records come file by file, and a file holds one channel: remember the last answer.
    thread_local! {
        static LAST: std::cell::RefCell<(String, &'static str)> = const { std::cell::RefCell::new((String::new(), NO_SERVICE)) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != channel || last.0.is_empty() {
            let service = SERVICE_CHANNELS
                .iter()
                .find(|(_, chans)| chans.iter().any(|c| c.eq_ignore_ascii_case(channel)))
                .map_or(NO_SERVICE, |(s, _)| s);
            last.0.clear();
            last.0.push_str(channel);
            last.1 = service;
        }
        last.1
    })
}

/// Every logsource a Windows event belongs to: one per category it has (at least one, with
/// [`NO_CATEGORY`] when it has none). Sysmon registry events of type 12 are `registry_add`
/// (`EventType` `CreateKey`) or `registry_delete` (`DeleteKey`, `DeleteValue`).
pub fn route_of(ev: &EventRecord) -> Route {
    let service = service_of(&ev.channel);
    let event_type = ev.data.iter().find(|(k, _)| k.as_deref() == Some("EventType")).map(|(_, v)| v.as_str());
    let mut route = Route::default();
    if let Some(id) = ev.event_id {
        for (s, i, c) in EVENT_CATEGORIES {
            if *s != service || *i != id {
                continue;
            }
            let keep = match *c {
                "registry_add" => event_type.is_none_or(|t| t.eq_ignore_ascii_case("CreateKey")),
                "registry_delete" => event_type
                    .is_none_or(|t| t.eq_ignore_ascii_case("DeleteKey") || t.eq_ignore_ascii_case("DeleteValue")),
                _ => true,
            };
            if keep {
                route.push(windows(service, c));
            }
        }
    }
    if route.len == 0 {
        route.push(windows(service, NO_CATEGORY));
    }
    route
}

fn windows(service: &'static str, category: &'static str) -> LogSource {
    LogSource { product: "windows", service, category }
}

/// The table as Markdown, as `docs/SIGMA_LOGSOURCES.md` prints it.
pub fn markdown_table() -> String {
    let mut s = String::from("| service | channels | categories by EventID |\n|---|---|---|\n");
    for (service, chans) in SERVICE_CHANNELS {
        let cats: Vec<String> = EVENT_CATEGORIES
            .iter()
            .filter(|(sv, _, _)| sv == service)
            .map(|(_, id, c)| format!("{id} → {c}"))
            .collect();
        s.push_str(&format!(
            "| {service} | {} | {} |\n",
            chans.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
            if cats.is_empty() { "—".to_string() } else { cats.join(", ") }
        ));
    }
    s
}
