//! Values in optimized code (gcc and clang at -O2/-O3): inlined copies,
//! entry values recovered through call sites, constants of cloned
//! functions, lines with only non-statement rows, implicit pointers, and
//! values uprobes cannot read. Every value ghostscope prints is compared
//! with what the fixture itself printed for the same call.

use std::process::Command;
use std::time::Duration;

use e2e_tests::{
    build_fixture, build_fixture_sources, ghostscope, trace_events, Fixture, Run, Tracer,
};

/// How long a fixture may take to print the line for a call just traced.
const PRINT_WAIT: Duration = Duration::from_secs(3);

/// The line of `fixtures/<fixture>.c` that holds the comment `marker`.
fn marker_line(fixture: &str, marker: &str) -> usize {
    let path = format!("{}/fixtures/{fixture}.c", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .position(|l| l.contains(&format!("/* {marker} */")))
        .unwrap_or_else(|| panic!("{marker} not in {fixture}.c"))
        + 1
}

/// Traces `f` with `script` (plain output) until the payload lines so far
/// satisfy `done`: with several probes, the first ones attached may fire
/// many times before the last one is in place.
fn trace_until(f: &Fixture, script: &str, done: impl Fn(&[&str]) -> bool) -> Run {
    let pid = f.pid().to_string();
    let mut t = Tracer::start(&["-p", &pid, "-s", script, "--script-output", "plain"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let events: Vec<&str> = t
            .lines()
            .iter()
            .map(String::as_str)
            .filter(|l| *l != e2e_tests::READY)
            .collect();
        if done(&events) || std::time::Instant::now() > deadline {
            break;
        }
        let more = t.lines().len() + 1;
        t.wait_for(more, Duration::from_millis(200), |_| true);
    }
    let run = t.stop();
    assert_eq!(run.code(), 0, "{}\n{}", run.out(), run.stderr);
    run
}

fn plain(f: &Fixture, script: &str, events: u64) -> Run {
    let run = trace_events(f.pid(), script, events, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}\n{}", run.out(), run.stderr);
    run
}

/// Asserts the fixture printed `line` (now or very soon).
fn assert_printed(f: &Fixture, line: &str, what: &str) {
    assert!(
        f.printed(line, PRINT_WAIT),
        "{what}: ghostscope read {line:?}, which the program never printed; it printed:\n{}",
        f.output()
    );
}

/// Asserts the fixture printed a line that `pred` accepts (now or very soon).
fn assert_printed_where(f: &Fixture, what: &str, pred: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + PRINT_WAIT;
    while !f.output_lines().iter().any(|l| pred(l)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: the program printed no matching line; it printed:\n{}",
            f.output()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn dry_run(exe: &std::path::Path, script: &str) -> Run {
    let run = ghostscope(&[
        "-t",
        exe.to_str().unwrap(),
        "--dry-run",
        "--dry-run-details",
        "-s",
        script,
    ]);
    assert_eq!(run.code(), 0, "{}\n{}", run.out(), run.stderr);
    run
}

/// The `--dry-run-details` line of variable `name` at attachable target
/// number `target` (1-based, as printed).
fn variable_line(run: &Run, target: usize, name: &str) -> String {
    let start = run
        .stdout
        .iter()
        .position(|l| l.starts_with(&format!("  [{target}] ")))
        .unwrap_or_else(|| panic!("no target [{target}]:\n{}", run.out()));
    run.stdout[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("  ["))
        .find(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            l.starts_with(&format!("{name}: ")) || l.starts_with(&format!("param {name}: "))
        })
        .unwrap_or_else(|| panic!("{name} not listed at [{target}]:\n{}", run.out()))
        .clone()
}

#[test]
fn inlined_copies_in_main_nested_and_across_units() {
    let builds: [(&str, &[&str]); 4] = [
        ("gcc", &["-g", "-O2"]),
        ("gcc", &["-g", "-O2", "-flto"]),
        ("clang", &["-g", "-O2"]),
        ("clang", &["-g", "-O2", "-gdwarf-4"]),
    ];
    for (compiler, flags) in builds {
        let what = format!("{compiler} {flags:?}");
        let exe = build_fixture_sources(&["inlined", "inlined_lib"], compiler, flags);
        // Every copy attaches; none fails for want of its parameters.
        let plan = dry_run(&exe, "trace calculate_something { print a; print b; }");
        assert!(
            plan.stdout[1].contains(" 0 failed target(s)"),
            "{what}: {}",
            plan.out()
        );
        let f = Fixture::start_capturing(&exe);
        let mut script = r#"
            trace calculate_something { print "calculate_something a={} b={}", a, b; }
            trace middle_step { print "middle_step y={}", y; }
            trace leaf_step { print "leaf_step x={} mode={}", x, mode; }
            trace lto_scale { print "lto_scale value={} factor={}", value, factor; }
        "#
        .to_string();
        let mut kinds = vec![
            "calculate_something",
            "middle_step",
            "leaf_step",
            "lto_scale",
        ];
        // clang 14 puts an inline function's static local in an unnamed
        // subprogram of its own, so only gcc's can be found.
        if compiler == "gcc" {
            script +=
                r#"trace bump { print "bump by={} calls={} counter={}", by, calls, g_counter; }"#;
            kinds.push("bump");
        }
        let run = trace_until(&f, &script, |events| {
            kinds
                .iter()
                .all(|k| events.iter().any(|e| e.starts_with(&format!("{k} "))))
        });
        let mut seen = vec![false; kinds.len()];
        for line in run.events() {
            let kind = kinds
                .iter()
                .position(|k| line.starts_with(&format!("{k} ")))
                .unwrap_or_else(|| panic!("{what}: unexpected {line}"));
            seen[kind] = true;
            // clang keeps no DIE for the unused parameter in the inlined copy.
            let line = if compiler == "clang" && kind == 2 {
                line.strip_suffix(" mode=<optimized out>")
                    .map(|l| format!("{l} mode=7"))
                    .unwrap_or_else(|| panic!("{what}: {line}"))
            } else {
                line.to_string()
            };
            assert_printed(&f, &line, &what);
        }
        assert!(seen.iter().all(|s| *s), "{what}: {}", run.out());
    }
}

#[test]
fn entry_values_in_a_loop_come_from_the_callers_call_site() {
    let line = marker_line("optimized", "LOOP_LINE");
    for flags in [&["-g", "-O2"][..], &["-g", "-O2", "-gdwarf-4"]] {
        let what = format!("gcc {flags:?}");
        let exe = build_fixture("optimized", "gcc", flags);
        let script = format!(
            "trace optimized.c:{line} {{ print \"i={{}} total={{}} n={{}}\", i, total, n; }}"
        );
        // `i` is (r8 - entry value of rdi) >> 5 inside the loop.
        let plan = dry_run(&exe, &script);
        assert!(
            variable_line(&plan, 2, "i").contains(
                "[requires: the caller's call-site value (DW_OP_entry_value); direct value; "
            ),
            "{what}: {}",
            plan.out()
        );
        let f = Fixture::start_capturing(&exe);
        let run = trace_until(&f, &script, |events| {
            let missing = events.iter().filter(|e| e.contains("<entry not captured>"));
            let recovered = events
                .iter()
                .filter(|e| e.ends_with(" n=4") && !e.starts_with("i=0 "));
            missing.count() >= 2 && recovered.count() >= 3
        });
        let (mut recovered, mut missing) = (0, 0);
        for event in run.events() {
            let (i, rest) = event.split_once(" total=").expect(event);
            let (total, n) = rest.split_once(" n=").expect(event);
            match (i, n) {
                // Called directly from main: the call site gives `it` and `n`.
                (i, "4") => {
                    recovered += (i != "i=0") as usize;
                    assert_printed(&f, &format!("sum_scores {i} total={total}"), &what);
                }
                // Called through a pointer: at entry `n` is still in rsi;
                // in the loop no call site tells, and nothing is guessed.
                ("i=0", "3") => assert_printed(&f, &format!("sum_hook i=0 total={total}"), &what),
                ("i=<entry not captured>", "<entry not captured>") => {
                    missing += 1;
                    let total = format!(" total={total}");
                    assert_printed_where(&f, &what, |l| {
                        l.starts_with("sum_hook i=") && l.ends_with(&total)
                    });
                }
                _ => panic!("{what}: unexpected {event}"),
            }
        }
        assert!(recovered >= 3 && missing >= 2, "{what}: {}", run.out());
    }
}

#[test]
fn clang_entry_values_at_a_return() {
    let line = marker_line("optimized", "RETURN_LINE");
    let exe = build_fixture("optimized", "clang", &["-g", "-O2"]);
    let f = Fixture::start_capturing(&exe);
    let run = plain(&f, &format!("trace optimized.c:{line} {{ print n; }}"), 6);
    let (mut direct, mut hooked) = (0, 0);
    for event in run.events() {
        match event {
            // main's call site passes 4 as a constant.
            "n = 4" => {
                direct += 1;
                assert_printed_where(&f, "clang", |l| l.starts_with("sum_scores n=4 "));
            }
            // The call through a pointer records nothing for its callee.
            "n = <entry not captured>" => hooked += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(direct >= 2 && hooked >= 2, "{}", run.out());
}

#[test]
fn an_outer_parameter_inside_inlined_code_after_a_call() {
    let line = marker_line("optimized", "AUDIT_LINE");
    // At -O3 gcc also clones check_item and refers to the removed
    // parameter with DW_OP_GNU_parameter_ref.
    for flags in [&["-g", "-O2"][..], &["-g", "-O3"]] {
        let what = format!("gcc {flags:?}");
        let exe = build_fixture("optimized", "gcc", flags);
        let f = Fixture::start_capturing(&exe);
        let script = format!(
            "trace optimized.c:{line} {{ print \"check_item p.id={{}} k={{}}\", p.id, k; }}"
        );
        let run = plain(&f, &script, 4);
        for event in run.events() {
            assert_printed(&f, event, &what);
        }
    }
}

#[test]
fn constants_of_a_constprop_clone() {
    let exe = build_fixture("optimized", "gcc", &["-g", "-O3"]);
    let nm = Command::new("nm").arg(&exe).output().unwrap();
    assert!(
        String::from_utf8_lossy(&nm.stdout).contains(" mix.constprop.0"),
        "gcc did not clone mix"
    );
    let f = Fixture::start_capturing(&exe);
    let run = plain(
        &f,
        r#"trace mix { print "mix x={} k1={} k2={}", x, k1, k2; }"#,
        4,
    );
    for event in run.events() {
        // DW_AT_const_value 11 is one byte in DWARF; the value is a uint64_t.
        assert!(event.ends_with(" k1=11 k2=66"), "{event}");
        let plain_numbers = event.replace("uint64_t(", "").replace(')', "");
        assert_printed(&f, &plain_numbers, "gcc -O3");
    }
}

#[test]
fn a_line_with_only_non_statement_rows() {
    // gcc -O2 gives the closing brace of sum_scores no is_stmt row.
    let line = marker_line("optimized", "CLOSE_LINE");
    let exe = build_fixture("optimized", "gcc", &["-g", "-O2"]);
    let script = format!("trace optimized.c:{line} {{ print total; }}");
    let plan = dry_run(&exe, &script);
    assert!(
        plan.stdout[1].starts_with("Summary: 2 attachable target(s)"),
        "{}",
        plan.out()
    );
    let f = Fixture::start_capturing(&exe);
    let run = plain(&f, &script, 4);
    for event in run.events() {
        let total = event.strip_prefix("total = ").expect(event);
        let returned = format!(" returned {total}");
        assert_printed_where(&f, event, |l| {
            (l.starts_with("sum_scores ") || l.starts_with("sum_hook ")) && l.ends_with(&returned)
        });
    }
}

#[test]
fn implicit_pointers_are_dereferenced() {
    // With -fdebug-types-section the struct's layout is in a type unit.
    for flags in [&["-g", "-O2"][..], &["-g", "-O2", "-fdebug-types-section"]] {
        let what = format!("gcc {flags:?}");
        let exe = build_fixture("optimized", "gcc", flags);
        let plan = dry_run(&exe, "trace add_pair { print *p; }");
        assert!(
            variable_line(&plan, 1, "p").contains(
                "param p: const struct pair* [requires: dereference (implicit pointer); unavailable; implicit pointer (object offset 0)]"
            ),
            "{what}: {}",
            plan.out()
        );
        let f = Fixture::start_capturing(&exe);
        let script = r#"trace add_pair {
            print "add_pair left={} right={} bias={}", p.left, p.right, bias;
            print p;
            print *p;
        }"#;
        let run = plain(&f, script, 3);
        let lines = run.events();
        assert_eq!(lines.len(), 9, "{what}: {}", run.out());
        for ev in lines.chunks(3) {
            assert_printed(&f, ev[0], &what);
            assert_eq!(ev[1], "p = <implicit pointer>");
            let (left, rest) = ev[0]
                .strip_prefix("add_pair left=")
                .unwrap()
                .split_once(" right=")
                .unwrap();
            let right = rest.split_once(' ').unwrap().0;
            assert_eq!(
                ev[2],
                format!("*p = pair {{ left: {left}, right: {right} }}"),
                "{what}"
            );
        }
        // The pointer itself has no value to compute with.
        let pid = f.pid().to_string();
        let run = ghostscope(&["-p", &pid, "-s", "trace add_pair { print p == 0; }"]);
        assert_eq!(run.code(), 1);
        assert!(
            run.stderr.contains("'p' is an implicit pointer"),
            "{what}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_unreadable_value_costs_only_itself() {
    for (compiler, flags) in [("gcc", &["-g", "-O2"][..]), ("clang", &["-g", "-O2"])] {
        let what = format!("{compiler} {flags:?}");
        let exe = build_fixture("optimized", compiler, flags);
        let plan = dry_run(&exe, "trace scaled { print factor; }");
        assert!(
            variable_line(&plan, 1, "factor").contains(
                "[unsupported: Unsupported DWARF register: 17 (XMM0) is a SIMD/FP register;"
            ),
            "{what}: {}",
            plan.out()
        );
        let f = Fixture::start_capturing(&exe);
        let run = plain(
            &f,
            r#"trace scaled { print "scaled count={}", count; print factor; }"#,
            2,
        );
        let lines = run.events();
        assert_eq!(lines.len(), 4, "{what}: {}", run.out());
        for ev in lines.chunks(2) {
            assert_printed(&f, ev[0], &what);
            assert_eq!(ev[1], "factor = <unavailable: in register XMM0>", "{what}");
        }
    }
}
