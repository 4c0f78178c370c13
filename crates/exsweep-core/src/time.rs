//! Timestamps: Unix milliseconds (UTC), parsed from the fixed formats of the logs exsweep reads and
//! printed as RFC 3339.

use std::fmt;

/// A point in time, milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// From calendar fields (UTC); `None` when they do not form a valid date and time.
    pub fn from_parts(y: i16, mo: i8, d: i8, h: i8, mi: i8, s: i8, ms: i32) -> Option<Timestamp> {
        let date = jiff::civil::Date::new(y, mo, d).ok()?;
        let time = jiff::civil::Time::new(h, mi, s, ms.checked_mul(1_000_000)?).ok()?;
        let ts = date.to_datetime(time).to_zoned(jiff::tz::TimeZone::UTC).ok()?;
        Some(Timestamp(ts.timestamp().as_millisecond()))
    }

    /// Parses the timestamps found in Exchange and IIS logs and in event exports:
    /// `2021-03-03T06:49:42.162Z`, `2021-03-03T06:49:42Z`, `2021-03-05 03:06:27`,
    /// `2021-03-03T06:49:42.1623456Z` (7-digit fractions), `2021-03-03` (midnight).
    /// A missing zone means UTC (IIS W3C logs are always UTC). An explicit offset is honoured.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let t = text.trim().as_bytes();
        if t.len() < 10 {
            return None;
        }
        let y = digits(t, 0, 4)?;
        if t[4] != b'-' || t[7] != b'-' {
            return None;
        }
        let mo = digits(t, 5, 2)?;
        let d = digits(t, 8, 2)?;
        if t.len() == 10 {
            return Timestamp::from_parts(y as i16, mo as i8, d as i8, 0, 0, 0, 0);
        }
        if t.len() < 19 || !(t[10] == b'T' || t[10] == b' ' || t[10] == b't') {
            return None;
        }
        if t[13] != b':' || t[16] != b':' {
            return None;
        }
        let h = digits(t, 11, 2)?;
        let mi = digits(t, 14, 2)?;
        let s = digits(t, 17, 2)?;
        let mut i = 19;
        let mut ms = 0u32;
        if i < t.len() && (t[i] == b'.' || t[i] == b',') {
            i += 1;
            let start = i;
            while i < t.len() && t[i].is_ascii_digit() {
                if i - start < 3 {
                    ms = ms * 10 + u32::from(t[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return None;
            }
            for _ in n..3 {
                ms *= 10;
            }
        }
        let base = Timestamp::from_parts(y as i16, mo as i8, d as i8, h as i8, mi as i8, s as i8, ms as i32)?;
        let rest = &t[i..];
        match rest {
            [] | [b'Z'] | [b'z'] => Some(base),
            [sign @ (b'+' | b'-'), ..] if rest.len() == 6 && rest[3] == b':' => {
                let oh = digits(rest, 1, 2)? as i64;
                let om = digits(rest, 4, 2)? as i64;
                let off = (oh * 60 + om) * 60_000;
                Some(Timestamp(if *sign == b'+' { base.0 - off } else { base.0 + off }))
            }
            _ => None,
        }
    }

    /// From a Windows FILETIME (100 ns ticks since 1601-01-01).
    pub fn from_filetime(ft: u64) -> Timestamp {
        Timestamp((ft / 10_000) as i64 - 11_644_473_600_000)
    }

    /// The calendar day (UTC) as `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let s = self.to_string();
        s[..10].to_string()
    }
}

fn digits(t: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &b in t.get(at..at + n)? {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(ts) => {
                let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
                write!(
                    f,
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                    dt.year(),
                    dt.month(),
                    dt.day(),
                    dt.hour(),
                    dt.minute(),
                    dt.second()
                )?;
                let ms = dt.subsec_nanosecond() / 1_000_000;
                if ms != 0 {
                    write!(f, ".{ms:03}")?;
                }
                f.write_str("Z")
            }
            Err(_) => write!(f, "@{}ms", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_formats() {
        let a = Timestamp::parse("2021-03-03T06:49:42.162Z").unwrap();
        assert_eq!(a.to_string(), "2021-03-03T06:49:42.162Z");
        assert_eq!(a.0, 1_614_754_182_162);
        let b = Timestamp::parse("2021-03-05 03:06:27").unwrap();
        assert_eq!(b.to_string(), "2021-03-05T03:06:27Z");
        let c = Timestamp::parse("2021-03-03T06:49:42.1623456Z").unwrap();
        assert_eq!(c, a);
        assert_eq!(Timestamp::parse("2021-03-03").unwrap().to_string(), "2021-03-03T00:00:00Z");
        let d = Timestamp::parse("2021-03-03T08:49:42.162+02:00").unwrap();
        assert_eq!(d, a);
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "2021-13-01", "2021-02-30 00:00:00", "abcd-ef-gh", "2021-03-03T25:00:00Z", "2021-03-03X"] {
            assert_eq!(Timestamp::parse(s), None, "{s}");
        }
    }

    #[test]
    fn filetime() {
        // 2021-03-03T06:49:42.162Z
        let ft = (1_614_754_182_162u64 + 11_644_473_600_000) * 10_000;
        assert_eq!(Timestamp::from_filetime(ft).to_string(), "2021-03-03T06:49:42.162Z");
    }
}
