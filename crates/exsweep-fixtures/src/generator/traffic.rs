//! Client traffic through the Exchange front end (CAFE): one [`Request`] per proxied call, the
//! unit both the HttpProxy logs and the IIS logs are written from. Benign requests are drawn per
//! (protocol, hour) from their own random stream, so the IIS writer can regenerate exactly the
//! requests the HttpProxy writer logged (same `RequestId` = IIS `cafeReqId`).

use super::Server;
use super::fmt::{MS_PER_HOUR, weekday};
use super::population::User;
use super::rng::Rng;
use std::borrow::Cow;

/// The ten HttpProxy protocol folders Test-ProxyLogon reports on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Autodiscover,
    Eas,
    Ecp,
    Ews,
    Mapi,
    Oab,
    Owa,
    OwaCalendar,
    PowerShell,
    RpcHttp,
}

impl Protocol {
    pub const ALL: [Protocol; 10] = [
        Protocol::Autodiscover,
        Protocol::Eas,
        Protocol::Ecp,
        Protocol::Ews,
        Protocol::Mapi,
        Protocol::Oab,
        Protocol::Owa,
        Protocol::OwaCalendar,
        Protocol::PowerShell,
        Protocol::RpcHttp,
    ];

    /// Folder name and `Protocol` column value.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Autodiscover => "Autodiscover",
            Protocol::Eas => "Eas",
            Protocol::Ecp => "Ecp",
            Protocol::Ews => "Ews",
            Protocol::Mapi => "Mapi",
            Protocol::Oab => "Oab",
            Protocol::Owa => "Owa",
            Protocol::OwaCalendar => "OwaCalendar",
            Protocol::PowerShell => "PowerShell",
            Protocol::RpcHttp => "RpcHttp",
        }
    }

    fn index(self) -> u64 {
        Protocol::ALL.iter().position(|&p| p == self).unwrap_or(0) as u64
    }

    /// User requests in a busy weekday hour at scale 1.
    fn peak_rate(self) -> f64 {
        match self {
            Protocol::Autodiscover => 8.0,
            Protocol::Eas => 18.0,
            Protocol::Ecp => 1.5,
            Protocol::Ews => 12.0,
            Protocol::Mapi => 33.0,
            Protocol::Oab => 2.0,
            Protocol::Owa => 12.0,
            Protocol::OwaCalendar => 0.8,
            Protocol::PowerShell => 1.2,
            Protocol::RpcHttp => 4.5,
        }
    }
}

/// Weekday activity per UTC hour (an office in Central Europe), relative to the busiest hour.
const DIURNAL: [f64; 24] = [
    0.05, 0.04, 0.03, 0.03, 0.05, 0.12, 0.35, 0.75, 1.0, 1.0, 0.95, 0.85, 0.9, 1.0, 0.95, 0.8, 0.55, 0.35, 0.25, 0.2,
    0.18, 0.15, 0.1, 0.07,
];

/// Activity factor of the hour starting at `t`.
pub(crate) fn activity(t: i64) -> f64 {
    let h = (t.rem_euclid(super::fmt::MS_PER_DAY) / MS_PER_HOUR) as usize;
    let weekend = weekday(t) >= 5;
    DIURNAL[h] * if weekend { 0.2 } else { 1.0 }
}

/// `Database~<guid>~~<expiry>` style back-end cookie, or a literal one.
#[derive(Clone, Debug)]
pub(crate) enum Cookie<'a> {
    None,
    Database(usize),
    Raw(Cow<'a, str>),
}

/// One request through the front end.
#[derive(Clone, Debug)]
pub(crate) struct Request<'a> {
    /// Start, unix ms (UTC).
    pub t: i64,
    /// `RequestId`, also IIS `cafeReqId`.
    pub id: [u8; 16],
    pub client_id: Option<[u8; 16]>,
    pub protocol: Protocol,
    pub host: Cow<'a, str>,
    pub stem: Cow<'a, str>,
    /// Query without `?`, concatenated from parts (saves building strings per row).
    pub query: [Cow<'a, str>; 3],
    pub action: Cow<'a, str>,
    pub auth: Cow<'a, str>,
    pub user: Cow<'a, str>,
    /// AnchorMailbox as prefix + value (`Smtp~`, `jane@contoso.com`).
    pub anchor: [Cow<'a, str>; 2],
    pub ua: Cow<'a, str>,
    pub ip: Cow<'a, str>,
    pub status: u16,
    /// 0 = empty (not proxied).
    pub be_status: u16,
    pub error_code: Cow<'a, str>,
    pub method: Cow<'a, str>,
    /// Index into `Server::servers`; `None` when the request was not proxied.
    pub target: Option<usize>,
    pub routing_hint: Cow<'a, str>,
    pub cookie: Cookie<'a>,
    pub req_bytes: u32,
    pub resp_bytes: u32,
    pub total_ms: u32,
    pub be_ms: u32,
    pub generic_errors: Cow<'a, str>,
    pub db: Option<usize>,
    pub user_guid: Cow<'a, str>,
    /// Back-end (port 444) path; empty = same as `stem`.
    pub be_stem: Cow<'a, str>,
    /// Back-end query; empty = same as `query`.
    pub be_query: Cow<'a, str>,
    /// IIS cs-username on the front end (empty = `-`).
    pub iis_user: Cow<'a, str>,
    /// IIS cs-username on the back end.
    pub be_user: Cow<'a, str>,
    pub referer: Cow<'a, str>,
    /// Written to the front-end IIS log (W3SVC1).
    pub iis: bool,
    /// OWA adds `&encoding=;` to the IIS query.
    pub iis_encoding: bool,
}

impl<'a> Request<'a> {
    pub(crate) fn blank(t: i64, id: [u8; 16], protocol: Protocol) -> Request<'a> {
        let e = || Cow::Borrowed("");
        Request {
            t,
            id,
            client_id: None,
            protocol,
            host: e(),
            stem: e(),
            query: [e(), e(), e()],
            action: e(),
            auth: e(),
            user: e(),
            anchor: [e(), e()],
            ua: e(),
            ip: e(),
            status: 200,
            be_status: 200,
            error_code: e(),
            method: Cow::Borrowed("GET"),
            target: Some(0),
            routing_hint: e(),
            cookie: Cookie::None,
            req_bytes: 0,
            resp_bytes: 0,
            total_ms: 10,
            be_ms: 5,
            generic_errors: e(),
            db: None,
            user_guid: e(),
            be_stem: e(),
            be_query: e(),
            iis_user: e(),
            be_user: e(),
            referer: e(),
            iis: true,
            iis_encoding: false,
        }
    }

    /// True when the back-end IIS log (W3SVC2) of this server has the proxied call.
    pub(crate) fn on_local_backend(&self) -> bool {
        self.target == Some(0) && self.be_status != 0
    }
}

/// One IIS W3C line.
#[derive(Clone, Debug)]
pub(crate) struct IisItem<'a> {
    pub t: i64,
    pub method: Cow<'a, str>,
    pub stem: Cow<'a, str>,
    pub query: [Cow<'a, str>; 3],
    /// Exchange's `&CorrelationID=<empty>;&cafeReqId=<guid>;` suffix.
    pub cafe: Option<[u8; 16]>,
    pub encoding: bool,
    pub port: u16,
    pub user: Cow<'a, str>,
    pub ip: Cow<'a, str>,
    pub ua: Cow<'a, str>,
    pub referer: Cow<'a, str>,
    pub status: u16,
    pub substatus: u16,
    pub win32: u32,
    pub time_taken: u32,
}

impl<'a> IisItem<'a> {
    /// The front-end (W3SVC1, port 443) line of a request.
    pub(crate) fn front(r: &'a Request<'a>) -> IisItem<'a> {
        let b = |c: &'a Cow<'a, str>| Cow::Borrowed(c.as_ref());
        IisItem {
            t: r.t,
            method: b(&r.method),
            stem: b(&r.stem),
            query: [b(&r.query[0]), b(&r.query[1]), b(&r.query[2])],
            cafe: Some(r.id),
            encoding: r.iis_encoding,
            port: 443,
            user: b(&r.iis_user),
            ip: b(&r.ip),
            ua: b(&r.ua),
            referer: b(&r.referer),
            status: r.status,
            substatus: if r.status == 401 { if r.id[15] & 1 == 0 { 1 } else { 2 } } else { 0 },
            win32: if r.status == 401 && r.id[14] & 3 == 0 { 5 } else { 0 },
            time_taken: r.total_ms,
        }
    }

    /// The back-end (W3SVC2, port 444) line of a proxied request: the front end on this same
    /// machine is the client.
    pub(crate) fn back(r: &'a Request<'a>, server_ip: &'a str) -> IisItem<'a> {
        let b = |c: &'a Cow<'a, str>| Cow::Borrowed(c.as_ref());
        let stem = if r.be_stem.is_empty() { b(&r.stem) } else { b(&r.be_stem) };
        IisItem {
            t: r.t,
            method: b(&r.method),
            stem,
            query: if r.be_query.is_empty() {
                [b(&r.query[0]), b(&r.query[1]), b(&r.query[2])]
            } else {
                [b(&r.be_query), Cow::Borrowed(""), Cow::Borrowed("")]
            },
            cafe: None,
            encoding: false,
            port: 444,
            user: b(&r.be_user),
            ip: Cow::Borrowed(server_ip),
            ua: b(&r.ua),
            referer: Cow::Borrowed(""),
            status: r.be_status,
            substatus: 0,
            win32: 0,
            time_taken: r.be_ms,
        }
    }
}

const OWA_ACTIONS: &[(&str, u32)] = &[
    ("GetItem", 20),
    ("FindItem", 14),
    ("FindConversation", 12),
    ("GetConversationItems", 10),
    ("GetOwaUserConfiguration", 3),
    ("UpdateItem", 5),
    ("CreateItem", 4),
    ("GetAttachmentDataProviderItems", 1),
    ("FindPeople", 3),
    ("GetCalendarView", 6),
    ("ApplyConversationAction", 2),
    ("SubscribeToNotification", 2),
];

const EAS_CMDS: &[(&str, u32)] = &[
    ("Ping", 40),
    ("Sync", 35),
    ("FolderSync", 6),
    ("GetItemEstimate", 4),
    ("ItemOperations", 4),
    ("SendMail", 3),
    ("MoveItems", 2),
    ("Settings", 1),
    ("Search", 1),
    ("MeetingResponse", 1),
];

const EWS_ACTIONS: &[(&str, u32)] = &[
    ("GetItem", 20),
    ("FindItem", 15),
    ("GetFolder", 10),
    ("SyncFolderItems", 12),
    ("SyncFolderHierarchy", 4),
    ("GetUserAvailability", 8),
    ("Subscribe", 4),
    ("GetStreamingEvents", 5),
    ("GetUserOofSettings", 5),
    ("GetUserPhoto", 4),
    ("ResolveNames", 3),
    ("GetSharingMetadata", 1),
];

const MAPI_EMSMDB: &[(&str, u32)] = &[("Execute", 70), ("NotificationWait", 20), ("Connect", 6), ("Disconnect", 3)];
const MAPI_NSPI: &[(&str, u32)] = &[("Bind", 4), ("GetMatches", 3), ("QueryRows", 4), ("DNToMId", 2), ("Unbind", 2)];

const ECP_PAGES: &[(&str, &str, &str, &str)] = &[
    // method, stem, query, protocol action
    ("GET", "/ecp/", "", ""),
    ("GET", "/ecp/default.aspx", "", ""),
    ("POST", "/ecp/DDI/DDIService.svc/GetList", "schema=Mailboxes&msExchEcpCanary=", "GetList"),
    ("POST", "/ecp/DDI/DDIService.svc/GetObject", "schema=MailboxPropertiesMaster&msExchEcpCanary=", "GetObject"),
    ("POST", "/ecp/DDI/DDIService.svc/GetList", "schema=DistributionGroups&msExchEcpCanary=", "GetList"),
    ("GET", "/ecp/UsersGroups/Mailboxes.slab", "showhelp=false", ""),
    ("POST", "/ecp/DDI/DDIService.svc/GetList", "schema=VirtualDirectories&msExchEcpCanary=", "GetList"),
    ("GET", "/ecp/PersonalSettings/HomePage.aspx", "showhelp=false", ""),
    ("POST", "/ecp/RulesEditor/InboxRules.svc/GetList", "msExchEcpCanary=", "GetList"),
    ("GET", "/ecp/Organize/AutomaticReplies.slab", "showhelp=false", ""),
];

fn pick_w<'t>(rng: &mut Rng, table: &'t [(&'t str, u32)]) -> &'t str {
    let w: Vec<u32> = table.iter().map(|x| x.1).collect();
    table[rng.weighted(&w)].0
}

impl Server {
    /// The benign requests of one protocol in one hour (`hour` counts from the first day),
    /// sorted by time.
    pub(crate) fn hour_requests<'a>(&'a self, p: Protocol, hour: u32, out: &mut Vec<Request<'a>>) {
        let t0 = self.t0 + i64::from(hour) * MS_PER_HOUR;
        let mut rng = Rng::stream(self.spec.seed, &[1, p.index(), u64::from(hour)]);
        let scale = self.spec.scale.max(0.0);
        let n_users = rng.round(p.peak_rate() * activity(t0) * scale);
        let n_probes = rng.round(2.0 * scale).max(u64::from(n_users == 0));
        let mut times: Vec<(u32, bool)> = Vec::with_capacity((n_users + n_probes) as usize);
        for k in 0..n_users + n_probes {
            times.push((rng.below(MS_PER_HOUR as u64) as u32, k >= n_users));
        }
        times.sort_unstable();
        out.reserve(times.len());
        for (off, probe) in times {
            let t = t0 + i64::from(off);
            let r = if probe { self.probe_request(&mut rng, p, t) } else { self.user_request(&mut rng, p, t) };
            out.push(r);
        }
    }

    fn pick_user(&self, rng: &mut Rng) -> &User {
        // A fifth of the users make half of the traffic.
        let n = self.users.len() as u64;
        let i = if rng.chance(0.5) { rng.below(n.div_ceil(5)) } else { rng.below(n) };
        &self.users[i as usize]
    }

    /// A Managed Availability probe: HealthMailbox user, `AMProbe/Local/ClientAccess`, from the
    /// server itself to `localhost`.
    fn probe_request<'a>(&'a self, rng: &mut Rng, p: Protocol, t: i64) -> Request<'a> {
        let hm = &self.health[rng.below(self.health.len() as u64) as usize];
        let mut r = Request::blank(t, rng.guid(), p);
        r.host = Cow::Borrowed("localhost");
        r.ua = Cow::Borrowed("AMProbe/Local/ClientAccess");
        r.ip = Cow::Borrowed(&self.ip);
        r.auth = Cow::Borrowed("Basic");
        r.user = Cow::Borrowed(&hm.upn);
        r.iis_user = Cow::Borrowed(&hm.upn);
        r.be_user = Cow::Borrowed(&hm.nt);
        r.anchor = [Cow::Borrowed("Smtp~"), Cow::Borrowed(&hm.upn)];
        r.routing_hint = Cow::Borrowed("AnchorMailboxHeader-SMTP");
        r.db = Some(hm.db);
        r.user_guid = Cow::Borrowed(&hm.object_guid);
        r.cookie = Cookie::Database(hm.db);
        r.target = Some(self.dbs[hm.db].server);
        r.total_ms = rng.skewed(40);
        r.be_ms = r.total_ms * 2 / 3;
        r.req_bytes = rng.range(0, 600) as u32;
        r.resp_bytes = rng.skewed(2000);
        r.client_id = rng.chance(0.5).then(|| rng.guid());
        let (method, stem, action): (&'static str, &'static str, &'static str) = match p {
            Protocol::Autodiscover => ("POST", "/Autodiscover/Autodiscover.xml", ""),
            Protocol::Eas => ("POST", "/Microsoft-Server-ActiveSync/default.eas", "FolderSync"),
            Protocol::Ecp => ("GET", "/ecp/", ""),
            Protocol::Ews => ("POST", "/EWS/Exchange.asmx", "GetFolder"),
            Protocol::Mapi => ("POST", "/mapi/emsmdb/", "Connect"),
            Protocol::Oab => ("GET", "/OAB/", ""),
            Protocol::Owa => ("GET", "/owa/", ""),
            Protocol::OwaCalendar => ("GET", "/owa/calendar/", ""),
            Protocol::PowerShell => ("POST", "/powershell", ""),
            Protocol::RpcHttp => ("RPC_IN_DATA", "/rpc/rpcproxy.dll", ""),
        };
        r.method = Cow::Borrowed(method);
        r.stem = Cow::Borrowed(stem);
        r.action = Cow::Borrowed(action);
        match p {
            Protocol::Eas => {
                r.query = [
                    Cow::Borrowed("Cmd=FolderSync&User="),
                    Cow::Borrowed(&hm.sam),
                    Cow::Borrowed(&self.probe_eas_tail),
                ];
                r.be_stem = Cow::Borrowed("/Microsoft-Server-ActiveSync/Proxy/default.eas");
            }
            Protocol::Mapi => r.query = [Cow::Borrowed("MailboxId="), Cow::Borrowed(&hm.mailbox_id), Cow::Borrowed("")],
            Protocol::RpcHttp => r.query = [Cow::Borrowed(&hm.mailbox_id), Cow::Borrowed(":6001"), Cow::Borrowed("")],
            Protocol::PowerShell => {
                r.query = [Cow::Borrowed(POWERSHELL_QUERY), Cow::Borrowed(""), Cow::Borrowed("")];
                r.auth = Cow::Borrowed("Kerberos");
                r.be_stem = Cow::Borrowed("/PowerShell");
            }
            Protocol::OwaCalendar => {
                // The calendar probe checks the vdir answers; it is not anchored to a mailbox.
                r.status = 200;
                r.anchor = [Cow::Borrowed(""), Cow::Borrowed("")];
                r.cookie = Cookie::None;
                r.target = Some(0);
            }
            _ => {}
        }
        r
    }

    fn user_request<'a>(&'a self, rng: &mut Rng, p: Protocol, t: i64) -> Request<'a> {
        let u = if p == Protocol::Eas {
            &self.users[self.mobile_users[rng.below(self.mobile_users.len() as u64) as usize]]
        } else {
            self.pick_user(rng)
        };
        let mut r = Request::blank(t, rng.guid(), p);
        let inside = rng.chance(if p == Protocol::Eas { 0.15 } else { 0.7 });
        r.ip = Cow::Borrowed(if inside { &u.ip } else { &u.remote_ip });
        r.host = Cow::Borrowed(if inside && rng.chance(0.4) { &self.internal_host } else { &self.mail_host });
        r.user = Cow::Borrowed(&u.nt);
        r.iis_user = Cow::Borrowed(&u.nt);
        r.be_user = Cow::Borrowed(&u.nt);
        r.db = Some(u.db);
        r.user_guid = Cow::Borrowed(&u.object_guid);
        r.target = Some(self.dbs[u.db].server);
        r.cookie = if rng.chance(0.6) { Cookie::Database(u.db) } else { Cookie::None };
        r.anchor = [Cow::Borrowed("Smtp~"), Cow::Borrowed(&u.upn)];
        r.routing_hint = Cow::Borrowed("AnchorMailboxHeader-SMTP");
        r.auth = Cow::Borrowed(if inside { "Negotiate" } else { "Basic" });
        r.ua = Cow::Borrowed(u.outlook_ua);
        r.method = Cow::Borrowed("POST");
        r.total_ms = rng.skewed(60);
        r.req_bytes = rng.skewed(900);
        r.resp_bytes = rng.skewed(3000);
        let sid_anchor = |r: &mut Request<'a>| {
            r.anchor = [Cow::Borrowed("Sid~"), Cow::Borrowed(&u.sid)];
            r.routing_hint = Cow::Borrowed("WindowsIdentity");
        };
        let guid_anchor = |r: &mut Request<'a>| {
            r.anchor = [Cow::Borrowed("MailboxGuidWithDomain~"), Cow::Borrowed(&u.mailbox_id)];
            r.routing_hint = Cow::Borrowed("MailboxGuidWithDomain");
        };
        match p {
            Protocol::Autodiscover => {
                r.host = Cow::Borrowed(if inside { &self.internal_host } else { &self.autodiscover_host });
                if rng.chance(0.2) && u.eas_tail.is_some() {
                    r.stem = Cow::Borrowed("/autodiscover/autodiscover.xml");
                    r.ua = Cow::Borrowed(u.mobile_ua);
                    r.user = Cow::Borrowed(&u.upn);
                    r.iis_user = Cow::Borrowed(&u.upn);
                } else if rng.chance(0.15) {
                    // Autodiscover v2 (JSON) is anonymous.
                    r.stem = Cow::Borrowed("/autodiscover/autodiscover.json");
                    r.query = [
                        Cow::Borrowed("Email="),
                        Cow::Borrowed(&u.upn),
                        Cow::Borrowed("&Protocol=Ews&RedirectCount=1"),
                    ];
                    r.method = Cow::Borrowed("GET");
                    r.auth = Cow::Borrowed("");
                    r.user = Cow::Borrowed("");
                    r.iis_user = Cow::Borrowed("");
                } else {
                    r.stem = Cow::Borrowed("/Autodiscover/Autodiscover.xml");
                }
                r.total_ms = rng.skewed(90);
                r.resp_bytes = rng.skewed(4500);
            }
            Protocol::Eas => {
                let cmd = pick_w(rng, EAS_CMDS);
                r.stem = Cow::Borrowed("/Microsoft-Server-ActiveSync/default.eas");
                r.be_stem = Cow::Borrowed("/Microsoft-Server-ActiveSync/Proxy/default.eas");
                r.action = Cow::Borrowed(cmd);
                let tail = u.eas_tail.as_deref().unwrap_or(self.probe_eas_tail.as_str());
                r.query = [Cow::Borrowed("Cmd="), Cow::Borrowed(cmd), Cow::Borrowed(tail)];
                r.ua = Cow::Borrowed(u.mobile_ua);
                r.auth = Cow::Borrowed("Basic");
                r.user = Cow::Borrowed(&u.upn);
                r.iis_user = Cow::Borrowed(&u.upn);
                sid_anchor(&mut r);
                if cmd == "Ping" {
                    r.total_ms = rng.range(400_000, 900_000) as u32;
                } else if rng.chance(0.04) {
                    r.method = Cow::Borrowed("OPTIONS");
                    r.action = Cow::Borrowed("");
                    r.query = [Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")];
                }
            }
            Protocol::Ecp => {
                let &(method, stem, query, action) = rng.pick(ECP_PAGES);
                r.method = Cow::Borrowed(method);
                r.stem = Cow::Borrowed(stem);
                r.action = Cow::Borrowed(action);
                if query.ends_with("msExchEcpCanary=") {
                    r.query = [Cow::Borrowed(query), Cow::Borrowed(&self.canary), Cow::Borrowed("")];
                } else {
                    r.query = [Cow::Borrowed(query), Cow::Borrowed(""), Cow::Borrowed("")];
                }
                r.ua = Cow::Borrowed(u.browser_ua);
                r.auth = Cow::Borrowed(if inside { "Negotiate" } else { "FBA" });
                let admin = &self.users[rng.below(4) as usize];
                if !stem.contains("PersonalSettings") && !stem.contains("Organize") && !stem.contains("RulesEditor") {
                    r.user = Cow::Borrowed(&admin.nt);
                    r.iis_user = Cow::Borrowed(&admin.nt);
                    r.be_user = Cow::Borrowed(&admin.nt);
                    r.anchor = [Cow::Borrowed("Sid~"), Cow::Borrowed(&admin.sid)];
                    r.routing_hint = Cow::Borrowed("WindowsIdentity");
                    r.db = Some(admin.db);
                    r.target = Some(self.dbs[admin.db].server);
                    r.user_guid = Cow::Borrowed(&admin.object_guid);
                } else {
                    sid_anchor(&mut r);
                }
                r.referer = Cow::Borrowed(&self.ecp_referer);
                r.total_ms = rng.skewed(180);
            }
            Protocol::Ews => {
                r.stem = Cow::Borrowed("/EWS/Exchange.asmx");
                r.action = Cow::Borrowed(pick_w(rng, EWS_ACTIONS));
                if u.outlook_ua == super::population::MAC_OUTLOOK_UA {
                    r.user = Cow::Borrowed(&u.upn);
                    r.iis_user = Cow::Borrowed(&u.upn);
                }
                if r.action == "GetStreamingEvents" {
                    r.total_ms = rng.range(60_000, 1_800_000) as u32;
                }
                if rng.chance(0.08) {
                    // The archiving appliance reads mailboxes through the EWS Managed API.
                    let svc = &self.svc_archive;
                    r.ua = Cow::Borrowed(ARCHIVE_UA);
                    r.user = Cow::Borrowed(&svc.nt);
                    r.iis_user = Cow::Borrowed(&svc.nt);
                    r.be_user = Cow::Borrowed(&svc.nt);
                    r.ip = Cow::Borrowed(&self.archive_ip);
                    r.host = Cow::Borrowed(&self.internal_host);
                    r.auth = Cow::Borrowed("Ntlm");
                    r.action = Cow::Borrowed(if rng.chance(0.5) { "FindItem" } else { "GetItem" });
                }
            }
            Protocol::Mapi => {
                if rng.chance(0.85) {
                    r.stem = Cow::Borrowed("/mapi/emsmdb/");
                    r.action = Cow::Borrowed(pick_w(rng, MAPI_EMSMDB));
                } else {
                    r.stem = Cow::Borrowed("/mapi/nspi/");
                    r.action = Cow::Borrowed(pick_w(rng, MAPI_NSPI));
                }
                r.query = [Cow::Borrowed("MailboxId="), Cow::Borrowed(&u.mailbox_id), Cow::Borrowed("")];
                r.client_id = Some(rng.guid());
                guid_anchor(&mut r);
                if r.action == "NotificationWait" {
                    r.total_ms = rng.range(10_000, 600_000) as u32;
                }
            }
            Protocol::Oab => {
                r.method = Cow::Borrowed("GET");
                if rng.chance(0.7) {
                    r.stem = Cow::Borrowed(&self.oab_xml_stem);
                    r.resp_bytes = rng.skewed(1500);
                    if rng.chance(0.6) {
                        r.status = 304;
                        r.be_status = 304;
                        r.resp_bytes = 0;
                    }
                } else {
                    r.stem = Cow::Borrowed(&self.oab_lzx_stem);
                    r.resp_bytes = rng.skewed(90_000);
                }
            }
            Protocol::Owa => {
                r.ua = Cow::Borrowed(u.browser_ua);
                r.auth = Cow::Borrowed(if inside { "Negotiate" } else { "FBA" });
                r.iis_encoding = true;
                r.referer = Cow::Borrowed(&self.owa_referer);
                r.client_id = Some(rng.guid());
                if rng.chance(0.5) {
                    sid_anchor(&mut r);
                }
                let x = rng.below(100);
                if x < 62 {
                    let action = pick_w(rng, OWA_ACTIONS);
                    r.stem = Cow::Borrowed("/owa/service.svc");
                    r.action = Cow::Borrowed(action);
                    r.query = [Cow::Borrowed("action="), Cow::Borrowed(action), Cow::Borrowed("&EP=1&ID=-42&AC=1")];
                } else if x < 80 {
                    r.stem = Cow::Borrowed("/owa/ev.owa2");
                    r.query = [
                        Cow::Borrowed("ns=PendingRequest&ev=PendingNotificationRequest&UA=0"),
                        Cow::Borrowed(""),
                        Cow::Borrowed(""),
                    ];
                    r.action = Cow::Borrowed("PendingRequest");
                    r.total_ms = rng.range(20_000, 240_000) as u32;
                } else if x < 90 {
                    r.method = Cow::Borrowed("GET");
                    r.stem = Cow::Borrowed("/owa/");
                    r.resp_bytes = rng.skewed(25_000);
                } else if x < 96 {
                    r.stem = Cow::Borrowed("/owa/sessiondata.ashx");
                    r.query = [Cow::Borrowed("appcache=true"), Cow::Borrowed(""), Cow::Borrowed("")];
                } else {
                    r.method = Cow::Borrowed("GET");
                    r.stem = Cow::Borrowed("/owa/service.svc/s/GetFileAttachment");
                    r.query = [Cow::Borrowed("id=AAMkA"), Cow::Borrowed(&u.sam), Cow::Borrowed("&X-OWA-CANARY=x")];
                    r.resp_bytes = rng.skewed(250_000);
                }
            }
            Protocol::OwaCalendar => {
                let cal = &self.calendars[rng.below(self.calendars.len() as u64) as usize];
                let owner = &self.users[cal.user];
                r.method = Cow::Borrowed("GET");
                r.stem = Cow::Borrowed(if rng.chance(0.7) { &cal.ics } else { &cal.html });
                r.auth = Cow::Borrowed("");
                r.user = Cow::Borrowed("");
                r.iis_user = Cow::Borrowed("");
                r.be_user = Cow::Borrowed("");
                r.anchor = [Cow::Borrowed("MailboxGuidWithDomain~"), Cow::Borrowed(&owner.mailbox_id)];
                r.routing_hint = Cow::Borrowed("MailboxGuidWithDomain");
                r.db = Some(owner.db);
                r.target = Some(self.dbs[owner.db].server);
                r.ip = Cow::Borrowed(&u.remote_ip);
                r.host = Cow::Borrowed(&self.mail_host);
                r.ua = Cow::Borrowed(if r.stem.ends_with(".ics") { CALENDAR_UA } else { u.browser_ua });
                r.cookie = Cookie::None;
            }
            Protocol::PowerShell => {
                let admin = &self.users[rng.below(4) as usize];
                r.stem = Cow::Borrowed("/powershell");
                r.be_stem = Cow::Borrowed("/PowerShell");
                r.query = [Cow::Borrowed(POWERSHELL_QUERY), Cow::Borrowed(""), Cow::Borrowed("")];
                r.ua = Cow::Borrowed("Microsoft WinRM Client");
                r.auth = Cow::Borrowed("Kerberos");
                r.user = Cow::Borrowed(&admin.nt);
                r.iis_user = Cow::Borrowed(&admin.nt);
                r.be_user = Cow::Borrowed(&admin.nt);
                r.ip = Cow::Borrowed(&admin.ip);
                r.host = Cow::Borrowed(&self.internal_host);
                r.anchor = [Cow::Borrowed("Sid~"), Cow::Borrowed(&admin.sid)];
                r.routing_hint = Cow::Borrowed("WindowsIdentity");
                r.db = Some(admin.db);
                r.target = Some(0);
                r.total_ms = rng.skewed(1500);
            }
            Protocol::RpcHttp => {
                r.method = Cow::Borrowed(if rng.chance(0.5) { "RPC_IN_DATA" } else { "RPC_OUT_DATA" });
                r.stem = Cow::Borrowed("/rpc/rpcproxy.dll");
                r.query = [Cow::Borrowed(&u.mailbox_id), Cow::Borrowed(":6001"), Cow::Borrowed("")];
                r.ua = Cow::Borrowed("MSRPC");
                r.auth = Cow::Borrowed("Ntlm");
                guid_anchor(&mut r);
                r.total_ms = rng.range(1_000, 900_000) as u32;
                r.req_bytes = if r.method == "RPC_IN_DATA" { 1_073_741_824 } else { 76 };
            }
        }
        // NTLM / Negotiate handshakes: the first leg is a 401 that is never proxied.
        if matches!(r.auth.as_ref(), "Negotiate" | "Ntlm") && rng.chance(0.07) {
            r.status = 401;
            r.be_status = 0;
            r.target = None;
            r.user = Cow::Borrowed("");
            r.iis_user = Cow::Borrowed("");
            r.anchor = [Cow::Borrowed(""), Cow::Borrowed("")];
            r.routing_hint = Cow::Borrowed("");
            r.cookie = Cookie::None;
            r.total_ms = rng.range(0, 3) as u32;
            r.resp_bytes = 0;
        } else if rng.chance(0.004) {
            r.status = 500;
            r.be_status = 500;
            r.generic_errors = Cow::Borrowed(if rng.chance(0.5) { ERR_500_A } else { ERR_500_B });
        } else if p == Protocol::Owa && rng.chance(0.01) {
            r.status = 440;
            r.be_status = 440;
        }
        r.be_ms = (r.total_ms as f64 * 0.8) as u32;
        r
    }
}

pub(crate) const POWERSHELL_QUERY: &str = "serializationLevel=Full;ExchClientVer=15.1.2176.2;clientApplication=ManagementShell;TargetServer=;PSVersion=5.1.14393.3866";
pub(crate) const ARCHIVE_UA: &str = "ExchangeServicesClient/15.00.0913.015";
const CALENDAR_UA: &str = "Google-Calendar-Importer";
const ERR_500_A: &str = "WebExceptionStatus=ProtocolError;ResponseStatusCode=500;WebException=System.Net.WebException: The remote server returned an error: (500) Internal Server Error.,   at System.Net.HttpWebRequest.EndGetResponse(IAsyncResult asyncResult);";
const ERR_500_B: &str = "Exception=Microsoft.Exchange.Data.Storage.MailboxOfflineException: Cannot open mailbox \"/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients\", database is being moved.;";
