//! Sigma conditions: `and`, `or`, `not`, parentheses, and the quantifiers `1 of`, `all of`,
//! `N of` over search-identifier patterns (`selection_*`) or `them`. Keywords are
//! case-insensitive; `and` binds tighter than `or`, `not` tighter than both. The legacy
//! aggregation pipe (`| count() > 5`) and `near` are refused with a reason (Sigma v2 expresses
//! them as correlation rules).

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    Ident(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `count of pattern`; `count` is `None` for `all`. The pattern is `them` or may hold `*`.
    Of(Option<usize>, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut Vec<Tok>| {
        if !w.is_empty() {
            out.push(Tok::Word(std::mem::take(w)));
        }
    };
    for c in s.chars() {
        match c {
            '(' => {
                flush(&mut word, &mut out);
                out.push(Tok::LParen);
            }
            ')' => {
                flush(&mut word, &mut out);
                out.push(Tok::RParen);
            }
            '|' => return Err("aggregation expressions ('| count() ...') are Sigma v1; use a correlation rule".into()),
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Nesting of parentheses and `not` so far.
    depth: usize,
}

/// Deeper conditions are refused (the parser and the evaluator recurse).
const MAX_DEPTH: usize = 100;

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.and()?];
        while is_kw(self.peek(), "or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::Or(parts) })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut parts = vec![self.not()?];
        while is_kw(self.peek(), "and") {
            self.pos += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Cond::And(parts) })
    }

    fn not(&mut self) -> Result<Cond, String> {
        if is_kw(self.peek(), "not") {
            self.pos += 1;
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the condition nests deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Cond, String> {
        match self.next() {
            Some(Tok::LParen) => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Tok::RParen) => Err("unexpected ')'".into()),
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if matches!(lower.as_str(), "and" | "or") {
                    return Err(format!("'{w}' without a left operand"));
                }
                if lower == "near" {
                    return Err("'near' is Sigma v1; use a temporal correlation rule".into());
                }
                if is_kw(self.peek(), "of") {
                    self.pos += 1;
                    let count = match lower.as_str() {
                        "all" => None,
                        "any" => Some(1),
                        n => match n.parse::<usize>() {
                            Ok(k) if k > 0 => Some(k),
                            _ => return Err(format!("'{w} of': the count must be 'all', 'any' or a number above 0")),
                        },
                    };
                    return match self.next() {
                        Some(Tok::Word(p)) if !matches!(p.to_ascii_lowercase().as_str(), "and" | "or" | "not") => {
                            Ok(Cond::Of(count, p))
                        }
                        _ => Err(format!("'{w} of' needs a pattern or 'them'")),
                    };
                }
                Ok(Cond::Ident(w))
            }
            None => Err("the condition ends early".into()),
        }
    }
}

/// Parses a condition string.
pub fn parse(s: &str) -> Result<Cond, String> {
    let toks = tokens(s)?;
    if toks.is_empty() {
        return Err("empty condition".into());
    }
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let c = p.or()?;
    match p.peek() {
        None => Ok(c),
        Some(t) => Err(format!("unexpected {t:?} at token {}", p.pos + 1)),
    }
}

/// Whether a search identifier matches a quantifier pattern (`*` wildcards; `them` takes every
/// identifier not starting with `_`, as pySigma does).
pub fn pattern_matches(pattern: &str, ident: &str) -> bool {
    if pattern.eq_ignore_ascii_case("them") {
        return !ident.starts_with('_');
    }
    let toks: Vec<crate::pattern::GlobTok> = pattern
        .bytes()
        .map(|b| if b == b'*' { crate::pattern::GlobTok::Star } else { crate::pattern::GlobTok::Byte(b) })
        .collect();
    crate::pattern::glob_bytes(&toks, ident.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Cond {
        Cond::Ident(s.into())
    }

    #[test]
    fn precedence_and_quantifiers() {
        assert_eq!(
            parse("a or b and not c").unwrap(),
            Cond::Or(vec![id("a"), Cond::And(vec![id("b"), Cond::Not(Box::new(id("c")))])])
        );
        assert_eq!(
            parse("(a or b) and 1 of sel_*").unwrap(),
            Cond::And(vec![Cond::Or(vec![id("a"), id("b")]), Cond::Of(Some(1), "sel_*".into())])
        );
        assert_eq!(parse("all of them").unwrap(), Cond::Of(None, "them".into()));
        assert_eq!(parse("2 of x*").unwrap(), Cond::Of(Some(2), "x*".into()));
        assert_eq!(parse("NOT a AND B").unwrap(), Cond::And(vec![Cond::Not(Box::new(id("a"))), id("B")]));
    }

    #[test]
    fn errors_are_explained() {
        assert!(parse("a and").is_err());
        assert!(parse("(a or b").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("sel | count() > 5").unwrap_err().contains("correlation"));
        assert!(parse("0 of x*").is_err());
        assert!(parse("").is_err());
        let deep = format!("{}a{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(parse(&deep).unwrap_err().contains("deeper"));
        assert!(parse(&"not ".repeat(100_000)).unwrap_err().contains("deeper"));
        assert!(parse(&format!("{}a{}", "(".repeat(50), ")".repeat(50))).is_ok());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("sel*", "selection"));
        assert!(pattern_matches("them", "x"));
        assert!(!pattern_matches("them", "_x"));
        assert!(!pattern_matches("filter_*", "selection"));
    }
}
