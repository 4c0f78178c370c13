//! The generated logs have the real formats: exact headers, 74-column HttpProxy rows, 15-field
//! IIS lines, 4-column ECP and OAB lines, EVTX files the `evtx` crate reads, files on disk.

mod generator_common;

use exsweep_fixtures::generator::{HTTPPROXY_FIELDS, IIS_FIELDS, ServerSpec};
use exsweep_fixtures::layout::Layout;
use generator_common::*;
use std::collections::BTreeSet;

/// The 74 columns as listed in the knowledge file (§1.3), independently of the generator.
const KNOWN_FIELDS: &str = "DateTime RequestId MajorVersion MinorVersion BuildVersion RevisionVersion ClientRequestId Protocol UrlHost UrlStem ProtocolAction AuthenticationType IsAuthenticated AuthenticatedUser Organization AnchorMailbox UserAgent ClientIpAddress ServerHostName HttpStatus BackEndStatus ErrorCode Method ProxyAction TargetServer TargetServerVersion RoutingType RoutingHint BackEndCookie ServerLocatorHost ServerLocatorLatency RequestBytes ResponseBytes TargetOutstandingRequests AuthModulePerfContext HttpPipelineLatency CalculateTargetBackEndLatency GlsLatencyBreakup TotalGlsLatency AccountForestLatencyBreakup TotalAccountForestLatency ResourceForestLatencyBreakup TotalResourceForestLatency ADLatency SharedCacheLatencyBreakup TotalSharedCacheLatency ActivityContextLifeTime ModuleToHandlerSwitchingLatency ClientReqStreamLatency BackendReqInitLatency BackendReqStreamLatency BackendProcessingLatency BackendRespInitLatency BackendRespStreamLatency ClientRespStreamLatency KerberosAuthHeaderLatency HandlerCompletionLatency RequestHandlerLatency HandlerToModuleSwitchingLatency ProxyTime CoreLatency RoutingLatency HttpProxyOverhead TotalRequestTime RouteRefresherLatency UrlQuery BackEndGenericInfo GenericInfo GenericErrors EdgeTraceId DatabaseGuid UserADObjectGuid PartitionEndpointLookupLatency RoutingStatus";

const PROTOCOLS: [&str; 10] =
    ["Autodiscover", "Eas", "Ecp", "Ews", "Mapi", "Oab", "Owa", "OwaCalendar", "PowerShell", "RpcHttp"];

fn is_iso_ms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z'
        && b.iter().enumerate().all(|(i, c)| [4, 7, 10, 13, 16, 19, 23].contains(&i) || c.is_ascii_digit())
}

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// A denser, shorter span so that rarer row kinds (quoted error rows) occur.
fn dense_spec() -> ServerSpec {
    ServerSpec { scale: 0.5, first_day: (2021, 3, 2), days: 3, ..ServerSpec::default() }
}

#[test]
fn httpproxy_headers_and_rows() {
    let (dir, _) = generate(dense_spec(), Layout::Drive);
    let root = dir.path().join("Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy");
    assert_eq!(HTTPPROXY_FIELDS.split(',').collect::<Vec<_>>(), KNOWN_FIELDS.split(' ').collect::<Vec<_>>());
    let mut folders: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    folders.sort();
    assert_eq!(folders, PROTOCOLS);
    let (mut rows, mut quoted, mut double_space_ua) = (0, 0, 0);
    let mut request_ids = BTreeSet::new();
    for (rel, full) in walk(&root) {
        let (folder, name) = rel.split_once('/').unwrap();
        // HttpProxy_yyyyMMddHH-1.LOG
        assert!(name.starts_with("HttpProxy_2021030") && name.ends_with("-1.LOG") && name.len() == 26, "{name}");
        let hour = &name[10..20];
        let ls = lines(&full);
        assert_eq!(ls[0], "#Software: Microsoft Exchange Server");
        assert_eq!(ls[1], "#Version: 15.01.2176.002");
        assert_eq!(ls[2], "#Log-type: HttpProxy Logs");
        let date = ls[3].strip_prefix("#Date: ").unwrap();
        assert!(is_iso_ms(date), "{date}");
        assert_eq!(date[..13].replace(['-', 'T'], ""), hour, "#Date in the file's hour");
        assert_eq!(ls[4], format!("#Fields: {}", KNOWN_FIELDS.replace(' ', ",")));
        assert!(ls.len() > 5, "{rel}: no rows");
        let mut last = date.to_string();
        for l in &ls[5..] {
            let v = csv_record(l);
            assert_eq!(v.len(), 74, "{rel}: {l}");
            rows += 1;
            quoted += usize::from(l.contains('"'));
            assert!(is_iso_ms(&v[0]) && v[0] >= last, "{rel}: unsorted or bad time {}", v[0]);
            assert_eq!(v[0][..13].replace(['-', 'T'], ""), hour);
            last = v[0].clone();
            assert!(is_guid(&v[1]), "RequestId {}", v[1]);
            assert!(request_ids.insert(v[1].clone()), "duplicate RequestId");
            assert_eq!(&v[2..6], ["15", "1", "2176", "2"]);
            assert_eq!(v[7], folder, "Protocol column = folder");
            assert!(matches!(v[12].as_str(), "true" | "false"));
            assert_eq!(v[12] == "true", !v[13].is_empty(), "IsAuthenticated iff AuthenticatedUser");
            assert!(!v[16].contains(','), "commas in UserAgent become spaces");
            double_space_ua += usize::from(v[16].contains("(KHTML  like Gecko)"));
            assert_eq!(v[18], "EX01");
            assert!(v[19].parse::<u16>().is_ok());
            if v[23] == "Proxy" {
                assert!(v[24].ends_with(".contoso.local") && v[25] == "15.01.2176.000" && v[26] == "IntraForest");
            }
            assert!(v[67].starts_with("BeginRequest=") && v[67].ends_with(';'), "GenericInfo {}", v[67]);
            assert_eq!(v[73], "CafeV1");
        }
    }
    assert!(rows > 1000, "{rows} rows");
    assert!(quoted > 0, "no quoted value (error rows with commas) at this scale");
    assert!(double_space_ua > 0);
}

#[test]
fn iis_headers_fields_and_cafe_ids() {
    let spec = dense_spec();
    let (dir, _) = generate(spec, Layout::Kape);
    let root = dir.path().join("C/inetpub/logs/LogFiles");
    let ip_line = |l: &str| l.split(' ').nth(2).unwrap().to_string();
    let mut restarts = 0;
    let mut cafe_ids = BTreeSet::new();
    for site in ["W3SVC1", "W3SVC2"] {
        let files = walk(&root.join(site));
        assert_eq!(
            files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            ["u_ex210302.log", "u_ex210303.log", "u_ex210304.log"]
        );
        for (name, full) in files {
            let ls = lines(&full);
            let day = format!("20{}-{}-{}", &name[4..6], &name[6..8], &name[8..10]);
            let mut last = String::new();
            for (i, l) in ls.iter().enumerate() {
                if l.starts_with('#') {
                    // A header block: four lines, in order.
                    if l.starts_with("#Software") {
                        assert_eq!(l, "#Software: Microsoft Internet Information Services 8.5");
                        assert_eq!(ls[i + 1], "#Version: 1.0");
                        let d = ls[i + 2].strip_prefix("#Date: ").unwrap();
                        assert_eq!(d.len(), 19);
                        assert!(d.starts_with(&day));
                        assert_eq!(ls[i + 3], format!("#Fields: {IIS_FIELDS}"));
                        restarts += usize::from(i > 0);
                    }
                    continue;
                }
                let v: Vec<&str> = l.split(' ').collect();
                assert_eq!(v.len(), 15, "{name}: {l}");
                assert!(v.iter().all(|f| !f.is_empty()), "empty values are '-': {l}");
                assert_eq!(v[0], day);
                let t = format!("{} {}", v[0], v[1]);
                assert!(t >= last, "{name} unsorted at line {}", i + 1);
                last = t;
                assert!(v[11].parse::<u16>().is_ok() && v[14].parse::<u32>().is_ok());
                if site == "W3SVC1" {
                    assert_eq!(v[6], "443");
                    if let Some(c) = v[5].split("&cafeReqId=").nth(1) {
                        cafe_ids.insert(c[..36].to_string());
                    }
                } else {
                    assert_eq!(v[6], "444");
                    assert_eq!(v[8], ip_line(l), "back end: the front end on the same server is the client");
                }
            }
            assert_eq!(ls[0], "#Software: Microsoft Internet Information Services 8.5");
        }
    }
    assert!(restarts >= 1, "at least one header block in the middle of a file (IIS restart)");
    // Every front-end request in the HttpProxy logs has its IIS line (cafeReqId = RequestId).
    let proxy = walk(&dir.path().join("C/Program Files/Microsoft/Exchange Server/V15/Logging/HttpProxy"));
    let mut checked = 0;
    for (_, full) in proxy {
        for l in lines(&full).iter().skip(5) {
            let v = csv_record(l);
            if v[15].starts_with("ServerInfo~") {
                continue; // scenario rows: some have no IIS line on purpose
            }
            assert!(cafe_ids.contains(&v[1]), "RequestId {} has no IIS line", v[1]);
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

#[test]
fn ecp_oab_lines() {
    let (dir, _) = generate(dense_spec(), Layout::Drive);
    let logging = dir.path().join("Program Files/Microsoft/Exchange Server/V15/Logging");
    let ecp = walk(&logging.join("ECP/Server"));
    assert_eq!(ecp.len(), 3);
    let mut csv_quoted = 0;
    for (name, full) in ecp {
        assert!(name.starts_with("ECPServer2021030") && name.ends_with("-1.LOG"));
        let ls = lines(&full);
        assert_eq!(
            ls[..3],
            ["#Software: Microsoft Exchange Server", "#Version: 15.0.0.0", "#Log-type: ECP Server Log"]
        );
        assert!(is_iso_ms(ls[3].strip_prefix("#Date: ").unwrap()));
        assert_eq!(ls[4], "#Fields: TimeStamp,ServerName,EventId,EventData");
        for l in &ls[5..] {
            let v = csv_record(l);
            assert_eq!(v.len(), 4, "{l}");
            assert!(is_iso_ms(&v[0]));
            assert_eq!(v[1], "EX01");
            assert_eq!(v[2], "ECP.Request");
            csv_quoted += usize::from(l.contains(",\""));
            let pairs = exsweep_fixtures::generator::oracle::ecp_pairs(&v[3]);
            let keys: Vec<&str> = pairs.iter().map(|p| p.split('=').next().unwrap()).collect();
            assert_eq!(keys[..5], ["S:TIME", "S:SID", "S:CMD", "S:REQID", "S:URL"], "{l}");
        }
    }
    assert!(csv_quoted > 0, "EventData with commas or quotes is CSV-quoted");
    let oab = walk(&logging.join("OABGeneratorLog"));
    assert_eq!(oab.len(), 3);
    for (name, full) in oab {
        assert!(name.starts_with("OABGenerator2021030") && name.ends_with("-1.LOG"));
        let ls = lines(&full);
        assert_eq!(ls[0], "#Software: Microsoft Exchange Server");
        assert_eq!(ls[2], "#Log-type: OAB Generator Log");
        assert_eq!(ls[4], "#Fields: TimeStamp,ServerName,Level,Message");
        let mut last = String::new();
        for l in &ls[5..] {
            let v = csv_record(l);
            assert_eq!(v.len(), 4);
            assert!(matches!(v[2].as_str(), "Info" | "Warning" | "Error"));
            assert!(v[0] >= last, "sorted");
            last = v[0].clone();
        }
    }
}

#[test]
fn event_logs_read_back() {
    let (dir, truth) = generate(small_spec(), Layout::Kape);
    let logs = dir.path().join("C/Windows/System32/winevt/Logs");
    for name in ["Application.evtx", "System.evtx", "Security.evtx"] {
        let events = read_evtx(&logs.join(name));
        assert!(events.len() >= 14, "{name}: {} events", events.len());
        let ids: Vec<u64> = events.iter().map(|e| e.record).collect();
        assert_eq!(ids, (1..=events.len() as u64).collect::<Vec<_>>(), "{name}: record ids 1..n");
        assert!(events.windows(2).all(|w| w[0].time <= w[1].time), "{name}: time order");
    }
    let app = read_evtx(&logs.join("Application.evtx"));
    let providers: BTreeSet<&str> = app.iter().map(|e| e.provider.as_str()).collect();
    for p in ["MSExchange ADAccess", "MSExchange Unified Messaging", "Microsoft-Windows-Security-SPP"] {
        assert!(providers.contains(p), "{p} missing from {providers:?}");
    }
    let um = truth.indicators.iter().find(|p| p.rule_id == "EXS-26857-UM-INVALIDCAST").unwrap();
    let e = app.iter().find(|e| Some(e.record) == um.record).unwrap();
    assert_eq!((e.provider.as_str(), e.level), ("MSExchange Unified Messaging", 2));
    assert!(e.data.join(" ").contains("System.InvalidCastException"));
}

#[test]
fn files_on_disk() {
    let (dir, truth) = generate(small_spec(), Layout::Drive);
    let ex = dir.path().join("Program Files/Microsoft/Exchange Server/V15");
    for f in [
        "logon.aspx",
        "logoff.aspx",
        "errorFE.aspx",
        "expiredpassword.aspx",
        "frowny.aspx",
        "signout.aspx",
        "OutlookCN.aspx",
        "RedirSuiteServiceProxy.aspx",
        "15.1.2176/themes/resources/logon.css",
    ] {
        assert!(ex.join("FrontEnd/HttpProxy/owa/auth").join(f).is_file(), "{f}");
    }
    assert!(ex.join("FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx").is_file());
    assert!(ex.join("Bin/ExSetup.exe").is_file());
    assert!(dir.path().join("inetpub/wwwroot/aspnet_client/system_web/4_0_30319").is_dir());
    for dump in ["Windows/Temp/lsass.dmp", "root/lsass.dmp"] {
        assert_eq!(&std::fs::read(dir.path().join(dump)).unwrap()[..4], b"MDMP");
    }
    for z in ["ProgramData/it.zip", "Users/Public/report.zip"] {
        let f = std::fs::File::open(dir.path().join(z)).unwrap();
        assert!(!zip::ZipArchive::new(f).unwrap().is_empty(), "{z} is a real zip");
    }
    let shell = std::fs::read_to_string(ex.join("FrontEnd/HttpProxy/owa/auth/RedirSuiteServerProxy.aspx")).unwrap();
    assert!(
        shell.contains("ExternalUrl                     : http://f/<script language=\"JScript\" runat=\"server\">")
    );
    assert!(shell.contains("InternalAuthenticationMethods") && shell.contains("ExtendedProtectionTokenChecking"));
    let kinds: BTreeSet<&str> = truth.files_on_disk.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["archive", "compiled_webshell", "lsass_dump", "tool", "webshell"]));
    for d in &truth.files_on_disk {
        assert!(dir.path().join(&d.path).is_file(), "{}", d.path);
    }
    let chopper = truth
        .files_on_disk
        .iter()
        .find(|d| d.path.contains("system_web/") && d.family == "china_chopper" && d.variant == "classic")
        .unwrap();
    let name = chopper.path.rsplit('/').next().unwrap();
    assert_eq!(name.len(), 13, "8 random characters + .aspx");
    assert!(
        std::fs::read_to_string(dir.path().join(&chopper.path)).unwrap().contains("eval(Request[\"x\"],\"unsafe\")")
    );
}
