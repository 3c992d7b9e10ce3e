//! Functions and globals in a shared library, hit from several threads.

use std::collections::BTreeSet;

use e2e_tests::{build_codec_app, built_library, events_by_header, trace_events, Fixture};

#[test]
fn shared_library_functions_and_globals_from_every_thread() {
    for flags in [&["-g", "-O0"][..], &["-g", "-O2"][..]] {
        let app = build_codec_app(flags);
        let f = Fixture::start(&app);
        let script = "trace decode { print f.len; print \"{:s.3}\", f.data; print codec_calls > 0; print flags; }";
        // Only libcodec's decode: libc has static ones too when its DWARF
        // is installed (libc6-dbg, found by build id).
        let lib = built_library("libcodec", flags);
        let run = trace_events(f.pid(), script, 9, &["-t", &lib.to_string_lossy()]);
        assert_eq!(run.code(), 0, "{flags:?}: {}", run.stderr);
        let events = events_by_header(&run.stdout);
        assert_eq!(events.len(), 9, "{}", run.out());
        let mut lens = BTreeSet::new();
        let mut tids = BTreeSet::new();
        for (header, lines) in &events {
            let (pid, tid) = header
                .strip_prefix("TraceID:0 PID:")
                .and_then(|r| r.split_once(" TID:"))
                .unwrap_or_else(|| panic!("{header}"));
            assert_eq!(pid, f.pid().to_string());
            assert_ne!(tid, pid, "worker threads, not the main thread");
            tids.insert(tid.to_string());
            lens.insert(lines[0].clone());
            assert_eq!(&lines[1..], ["abc", "(codec_calls>0) = true", "flags = 7"]);
        }
        // Each of the three workers passes its own index as the frame length.
        assert_eq!(
            lens,
            ["f.len = 0", "f.len = 1", "f.len = 2"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            "{flags:?}"
        );
        assert_eq!(tids.len(), 3);
    }
}
