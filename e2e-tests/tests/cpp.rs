//! C++ values read like C++: references show their referent and are
//! followed for member access, base-class members are reachable through
//! the derived object and `this`, and objects render their base classes.

use e2e_tests::{build_cxx_fixture, mask_addresses, trace_calls_against_truth};

/// Function → expressions traced at its entry; `cpp_values.cpp` prints the same.
const CALLS: &[(&str, &[&str])] = &[
    ("grow", &["this.id_", "this.rank_", "this.size", "by"]),
    (
        "observe",
        &["seen", "w.id_", "w.size", "tmp.rank_", "h.count", "h.w.id_"],
    ),
];

#[test]
fn references_and_base_class_members_match_the_program_at_o0_and_o2() {
    for opt in ["-O0", "-O2"] {
        let exe = build_cxx_fixture("cpp_values", &["-g", opt]);
        let traced = trace_calls_against_truth(&exe, CALLS, 3);
        assert!(
            traced.report.matched >= 3 * 10,
            "{opt}: {:?}",
            traced.report
        );
    }
}

#[test]
fn a_reference_renders_its_referent_with_its_base_class() {
    let exe = build_cxx_fixture("cpp_values", &["-g", "-O0"]);
    let script = "trace observe { print \"seq={}\", seq; print seen; print w; print h; }";
    let traced = trace_events_of(&exe, script);
    // The fixture sets seen = 13 * (seq - 2) and w from the same round.
    let (_, lines) = traced
        .iter()
        .find(|(_, l)| l.len() == 4)
        .unwrap_or_else(|| panic!("no complete event: {traced:?}"));
    let seq: i64 = lines[0]
        .trim()
        .strip_prefix("seq=")
        .unwrap()
        .parse()
        .unwrap();
    let s = seq - 2;
    let round = s / 100;
    assert_eq!(lines[1], format!("seen = {}", s * 13));
    assert_eq!(
        lines[2],
        format!(
            "w = Widget {{ struct Named: Named {{ id_: {}, rank_: {} }}, size: {} }}",
            s * 3,
            round % 50,
            s * 7
        )
    );
    // A struct's reference members are not followed, like pointer members.
    assert_eq!(
        mask_addresses(&lines[3]),
        "h = Holder { w: 0xADDR (Widget*), count: 0xADDR (int*) }"
    );
}

/// Starts `exe`, runs `script` on it until two events arrived, returns them.
fn trace_events_of(exe: &std::path::Path, script: &str) -> Vec<(String, Vec<String>)> {
    let mut fixture = e2e_tests::Fixture::start(exe);
    let run = e2e_tests::trace_events(fixture.pid(), script, 2, &[]);
    fixture.kill();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    e2e_tests::events_by_header(&run.stdout)
}
