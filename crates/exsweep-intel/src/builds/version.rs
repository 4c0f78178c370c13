//! Exchange build numbers: parsing every spelling in use (`15.2.792.10`, `15.02.0792.010`,
//! `Version 15.2 (Build 792.10)`, a CU or SU name) and telling the product from the number.

use std::fmt;

/// An Exchange build, `major.minor.build.revision`. `revision` is `None` when only three fields
/// are known (the OWA path `/owa/auth/15.1.2176/` gives the CU, not the SU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Build {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub revision: Option<u32>,
}

/// Exchange products, as the rules tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Product {
    /// Exchange 2010 before SP3 (14.0–14.2): no security fix is published for it any more.
    Exchange2010Old,
    Exchange2010Sp3,
    Exchange2013,
    Exchange2016,
    Exchange2019,
    /// Exchange Server Subscription Edition: 15.2 from build 2562.
    ExchangeSe,
}

impl Product {
    /// The name the build table uses.
    pub fn name(self) -> &'static str {
        match self {
            Product::Exchange2010Old => "Exchange 2010",
            Product::Exchange2010Sp3 => "Exchange 2010 SP3",
            Product::Exchange2013 => "Exchange 2013",
            Product::Exchange2016 => "Exchange 2016",
            Product::Exchange2019 => "Exchange 2019",
            Product::ExchangeSe => "Exchange SE",
        }
    }

    /// The product column of the CVE rules (SE shares 2019's numbering and rules).
    pub fn rule_key(self) -> &'static str {
        match self {
            Product::Exchange2010Old | Product::Exchange2010Sp3 => "2010",
            Product::Exchange2013 => "2013",
            Product::Exchange2016 => "2016",
            Product::Exchange2019 | Product::ExchangeSe => "2019",
        }
    }
}

impl Build {
    pub fn new(major: u32, minor: u32, build: u32, revision: Option<u32>) -> Build {
        Build { major, minor, build, revision }
    }

    /// The product the number belongs to, or `None` for a number that is not an Exchange
    /// 2010–SE build (2007 is 8.x, 2003 is 6.5).
    pub fn product(&self) -> Option<Product> {
        match (self.major, self.minor) {
            (14, 3) => Some(Product::Exchange2010Sp3),
            (14, 0..=2) => Some(Product::Exchange2010Old),
            (15, 0) => Some(Product::Exchange2013),
            (15, 1) => Some(Product::Exchange2016),
            (15, 2) if self.build >= 2562 => Some(Product::ExchangeSe),
            (15, 2) => Some(Product::Exchange2019),
            _ => None,
        }
    }

    /// Zero-padded form, as Microsoft's CVE records write it: `15.02.0792.010`.
    pub fn padded(&self) -> String {
        match self.revision {
            Some(r) => format!("{}.{:02}.{:04}.{:03}", self.major, self.minor, self.build, r),
            None => format!("{}.{:02}.{:04}", self.major, self.minor, self.build),
        }
    }

    /// Parses a dotted number: three or four fields, zero-padded or not
    /// (`15.2.792.10`, `15.02.0792.010`, `15.1.2176`).
    pub fn parse_dotted(s: &str) -> Option<Build> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        if !(3..=4).contains(&parts.len()) {
            return None;
        }
        let num = |p: &str| -> Option<u32> {
            if p.is_empty() || p.len() > 6 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let b = Build::new(
            num(parts[0])?,
            num(parts[1])?,
            num(parts[2])?,
            match parts.get(3) {
                Some(r) => Some(num(r)?),
                None => None,
            },
        );
        b.product().map(|_| b)
    }

    /// Parses `Version 15.2 (Build 792.10)` (Get-ExchangeServer's AdminDisplayVersion) and the
    /// dotted forms.
    pub fn parse(s: &str) -> Option<Build> {
        let t = s.trim();
        if let Some(b) = Build::parse_dotted(t) {
            return Some(b);
        }
        let lower = t.to_ascii_lowercase();
        let rest = lower.strip_prefix("version")?.trim_start();
        let (mm, tail) = rest.split_once('(')?;
        let (major, minor) = mm.trim().split_once('.')?;
        let inner = tail.trim().strip_prefix("build")?.trim_start();
        let inner = inner.split_once(')')?.0.trim();
        let (build, rev) = inner.split_once('.').map_or((inner, None), |(b, r)| (b, Some(r)));
        let dotted = match rev {
            Some(r) => format!("{}.{}.{}.{}", major.trim(), minor.trim(), build.trim(), r.trim()),
            None => format!("{}.{}.{}", major.trim(), minor.trim(), build.trim()),
        };
        Build::parse_dotted(&dotted)
    }
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)?;
        if let Some(r) = self.revision {
            write!(f, ".{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_to_the_same_build() {
        let want = Build::new(15, 2, 792, Some(10));
        for s in [
            "15.2.792.10",
            "15.02.0792.010",
            " 15.2.792.10 ",
            "Version 15.2 (Build 792.10)",
            "version 15.02 (build 0792.010)",
        ] {
            assert_eq!(Build::parse(s), Some(want), "{s}");
        }
        assert_eq!(Build::parse("15.1.2176"), Some(Build::new(15, 1, 2176, None)));
        assert_eq!(Build::parse("Version 15.1 (Build 2176)"), Some(Build::new(15, 1, 2176, None)));
        assert_eq!(want.padded(), "15.02.0792.010");
        assert_eq!(want.to_string(), "15.2.792.10");
    }

    #[test]
    fn products_and_bad_input() {
        assert_eq!(Build::parse("15.2.2562.17").unwrap().product(), Some(Product::ExchangeSe));
        assert_eq!(Build::parse("15.2.1544.4").unwrap().product(), Some(Product::Exchange2019));
        assert_eq!(Build::parse("14.3.513.0").unwrap().product(), Some(Product::Exchange2010Sp3));
        assert_eq!(Build::parse("14.2.247.5").unwrap().product(), Some(Product::Exchange2010Old));
        for bad in [
            "",
            "15",
            "15.2",
            "8.3.83.6",
            "15.9.1.1",
            "15.2.x.10",
            "15.2.792.10.1",
            "15..792.10",
            "-15.2.792.10",
            "Version 15.2",
            "15.2.99999999.1",
        ] {
            assert_eq!(Build::parse(bad), None, "{bad}");
        }
    }
}
