//! Checking traced values against a fixture's own account: fixtures print
//! one call record per call (`name|seq=N|expr=value|…`), scripts made by
//! [`call_record_script`] print the same records from the probe, and every
//! value is compared for the same call.

use std::path::Path;
use std::time::Duration;

use crate::{events_by_header, Fixture, Tracer};

/// One call as a fixture or a trace printed it: `name|seq=N|expr=value|…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The function.
    pub name: String,
    /// The call's sequence number (its `seq` parameter).
    pub seq: String,
    /// `expr=value` pairs after the sequence number, in order; fields
    /// without `=` are ignored.
    pub fields: Vec<(String, String)>,
}

impl CallRecord {
    /// Parses one line; `None` for lines of another shape.
    pub fn parse(line: &str) -> Option<CallRecord> {
        let mut parts = line.split('|');
        let name = parts.next()?.to_string();
        let seq = parts.next()?.strip_prefix("seq=")?.to_string();
        let fields = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Some(CallRecord { name, seq, fields })
    }
}

/// A script that prints, at every call of each function, the call record
/// of its `seq` parameter and the given expressions (labelled by their text).
pub fn call_record_script(calls: &[(&str, &[&str])]) -> String {
    calls
        .iter()
        .map(|(name, exprs)| {
            let mut format = format!("{name}|seq={{}}");
            let mut args = vec!["seq".to_string()];
            for e in exprs.iter() {
                format.push_str(&format!("|{e}={{}}"));
                args.push(e.to_string());
            }
            format!(
                "trace {name} {{ print \"{format}\", {}; }}\n",
                args.join(", ")
            )
        })
        .collect()
}

/// What comparing traced values with a fixture's own account found.
#[derive(Debug, Default)]
pub struct TruthReport {
    /// Values that matched the fixture.
    pub matched: usize,
    /// Values ghostscope printed as exactly `<optimized out>`.
    pub optimized_out: usize,
    /// Functions seen in the trace.
    pub functions: std::collections::BTreeSet<String>,
    /// Every disagreement, in words.
    pub mismatches: Vec<String>,
}

/// Compares every value of every call record ghostscope printed with the
/// record the fixture printed for the same call (same function and `seq`).
/// A value may be `<optimized out>`; anything else must be equal.
pub fn compare_with_truth(printed: &[String], truth: &str) -> TruthReport {
    let truth: std::collections::HashMap<(String, String), CallRecord> = truth
        .lines()
        .filter_map(CallRecord::parse)
        .map(|r| ((r.name.clone(), r.seq.clone()), r))
        .collect();
    let mut report = TruthReport::default();
    for line in printed {
        let Some(traced) = CallRecord::parse(line) else {
            continue;
        };
        report.functions.insert(traced.name.clone());
        let Some(real) = truth.get(&(traced.name.clone(), traced.seq.clone())) else {
            report.mismatches.push(format!(
                "{line}: the fixture printed no call of {} with seq={}",
                traced.name, traced.seq
            ));
            continue;
        };
        for (expr, value) in &traced.fields {
            let expected = real.fields.iter().find(|(k, _)| k == expr).map(|(_, v)| v);
            match expected {
                _ if value == "<optimized out>" => report.optimized_out += 1,
                Some(v) if v == value => report.matched += 1,
                Some(v) => report.mismatches.push(format!(
                    "{} seq={}: {expr} = {value}, but the program has {v}",
                    traced.name, traced.seq
                )),
                None => report.mismatches.push(format!(
                    "{} seq={}: the fixture does not print {expr}",
                    traced.name, traced.seq
                )),
            }
        }
    }
    report
}

/// What tracing a fixture's calls and checking them against its own
/// account found (see [`trace_calls_against_truth`]).
#[derive(Debug)]
pub struct TracedCalls {
    /// The comparison; it has no mismatches.
    pub report: TruthReport,
    /// ghostscope's events: header line and payload lines.
    pub events: Vec<(String, Vec<String>)>,
    /// Every payload line, in order.
    pub printed: Vec<String>,
}

/// Starts `exe` with its stdout kept, traces `calls` (one call record per
/// hit, see [`call_record_script`]) until each function was seen `rounds`
/// times (at most 20 s), and compares every value ghostscope printed with
/// the record the fixture printed for the same call. Panics, showing what
/// was printed, when ghostscope fails, a function was never seen, or any
/// value is wrong.
pub fn trace_calls_against_truth(
    exe: &Path,
    calls: &[(&str, &[&str])],
    rounds: usize,
) -> TracedCalls {
    let label = exe.file_name().unwrap().to_string_lossy().into_owned();
    let fixture = Fixture::start_logged(exe);
    let pid = fixture.pid().to_string();
    let mut tracer = Tracer::start(&["-p", &pid, "-s", &call_record_script(calls)]);
    let prefixes: Vec<String> = calls.iter().map(|(n, _)| format!("  {n}|seq=")).collect();
    tracer.wait_until(Duration::from_secs(20), |lines| {
        prefixes
            .iter()
            .all(|p| lines.iter().filter(|l| l.starts_with(p)).count() >= rounds)
    });
    let run = tracer.stop();
    assert_eq!(run.code(), 0, "{label}: {}", run.stderr);
    let events = events_by_header(&run.stdout);
    let printed: Vec<String> = events.iter().flat_map(|(_, l)| l.clone()).collect();
    // Each traced function prints its record just after the probe fired.
    std::thread::sleep(Duration::from_millis(100));
    let report = compare_with_truth(&printed, &fixture.output());
    assert!(
        report.mismatches.is_empty(),
        "{label}: wrong values:\n{}\nghostscope printed:\n{}\nstderr:\n{}",
        report.mismatches.join("\n"),
        printed.join("\n"),
        run.stderr
    );
    let missing: Vec<&str> = calls
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !report.functions.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "{label}: no event of {missing:?}\nstderr:\n{}",
        run.stderr
    );
    TracedCalls {
        report,
        events,
        printed,
    }
}
