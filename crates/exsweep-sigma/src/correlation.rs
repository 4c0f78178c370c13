//! Sigma v2 correlation rules: `event_count`, `value_count`, `temporal` and `temporal_ordered`,
//! with `group-by`, field `aliases`, sliding time windows, and chains (a correlation may use the
//! hits of another).
//!
//! A scan evaluates records in parallel, so correlations run afterwards: each hit of a rule a
//! correlation uses leaves a small [`CorrelationInput`] (time, group values, where it was), and
//! [`run`] sorts them by time and walks each group once. Windows slide: at each event, the window
//! is the span that ends there. When the condition holds the correlation fires, and the window
//! starts afresh, so one burst gives one hit. A condition with an upper bound (`lt`, `lte`,
//! `eq`, or a range) is judged on whole windows instead: a window opens at an event and is
//! judged when it closes. Events missing a group-by field belong to no group.

use crate::event::FlatEvent;
use crate::rule::{CorrelationDoc, CorrelationKind, CountCondition, RuleInfo};
use crate::rules::{CompiledRule, RuleProblem, names_rule};
use exsweep_core::model::ArtifactKind;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Where an event is, for findings.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub source: usize,
    pub path: String,
    pub line: Option<u64>,
    pub record: Option<u64>,
    pub kind: ArtifactKind,
}

impl Default for Location {
    fn default() -> Self {
        Location { source: 0, path: String::new(), line: None, record: None, kind: ArtifactKind::File }
    }
}

/// What a correlation uses: a detection rule or another correlation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref {
    Rule(usize),
    Correlation(usize),
}

/// A linked correlation rule.
#[derive(Debug)]
pub struct Correlation {
    pub info: RuleInfo,
    pub kind: CorrelationKind,
    pub refs: Vec<Ref>,
    /// The names each reference answers to (for aliases), per reference.
    ref_names: Vec<Vec<String>>,
    pub group_by: Vec<String>,
    pub timespan_ms: i64,
    pub condition: Option<CountCondition>,
    pub field: Option<String>,
    aliases: BTreeMap<String, BTreeMap<String, String>>,
    pub generate: bool,
    /// False for a correlation another one uses without `generate: true`: its hits feed that one only.
    pub generates: bool,
}

/// One hit of a referenced rule or correlation, reduced to what a correlation needs.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationInput {
    pub correlation: usize,
    /// Which of the correlation's references fired.
    pub slot: usize,
    pub time_ms: i64,
    pub group: Vec<String>,
    pub value: Option<String>,
    pub location: Location,
}

/// A correlation that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct CorrelationHit {
    pub correlation: usize,
    pub group: Vec<(String, String)>,
    pub first_ms: i64,
    pub last_ms: i64,
    /// Events (or distinct values, for `value_count`) counted.
    pub count: usize,
    /// The events that made it fire, in time order.
    pub events: Vec<Location>,
}

impl Correlation {
    /// Indices of the detection rules this correlation uses directly.
    pub fn base_rules(&self) -> impl Iterator<Item = usize> + '_ {
        self.refs.iter().filter_map(|r| match r {
            Ref::Rule(i) => Some(*i),
            Ref::Correlation(_) => None,
        })
    }

    /// The field of `column` (a group-by name or the value field) for reference `slot`.
    pub(crate) fn field_for(&self, column: &str, slot: usize) -> String {
        if let Some(per) = self.aliases.get(column) {
            for n in &self.ref_names[slot] {
                if let Some(f) = per.get(n) {
                    return f.clone();
                }
            }
        }
        column.to_string()
    }

    /// Inputs for a hit of detection rule `rule` on `ev` (one per slot the rule fills).
    #[allow(clippy::too_many_arguments)]
    pub fn inputs_for_rule(
        &self,
        index: usize,
        rule: usize,
        ev: &FlatEvent<'_>,
        time_ms: i64,
        loc: &Location,
        out: &mut Vec<CorrelationInput>,
    ) {
        for (slot, r) in self.refs.iter().enumerate() {
            if *r != Ref::Rule(rule) {
                continue;
            }
            let first = |name: &str| ev.find(name).iter().find_map(|i| ev.value(i).map(str::to_string));
            // An event without a group-by field belongs to no group (as in SIEM group-bys).
            let Some(group) = self.group_by.iter().map(|g| first(&self.field_for(g, slot))).collect() else {
                continue;
            };
            let value = self.field.as_ref().and_then(|f| first(&self.field_for(f, slot)));
            out.push(CorrelationInput { correlation: index, slot, time_ms, group, value, location: loc.clone() });
        }
    }
}

/// Ties correlation documents to the loaded rules (and to each other, in an order where each
/// comes after those it uses). Documents that cannot be tied are problems.
pub fn link(
    docs: Vec<CorrelationDoc>,
    rules: &[CompiledRule],
    existing: &[Correlation],
) -> (Vec<Correlation>, Vec<RuleProblem>) {
    let mut problems = Vec::new();
    let mut linked: Vec<Correlation> = Vec::new();
    let mut waiting: Vec<CorrelationDoc> = docs;
    loop {
        let before = waiting.len();
        let mut still = Vec::new();
        for d in waiting {
            let known = |n: &str| -> Option<Ref> {
                if let Some(i) = rules.iter().position(|r| names_rule(&r.info, n)) {
                    return Some(Ref::Rule(i));
                }
                existing.iter().chain(&linked).position(|c| names_rule(&c.info, n)).map(Ref::Correlation)
            };
            let refs: Option<Vec<Ref>> = d.rules.iter().map(|n| known(n)).collect();
            match refs {
                Some(refs) => {
                    let ref_names = refs
                        .iter()
                        .zip(&d.rules)
                        .map(|(r, written)| {
                            let info = match r {
                                Ref::Rule(i) => &rules[*i].info,
                                Ref::Correlation(i) => {
                                    &existing.iter().chain(&linked).nth(*i).expect("linked above").info
                                }
                            };
                            let mut n = vec![written.clone()];
                            n.extend(info.name.clone());
                            n.extend(info.id.clone());
                            n
                        })
                        .collect();
                    linked.push(Correlation {
                        info: d.info,
                        kind: d.kind,
                        refs,
                        ref_names,
                        group_by: d.group_by,
                        timespan_ms: d.timespan_ms,
                        condition: d.condition,
                        field: d.field,
                        aliases: d.aliases,
                        generate: d.generate,
                        generates: true,
                    });
                }
                None => still.push(d),
            }
        }
        waiting = still;
        if waiting.is_empty() || waiting.len() == before {
            break;
        }
    }
    let unresolved: Vec<RuleInfo> = waiting.iter().map(|d| d.info.clone()).collect();
    for d in waiting {
        let missing: Vec<&String> = d
            .rules
            .iter()
            .filter(|n| {
                !rules.iter().any(|r| names_rule(&r.info, n))
                    && !existing.iter().chain(&linked).any(|c| names_rule(&c.info, n))
                    && !unresolved.iter().any(|i| names_rule(i, n))
            })
            .collect();
        let reason = if missing.is_empty() {
            "correlation rules refer to each other in a cycle".to_string()
        } else {
            let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            format!("correlation names rules that are not loaded: {}", names.join(", "))
        };
        problems.push(RuleProblem { path: d.info.origin.clone(), rule: Some(d.info.title.clone()), reason });
    }
    (linked, problems)
}

/// Runs every correlation over the inputs; correlations that use others see their hits.
pub fn run(corrs: &[Correlation], mut inputs: Vec<CorrelationInput>) -> Vec<CorrelationHit> {
    let mut hits = Vec::new();
    // Linking put each correlation after those it uses.
    for (ci, c) in corrs.iter().enumerate() {
        let mut mine: Vec<CorrelationInput> = Vec::new();
        inputs.retain(|i| {
            if i.correlation == ci {
                mine.push(i.clone());
                false
            } else {
                true
            }
        });
        for h in hits.iter().filter(|h: &&CorrelationHit| c.refs.contains(&Ref::Correlation(h.correlation))) {
            for (slot, r) in c.refs.iter().enumerate() {
                if *r != Ref::Correlation(h.correlation) {
                    continue;
                }
                let lookup = |col: &str| {
                    let f = c.field_for(col, slot);
                    h.group.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone())
                };
                let Some(group) = c.group_by.iter().map(|g| lookup(g)).collect() else { continue };
                mine.push(CorrelationInput {
                    correlation: ci,
                    slot,
                    time_ms: h.last_ms,
                    group,
                    value: c.field.as_deref().and_then(lookup),
                    location: h.events.last().cloned().unwrap_or_default(),
                });
            }
        }
        mine.sort_by(|a, b| (a.time_ms, &a.location, a.slot).cmp(&(b.time_ms, &b.location, b.slot)));
        let mut groups: BTreeMap<Vec<String>, Vec<CorrelationInput>> = BTreeMap::new();
        for i in mine {
            groups.entry(i.group.clone()).or_default().push(i);
        }
        for (key, events) in groups {
            let group: Vec<(String, String)> = c.group_by.iter().cloned().zip(key).collect();
            hits.extend(window(ci, c, &group, &events));
        }
    }
    hits
}

fn hit(ci: usize, group: &[(String, String)], win: &[&CorrelationInput], count: usize) -> CorrelationHit {
    CorrelationHit {
        correlation: ci,
        group: group.to_vec(),
        first_ms: win.first().map_or(0, |e| e.time_ms),
        last_ms: win.last().map_or(0, |e| e.time_ms),
        count,
        events: win.iter().map(|e| e.location.clone()).collect(),
    }
}

/// What a window holds, kept up to date as events enter and leave it (no pass over the window
/// per event).
struct Tally {
    events: usize,
    values: HashMap<String, usize>,
    slots: Vec<usize>,
}

impl Tally {
    fn new(slots: usize) -> Tally {
        Tally { events: 0, values: HashMap::new(), slots: vec![0; slots] }
    }

    fn add(&mut self, e: &CorrelationInput) {
        self.events += 1;
        if let Some(v) = &e.value {
            *self.values.entry(v.clone()).or_insert(0) += 1;
        }
        if let Some(n) = self.slots.get_mut(e.slot) {
            *n += 1;
        }
    }

    fn remove(&mut self, e: &CorrelationInput) {
        self.events -= 1;
        if let Some(v) = &e.value
            && let Some(n) = self.values.get_mut(v)
        {
            *n -= 1;
            if *n == 0 {
                self.values.remove(v);
            }
        }
        if let Some(n) = self.slots.get_mut(e.slot) {
            *n -= 1;
        }
    }

    /// Events, distinct values, or distinct rules (in order, for temporal_ordered).
    fn measure(&self, c: &Correlation, win: &VecDeque<&CorrelationInput>) -> usize {
        match c.kind {
            CorrelationKind::EventCount => self.events,
            CorrelationKind::ValueCount => self.values.len(),
            CorrelationKind::Temporal => self.slots.iter().filter(|&&n| n > 0).count(),
            CorrelationKind::TemporalOrdered => ordered_prefix(c.refs.len(), win),
        }
    }
}

/// How many of the slots, in order, appear one after another in the window (greedy, earliest
/// first: if an ordered sequence exists, this finds it).
fn ordered_prefix(slots: usize, win: &VecDeque<&CorrelationInput>) -> usize {
    let mut next = 0;
    for e in win {
        if next < slots && e.slot == next {
            next += 1;
        }
    }
    next
}

fn satisfied(c: &Correlation, n: usize) -> bool {
    match (&c.condition, c.kind) {
        (Some(cond), _) => cond.holds(n as f64),
        (None, CorrelationKind::Temporal | CorrelationKind::TemporalOrdered) => n >= c.refs.len(),
        (None, _) => false,
    }
}

/// A condition with an upper bound (`lt`, `lte`, `eq`, or a range) is judged on whole windows:
/// fired at the first event over its lower bound, a range would never see the count it bounds.
fn whole_windows(c: &Correlation) -> bool {
    use crate::value::CmpOp;
    c.condition
        .as_ref()
        .is_some_and(|cond| cond.bounds.iter().any(|(op, _)| !matches!(op, Some(CmpOp::Gt | CmpOp::Gte))))
}

fn window(ci: usize, c: &Correlation, group: &[(String, String)], events: &[CorrelationInput]) -> Vec<CorrelationHit> {
    let mut out = Vec::new();
    let slots = c.refs.len();
    if whole_windows(c) {
        // Whole windows: open at an event, close one span later, judge, go on after it.
        let mut start = 0;
        while start < events.len() {
            let end_time = events[start].time_ms.saturating_add(c.timespan_ms);
            let end = events[start..].iter().position(|e| e.time_ms > end_time).map_or(events.len(), |p| start + p);
            let win: VecDeque<&CorrelationInput> = events[start..end].iter().collect();
            let mut tally = Tally::new(slots);
            win.iter().for_each(|e| tally.add(e));
            let n = tally.measure(c, &win);
            if satisfied(c, n) {
                out.push(hit(ci, group, &win.iter().copied().collect::<Vec<_>>(), n));
            }
            start = end;
        }
        return out;
    }
    let mut win: VecDeque<&CorrelationInput> = VecDeque::new();
    let mut tally = Tally::new(slots);
    let ordered_default = c.kind == CorrelationKind::TemporalOrdered && c.condition.is_none();
    for e in events {
        win.push_back(e);
        tally.add(e);
        while let Some(f) = win.front().copied().filter(|f| f.time_ms < e.time_ms.saturating_sub(c.timespan_ms)) {
            tally.remove(f);
            win.pop_front();
        }
        // An ordered sequence of every rule can only be completed by an event of the last one.
        if ordered_default && e.slot + 1 != slots {
            continue;
        }
        let n = tally.measure(c, &win);
        if satisfied(c, n) {
            out.push(hit(ci, group, &win.iter().copied().collect::<Vec<_>>(), n));
            win.clear();
            tally = Tally::new(slots);
        }
    }
    out
}
