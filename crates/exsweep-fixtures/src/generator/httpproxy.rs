//! HttpProxy logs (`Logging\HttpProxy\<Protocol>\HttpProxy_<yyyyMMddHH>-1.LOG`): the five-line
//! Exchange header and one 74-column CSV row per front-end request, in the column order of an
//! Exchange 2016 server.

use super::fmt::{MS_PER_HOUR, push_csv, push_csv_user_agent, push_guid, push_iso_ms, push_u64};
use super::rng::Rng;
use super::traffic::{Cookie, Protocol, Request};
use super::{LineSink, Mark, Server, mark, oracle};
use std::io::{self, Write};

/// The 74 HttpProxy columns, in order (the `#Fields:` line without its prefix).
pub const HTTPPROXY_FIELDS: &str = "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors,EdgeTraceId,DatabaseGuid,UserADObjectGuid,PartitionEndpointLookupLatency,RoutingStatus";

impl Server {
    pub(crate) fn write_httpproxy(&self, p: Protocol, hour: u32, w: &mut dyn Write) -> io::Result<Vec<Mark>> {
        let t0 = self.t0 + i64::from(hour) * MS_PER_HOUR;
        let mut benign = Vec::new();
        self.hour_requests(p, hour, &mut benign);
        let specials: Vec<_> = self
            .scenario
            .proxy
            .iter()
            .filter(|s| s.req.protocol == p && s.req.t >= t0 && s.req.t < t0 + MS_PER_HOUR)
            .collect();
        let first = benign.first().map(|r| r.t).into_iter().chain(specials.first().map(|s| s.req.t)).min();
        let created =
            (t0 + Rng::stream(self.spec.seed, &[2, hour as u64]).range(3, 900) as i64).min(first.unwrap_or(i64::MAX));

        let mut sink = LineSink::new(w);
        sink.exchange_header(self.build_at(created), "HttpProxy Logs", created, HTTPPROXY_FIELDS)?;

        let mut marks = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < benign.len() || j < specials.len() {
            let take_special = j < specials.len() && (i >= benign.len() || specials[j].req.t < benign[i].t);
            if take_special {
                let s = specials[j];
                self.push_row(&mut sink.buf, &s.req);
                let line = sink.emit()?;
                let cookie = cookie_text(self, &s.req);
                let anchor = format!("{}{}", s.req.anchor[0], s.req.anchor[1]);
                let status = s.req.status.to_string();
                let rules = oracle::httpproxy(p.name(), &anchor, &status, &cookie);
                marks.extend(mark(s.proxy, rules, Some(line), None, &s.note));
                j += 1;
            } else {
                let r = &benign[i];
                self.push_row(&mut sink.buf, r);
                sink.emit()?;
                debug_assert!(
                    !r.anchor[0].starts_with("ServerInfo") && !matches!(r.cookie, Cookie::Raw(_)),
                    "benign HttpProxy row looks like ProxyLogon"
                );
                i += 1;
            }
        }
        Ok(marks)
    }

    /// One 74-column row.
    pub(crate) fn push_row(&self, b: &mut Vec<u8>, r: &Request) {
        // Latencies and sizes derive from the request id, so no random state crosses rows.
        let mut lr = Rng::new(u64::from_le_bytes(r.id[..8].try_into().unwrap_or([0; 8])));
        let proxied = r.target.is_some() && r.be_status != 0;
        let total = r.total_ms;
        let [major, minor, build, rev] = self.version;
        push_iso_ms(b, r.t);
        b.push(b',');
        push_guid(b, &r.id);
        for v in [major, minor, build, rev] {
            b.push(b',');
            push_u64(b, u64::from(v));
        }
        b.push(b',');
        if let Some(c) = &r.client_id {
            push_guid(b, c);
        }
        b.push(b',');
        b.extend_from_slice(r.protocol.name().as_bytes());
        for v in [&r.host, &r.stem, &r.action, &r.auth] {
            b.push(b',');
            push_csv(b, v);
        }
        b.extend_from_slice(if !r.user.is_empty() { b",true," } else { b",false," });
        push_csv(b, &r.user);
        b.extend_from_slice(b",,"); // Organization
        let plain = |s: &str| !s.bytes().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'));
        if plain(&r.anchor[0]) && plain(&r.anchor[1]) {
            b.extend_from_slice(r.anchor[0].as_bytes());
            b.extend_from_slice(r.anchor[1].as_bytes());
        } else {
            push_csv(b, &format!("{}{}", r.anchor[0], r.anchor[1]));
        }
        b.push(b',');
        push_csv_user_agent(b, &r.ua);
        b.push(b',');
        push_csv(b, &r.ip);
        b.push(b',');
        b.extend_from_slice(self.host.as_bytes());
        b.push(b',');
        push_u64(b, u64::from(r.status));
        b.push(b',');
        if proxied {
            push_u64(b, u64::from(r.be_status));
        }
        b.push(b',');
        push_csv(b, &r.error_code);
        b.push(b',');
        push_csv(b, &r.method);
        b.push(b',');
        let target = r.target.map(|t| self.servers[t].fqdn.as_str()).filter(|_| proxied);
        if let Some(fqdn) = target {
            b.extend_from_slice(b"Proxy,");
            b.extend_from_slice(fqdn.as_bytes());
            b.push(b',');
            b.extend_from_slice(self.target_version.as_bytes());
            b.extend_from_slice(b",IntraForest,");
        } else {
            b.extend_from_slice(b",,,,");
        }
        push_csv(b, &r.routing_hint);
        b.push(b',');
        match &r.cookie {
            Cookie::None => {}
            Cookie::Database(db) => self.push_db_cookie(b, *db, r.t),
            Cookie::Raw(c) => push_csv(b, c),
        }
        b.push(b',');
        // ServerLocatorHost, ServerLocatorLatency: only when the database had to be located.
        if let (Some(fqdn), Cookie::None, Some(_)) = (target, &r.cookie, r.db) {
            b.extend_from_slice(fqdn.as_bytes());
            b.push(b',');
            push_u64(b, lr.range(0, 4));
        } else {
            b.push(b',');
        }
        b.push(b',');
        push_u64(b, u64::from(r.req_bytes));
        b.push(b',');
        push_u64(b, u64::from(r.resp_bytes));
        b.push(b',');
        if proxied {
            push_u64(b, lr.range(0, 2));
        }
        b.extend_from_slice(b",,"); // AuthModulePerfContext
        let small = |lr: &mut Rng| lr.range(0, 2);
        push_u64(b, small(&mut lr)); // HttpPipelineLatency
        b.push(b',');
        if proxied {
            push_u64(b, lr.range(0, 9)); // CalculateTargetBackEndLatency
        }
        // Gls, AccountForest, ResourceForest breakups are empty, totals 0.
        b.extend_from_slice(b",,0,,0,,0,");
        push_u64(b, lr.range(0, 3)); // ADLatency
        b.extend_from_slice(b",,0,"); // SharedCache
        push_u64(b, u64::from(total)); // ActivityContextLifeTime
        b.extend_from_slice(b",0,"); // ModuleToHandlerSwitchingLatency
        if proxied {
            push_u64(b, small(&mut lr));
            b.push(b',');
            push_u64(b, small(&mut lr));
            b.push(b',');
            push_u64(b, small(&mut lr));
            b.push(b',');
            push_u64(b, u64::from(r.be_ms));
            b.push(b',');
            push_u64(b, small(&mut lr));
            b.push(b',');
            push_u64(b, lr.range(0, 4));
            b.push(b',');
        } else {
            b.extend_from_slice(b",,,,,,");
        }
        push_u64(b, small(&mut lr)); // ClientRespStreamLatency
        b.extend_from_slice(b",,0,"); // KerberosAuthHeaderLatency, HandlerCompletionLatency
        push_u64(b, u64::from(total)); // RequestHandlerLatency
        b.extend_from_slice(b",0,"); // HandlerToModuleSwitchingLatency
        let overhead = (lr.range(1, 12) as u32).min(total);
        if proxied {
            push_u64(b, u64::from(total - overhead)); // ProxyTime
        }
        b.push(b',');
        push_u64(b, u64::from(overhead)); // CoreLatency
        b.push(b',');
        push_u64(b, lr.range(0, u64::from(overhead))); // RoutingLatency
        b.push(b',');
        push_u64(b, u64::from(overhead)); // HttpProxyOverhead
        b.push(b',');
        push_u64(b, u64::from(total)); // TotalRequestTime
        b.extend_from_slice(b",,"); // RouteRefresherLatency
        if r.query.iter().any(|q| !q.is_empty()) {
            let mut q = String::with_capacity(128);
            q.push('?');
            for part in &r.query {
                q.push_str(part);
            }
            push_csv(b, &q);
        }
        b.extend_from_slice(b",,"); // BackEndGenericInfo
        // GenericInfo: the proxy's state machine with timestamps.
        b.extend_from_slice(b"BeginRequest=");
        push_iso_ms(b, r.t);
        b.extend_from_slice(b";CorrelationID=<empty>;");
        if proxied {
            b.extend_from_slice(b"ProxyState-Run=None;FEAuth=BEVersion-");
            push_u64(b, u64::from(self.be_version));
            b.extend_from_slice(b";BeginGetResponse=");
            let begin = r.t + i64::from(overhead);
            push_iso_ms(b, begin);
            b.extend_from_slice(b";OnResponseReady=");
            push_iso_ms(b, begin + i64::from(r.be_ms));
            b.extend_from_slice(b";EndGetResponse=");
            push_iso_ms(b, begin + i64::from(r.be_ms));
            b.extend_from_slice(b";ProxyState-Complete=ProxyResponseData;");
        }
        b.extend_from_slice(b"EndRequest=");
        push_iso_ms(b, r.t + i64::from(total));
        b.extend_from_slice(b";I32:ADS.C[DC01]=1;F:ADS.AL[DC01]=");
        push_u64(b, lr.range(0, 2));
        b.push(b'.');
        push_u64(b, lr.range(1000, 9999));
        b.extend_from_slice(b";,");
        push_csv(b, &r.generic_errors);
        b.extend_from_slice(b",,"); // EdgeTraceId
        if let Some(db) = r.db.filter(|_| proxied) {
            b.extend_from_slice(self.dbs[db].guid.as_bytes());
        }
        b.push(b',');
        if proxied {
            push_csv(b, &r.user_guid);
        }
        b.extend_from_slice(b",,CafeV1");
    }

    /// `Database~<guid>~~<expiry>`: the cookie the front end sets to pin a client to a database.
    fn push_db_cookie(&self, b: &mut Vec<u8>, db: usize, t: i64) {
        b.extend_from_slice(b"Database~");
        b.extend_from_slice(self.dbs[db].guid.as_bytes());
        b.extend_from_slice(b"~~");
        push_iso_ms(b, t + 30 * 60_000);
        b.truncate(b.len() - 5); // 2021-03-03T07:19:42 (seconds precision)
    }
}

/// The BackEndCookie value of a request as it appears in the row (for the oracle).
fn cookie_text(server: &Server, r: &Request) -> String {
    match &r.cookie {
        Cookie::None => String::new(),
        Cookie::Raw(c) => c.to_string(),
        Cookie::Database(db) => {
            let mut b = Vec::new();
            server.push_db_cookie(&mut b, *db, r.t);
            String::from_utf8_lossy(&b).into_owned()
        }
    }
}
