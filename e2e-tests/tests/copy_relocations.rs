//! A global defined in a shared library and used by the executable lives in
//! the executable's copy (`R_X86_64_COPY`): probes in either module read
//! that copy, not the library's stale storage.

use std::time::Duration;

use e2e_tests::{
    build_app_with_library, call_record_script, compare_with_truth, events_by_header, Fixture,
    Tracer,
};

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
        let fixture = Fixture::start_logged(&exe);
        let pid = fixture.pid().to_string();
        let mut tracer = Tracer::start(&["-p", &pid, "-s", &call_record_script(CALLS)]);
        tracer.wait_until(Duration::from_secs(20), |lines| {
            ["  app_tick|", "  lib_tick|"]
                .iter()
                .all(|p| lines.iter().filter(|l| l.starts_with(p)).count() >= 3)
        });
        let run = tracer.stop();
        assert_eq!(run.code(), 0, "{flags:?}: {}", run.stderr);
        let printed: Vec<String> = events_by_header(&run.stdout)
            .into_iter()
            .flat_map(|(_, lines)| lines)
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let report = compare_with_truth(&printed, &fixture.output());
        assert!(
            report.mismatches.is_empty(),
            "{flags:?}:\n{}\nprinted:\n{}",
            report.mismatches.join("\n"),
            printed.join("\n")
        );
        assert_eq!(report.functions.len(), 2, "{flags:?}: {}", run.stderr);
        assert_eq!(report.optimized_out, 0, "{flags:?}: {printed:?}");
    }
}
