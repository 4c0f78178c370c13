//! A rule's detection, compiled: search identifiers become [`Selection`]s of detection items,
//! the condition a tree of [`Node`]s over them. Evaluation against a [`FlatEvent`] and the rule's
//! needles (see [`crate::needles`]) live here too.

use crate::condition::{Cond, pattern_matches};
use crate::event::FlatEvent;
use crate::needles::{self, NeedleTable, Seen};
use crate::value::{Item, ItemTest, Placeholders, RefMode, ValueMatcher, ValueTest, compile_item};
use yaml_rust2::Yaml;

/// A search identifier: a map of items (all must match), or a list of those or of keywords
/// (any must match).
#[derive(Clone, Debug)]
pub enum Selection {
    All(Vec<Item>),
    Any(Vec<Selection>),
}

/// A condition over selections.
#[derive(Debug, Clone)]
pub enum Node {
    Sel(usize),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    AtLeast(usize, Vec<Node>),
}

/// Compiled search identifiers and condition.
#[derive(Clone, Debug)]
pub struct Detection {
    pub names: Vec<String>,
    pub sels: Vec<Selection>,
    pub root: Node,
}

fn keyword_item(v: &Yaml, placeholders: &Placeholders) -> Result<Item, String> {
    // A keyword is searched in every value of the event, as a substring.
    compile_item("|contains", v, placeholders)
}

fn compile_selection(name: &str, y: &Yaml, placeholders: &Placeholders) -> Result<Selection, String> {
    match y {
        Yaml::Hash(h) => {
            let mut items = Vec::new();
            for (k, v) in h {
                let k = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    _ => return Err(format!("'{name}': a field name is not a string")),
                };
                let item = compile_item(&k, v, placeholders).map_err(|e| format!("'{name}': {e}"))?;
                items.push(item);
            }
            if items.is_empty() {
                return Err(format!("'{name}' is an empty map"));
            }
            Ok(Selection::All(items))
        }
        Yaml::Array(a) if a.is_empty() => Err(format!("'{name}' is an empty list")),
        Yaml::Array(a) => {
            let scalars: Vec<&Yaml> = a.iter().filter(|v| !matches!(v, Yaml::Hash(_) | Yaml::Array(_))).collect();
            let mut alts = Vec::new();
            if !scalars.is_empty() {
                let list = Yaml::Array(scalars.into_iter().cloned().collect());
                alts.push(Selection::All(vec![
                    keyword_item(&list, placeholders).map_err(|e| format!("'{name}': {e}"))?,
                ]));
            }
            for v in a {
                match v {
                    Yaml::Hash(_) => alts.push(compile_selection(name, v, placeholders)?),
                    Yaml::Array(_) => return Err(format!("'{name}' holds a nested list")),
                    _ => {}
                }
            }
            Ok(if alts.len() == 1 { alts.remove(0) } else { Selection::Any(alts) })
        }
        Yaml::String(_) | Yaml::Integer(_) | Yaml::Real(_) => {
            Ok(Selection::All(vec![keyword_item(y, placeholders).map_err(|e| format!("'{name}': {e}"))?]))
        }
        other => Err(format!("'{name}' has an unsupported value {other:?}")),
    }
}

fn compile_cond(c: &Cond, names: &[String]) -> Result<Node, String> {
    Ok(match c {
        Cond::Ident(i) => {
            let pos = names
                .iter()
                .position(|n| n == i)
                .ok_or_else(|| format!("the condition names '{i}', which the detection does not define"))?;
            Node::Sel(pos)
        }
        Cond::Not(inner) => Node::Not(Box::new(compile_cond(inner, names)?)),
        Cond::And(v) => Node::And(v.iter().map(|c| compile_cond(c, names)).collect::<Result<_, _>>()?),
        Cond::Or(v) => Node::Or(v.iter().map(|c| compile_cond(c, names)).collect::<Result<_, _>>()?),
        Cond::Of(count, pattern) => {
            let hits: Vec<Node> = names
                .iter()
                .enumerate()
                .filter(|(_, n)| pattern_matches(pattern, n))
                .map(|(i, _)| Node::Sel(i))
                .collect();
            if hits.is_empty() {
                return Err(format!("'{pattern}' matches no search identifier"));
            }
            match count {
                None => Node::And(hits),
                Some(1) => Node::Or(hits),
                Some(n) => Node::AtLeast(*n, hits),
            }
        }
    })
}

impl Detection {
    /// Compiles search identifiers and conditions (several conditions: any may hold).
    pub fn compile(
        idents: &[(String, Yaml)],
        conditions: &[String],
        placeholders: &Placeholders,
    ) -> Result<Detection, String> {
        let names: Vec<String> = idents.iter().map(|(n, _)| n.clone()).collect();
        let sels = idents.iter().map(|(n, y)| compile_selection(n, y, placeholders)).collect::<Result<Vec<_>, _>>()?;
        let mut roots = Vec::new();
        for c in conditions {
            let parsed = crate::condition::parse(c).map_err(|e| format!("condition '{c}': {e}"))?;
            roots.push(compile_cond(&parsed, &names)?);
        }
        let root = if roots.len() == 1 { roots.remove(0) } else { Node::Or(roots) };
        Ok(Detection { names, sels, root })
    }

    /// `self and other`: the filter's selections appended, the conditions joined.
    pub fn and(&mut self, other: Detection) {
        let offset = self.sels.len();
        fn shift(n: &Node, by: usize) -> Node {
            match n {
                Node::Sel(i) => Node::Sel(i + by),
                Node::Not(x) => Node::Not(Box::new(shift(x, by))),
                Node::And(v) => Node::And(v.iter().map(|x| shift(x, by)).collect()),
                Node::Or(v) => Node::Or(v.iter().map(|x| shift(x, by)).collect()),
                Node::AtLeast(k, v) => Node::AtLeast(*k, v.iter().map(|x| shift(x, by)).collect()),
            }
        }
        let root = Node::And(vec![self.root.clone(), shift(&other.root, offset)]);
        self.names.extend(other.names);
        self.sels.extend(other.sels);
        self.root = root;
    }

    /// Evaluates the condition; `seen` tells which needles the prefilter found.
    pub fn is_match(&self, ev: &FlatEvent<'_>, seen: Seen<'_>) -> bool {
        self.node(&self.root, ev, seen)
    }

    fn node(&self, n: &Node, ev: &FlatEvent<'_>, seen: Seen<'_>) -> bool {
        match n {
            Node::Sel(i) => self.sels.get(*i).is_some_and(|s| selection(s, ev, seen)),
            Node::Not(x) => !self.node(x, ev, seen),
            Node::And(v) => v.iter().all(|x| self.node(x, ev, seen)),
            Node::Or(v) => v.iter().any(|x| self.node(x, ev, seen)),
            Node::AtLeast(k, v) => v.iter().filter(|x| self.node(x, ev, seen)).take(*k).count() >= *k,
        }
    }

    /// The field names the detection reads, in order, each once; and whether it searches
    /// keywords (every value).
    pub fn fields(&self) -> (Vec<String>, bool) {
        fn walk(s: &Selection, out: &mut Vec<String>, keywords: &mut bool) {
            match s {
                Selection::All(items) => {
                    for it in items {
                        match &it.field {
                            Some(f) if !out.contains(f) => out.push(f.clone()),
                            Some(_) => {}
                            None => *keywords = true,
                        }
                        if let ItemTest::FieldRef { others, .. } = &it.test {
                            for o in others {
                                if !out.contains(o) {
                                    out.push(o.clone());
                                }
                            }
                        }
                    }
                }
                Selection::Any(alts) => alts.iter().for_each(|a| walk(a, out, keywords)),
            }
        }
        let (mut out, mut keywords) = (Vec::new(), false);
        self.sels.iter().for_each(|s| walk(s, &mut out, &mut keywords));
        (out, keywords)
    }

    /// Gives every value test with a long enough needle its id in `table`.
    pub fn assign_needle_ids(&mut self, table: &mut NeedleTable) {
        fn walk(s: &mut Selection, table: &mut NeedleTable) {
            match s {
                Selection::All(items) => {
                    for it in items {
                        if let ItemTest::Values { tests, .. } = &mut it.test {
                            for t in tests {
                                if let Some([n]) = t.needles.as_deref()
                                    && n.len() >= needles::MIN_TEST_NEEDLE
                                {
                                    t.needle_id = Some(table.id(n));
                                }
                            }
                        }
                    }
                }
                Selection::Any(alts) => alts.iter_mut().for_each(|a| walk(a, table)),
            }
        }
        self.sels.iter_mut().for_each(|s| walk(s, table));
    }

    /// The needle ids of the value tests (see [`Detection::assign_needle_ids`]).
    pub fn test_needle_ids(&self, out: &mut Vec<u32>) {
        fn walk(s: &Selection, out: &mut Vec<u32>) {
            match s {
                Selection::All(items) => {
                    for it in items {
                        if let ItemTest::Values { tests, .. } = &it.test {
                            out.extend(tests.iter().filter_map(|t| t.needle_id));
                        }
                    }
                }
                Selection::Any(alts) => alts.iter().for_each(|a| walk(a, out)),
            }
        }
        self.sels.iter().for_each(|s| walk(s, out));
    }
}

/// Clauses kept per rule at most (the most selective).
pub const MAX_CLAUSES: usize = 8;

impl Detection {
    /// The needle clauses of the condition: a matching event hits at least one needle of every
    /// clause. Empty when nothing is known. At most [`MAX_CLAUSES`], the most selective first.
    pub fn clauses(&self) -> Vec<Vec<String>> {
        self.clauses_where(&|_| true)
    }

    /// [`Detection::clauses`] from the items `keep` accepts only.
    pub fn clauses_where(&self, keep: &dyn Fn(&Item) -> bool) -> Vec<Vec<String>> {
        let mut c = self.node_clauses(&self.root, keep);
        // A clause with a needle of one or two characters filters nothing and costs an automaton
        // match at nearly every byte: drop it (fewer clauses only let more records through).
        c.retain(|clause| clause.iter().all(|n| n.len() >= needles::MIN_TEST_NEEDLE || n.starts_with('\0')));
        c.sort_by(|a, b| needles::score(b).cmp(&needles::score(a)).then_with(|| a.cmp(b)));
        c.dedup();
        c.truncate(MAX_CLAUSES);
        c
    }

    fn node_clauses(&self, n: &Node, keep: &dyn Fn(&Item) -> bool) -> Vec<Vec<String>> {
        match n {
            Node::Sel(i) => self.sels.get(*i).map(|s| selection_clauses(s, keep)).unwrap_or_default(),
            Node::Not(_) => Vec::new(),
            Node::And(v) => v.iter().flat_map(|x| self.node_clauses(x, keep)).collect(),
            Node::Or(v) | Node::AtLeast(_, v) => one_of(v.iter().map(|x| self.node_clauses(x, keep))),
        }
    }
}

/// Alternatives as one clause: the union of each alternative's most selective clause.
fn one_of(alts: impl Iterator<Item = Vec<Vec<String>>>) -> Vec<Vec<String>> {
    needles::union(alts.map(|c| needles::best(c.into_iter().map(Some)))).into_iter().collect()
}

fn selection_clauses(s: &Selection, keep: &dyn Fn(&Item) -> bool) -> Vec<Vec<String>> {
    match s {
        Selection::All(items) => items.iter().filter(|i| keep(i)).flat_map(Item::clauses).collect(),
        Selection::Any(alts) => one_of(alts.iter().map(|a| selection_clauses(a, keep))),
    }
}

fn selection(s: &Selection, ev: &FlatEvent<'_>, seen: Seen<'_>) -> bool {
    match s {
        Selection::All(items) => items.iter().all(|i| item(i, ev, seen)),
        Selection::Any(alts) => alts.iter().any(|a| selection(a, ev, seen)),
    }
}

/// Whether `test` holds for one of the values at `idx` (or, for `null`, the field is absent or
/// empty).
fn value_holds(t: &ValueMatcher, ev: &FlatEvent<'_>, idx: &[usize], seen: Seen<'_>) -> bool {
    if t.needle_id.is_some_and(|id| !seen.hit(id)) {
        return false;
    }
    let test = &t.test;
    if matches!(test, ValueTest::Null) {
        return idx.is_empty() || idx.iter().any(|&i| ev.value(i).is_none_or(str::is_empty));
    }
    idx.iter().any(|&i| ev.value(i).is_some_and(|v| test.is_match(v, ev.lower(i))))
}

fn item(it: &Item, ev: &FlatEvent<'_>, seen: Seen<'_>) -> bool {
    let idx = match &it.field {
        Some(name) => ev.find(name),
        None => ev.keyword_indices(),
    };
    let idx = idx.as_slice();
    match &it.test {
        ItemTest::Exists(want) => idx.is_empty() != *want,
        ItemTest::Values { tests, all, neq } => {
            if *neq {
                return idx.iter().any(|&i| ev.value(i).is_some())
                    && !tests.iter().any(|t| value_holds(t, ev, idx, seen));
            }
            if *all {
                // Every value, each through any of its variants.
                let mut i = 0;
                while i < tests.len() {
                    let g = tests[i].group;
                    let end = tests[i..].iter().position(|t| t.group != g).map_or(tests.len(), |p| i + p);
                    if !tests[i..end].iter().any(|t| value_holds(t, ev, idx, seen)) {
                        return false;
                    }
                    i = end;
                }
                true
            } else {
                tests.iter().any(|t| value_holds(t, ev, idx, seen))
            }
        }
        ItemTest::FieldRef { others, mode, cased, all, neq } => {
            let text = |i: usize| if *cased { ev.value(i) } else { ev.value(i).map(|_| ev.lower(i)) };
            let holds = |other: &String| {
                let oidx = ev.find(other);
                idx.iter().filter_map(|&i| text(i)).any(|a| {
                    oidx.iter().filter_map(text).any(|b| match mode {
                        RefMode::Equal => a == b,
                        RefMode::Contains => a.contains(b),
                        RefMode::Prefix => a.starts_with(b),
                        RefMode::Suffix => a.ends_with(b),
                    })
                })
            };
            let r = if *all { others.iter().all(holds) } else { others.iter().any(holds) };
            if *neq { !idx.is_empty() && !r } else { r }
        }
    }
}
