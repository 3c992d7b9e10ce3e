//! A global defined in a shared library and used by the executable lives in
//! the executable's copy (`R_X86_64_COPY`): probes in either module read
//! that copy, not the library's stale storage.

use e2e_tests::{build_app_with_library, trace_calls_against_truth};

const CALLS: &[(&str, &[&str])] = &[
    (
        "app_tick",
        &["epoch", "lib_config.limit", "lib_config.level"],
    ),
    (
        "lib_tick",
        &["epoch", "lib_config.limit", "lib_config.level", "lib_only"],
    ),
];

#[test]
fn library_globals_are_read_from_the_executables_copy() {
    for flags in [
        &["-g", "-O0"][..],
        &["-g", "-O2"][..],
        &["-g", "-O2", "-fno-pie", "-no-pie"][..],
    ] {
        let exe = build_app_with_library("epoch_app", "libepoch", flags);
        let traced = trace_calls_against_truth(&exe, CALLS, 3);
        assert_eq!(traced.report.optimized_out, 0, "{flags:?}: {traced:?}");
    }
}
