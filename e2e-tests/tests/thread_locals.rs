//! Static TLS of the executable, read per thread from fs_base and PT_TLS;
//! TLS of a shared library prints a marker with the reason and cannot be
//! computed with.

use std::collections::BTreeSet;

use e2e_tests::{
    build_app_with_library, build_fixture, ghostscope, trace_calls_against_truth, trace_events,
    CallRecord, Fixture,
};

const CALLS: &[(&str, &[&str])] = &[(
    "work",
    &[
        "tls_id",
        "tls_counter",
        "tls_session.user",
        "tls_aligned",
        "calls_here",
    ],
)];

#[test]
fn thread_locals_of_the_executable_are_read_per_thread() {
    for flags in [
        &["-g", "-O0", "-pthread"][..],
        &["-g", "-O2", "-pthread"][..],
        &["-g", "-O2", "-pthread", "-fno-pie", "-no-pie"][..],
    ] {
        let exe = build_fixture("tls_app", "gcc", flags);
        let traced = trace_calls_against_truth(&exe, CALLS, 16);
        let report = &traced.report;
        assert_eq!(report.optimized_out, 0, "{flags:?}: {report:?}");
        assert!(report.matched >= 16 * 5, "{flags:?}: {report:?}");
        let (events, printed) = (&traced.events, &traced.printed);
        // Every thread has its own values, and its events its own TID.
        let ids: BTreeSet<String> = printed
            .iter()
            .filter_map(|l| CallRecord::parse(l))
            .filter_map(|r| r.fields.into_iter().find(|(k, _)| k == "tls_id"))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(ids.len(), 4, "{flags:?}: {ids:?}");
        let tids: BTreeSet<&str> = events
            .iter()
            .filter_map(|(h, _)| h.split(" TID:").nth(1))
            .collect();
        assert_eq!(tids.len(), 4, "{flags:?}");
    }
}

#[test]
fn thread_locals_of_a_shared_library_are_refused() {
    let exe = build_app_with_library("epoch_app", "libepoch", &["-g", "-O0"]);
    let fixture = Fixture::start(&exe);
    let pid = fixture.pid().to_string();
    // Printed, it is a marker that names the reason; the rest still prints.
    let run = trace_events(
        fixture.pid(),
        "trace lib_tick { print lib_tls; print \"after\"; }",
        1,
        &["--script-output", "plain"],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        [
            "lib_tls = <unavailable: thread-local storage of a shared library is not supported>",
            "after"
        ]
    );
    // Computed with, it is a compile error with the whole reason.
    let run = ghostscope(&["-p", &pid, "-s", "trace lib_tick { print lib_tls + 1; }"]);
    assert_eq!(run.code(), 1, "{}", run.out());
    assert!(
        run.stderr.contains(
            "thread-local storage of a shared library is not supported; only the executable's static TLS (per thread, from fs_base and PT_TLS) can be read"
        ),
        "{}",
        run.stderr
    );
}
