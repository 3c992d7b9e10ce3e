//! Values of parameters, struct fields, globals and strings, read from a
//! running C program at -O0 and -O2, PIE and fixed-address.

use e2e_tests::{build_fixture, events_by_header, trace_events, Fixture};

const CONFIGS: [&[&str]; 4] = [
    &["-g", "-O0", "-fPIE", "-pie"],
    &["-g", "-O0", "-fno-pie", "-no-pie"],
    &["-g", "-O2", "-fPIE", "-pie"],
    &["-g", "-O2", "-fno-pie", "-no-pie"],
];

fn field<'a>(line: &'a str, prefix: &str) -> &'a str {
    line.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("line {line:?} does not start with {prefix:?}"))
}

fn check_update_order(flags: &[&str]) {
    let exe = build_fixture("orders", "gcc", flags);
    let fixture = Fixture::start(&exe);
    let script = r#"trace update_order {
        print "id={} qty={}", id, qty;
        print o.customer;
        print o.customer.name;
        print *o;
        print g_total;
        print tag;
        print rush;
        print small;
        print note;
        print "{:s.16}", note;
        print g_vip_ptr.name;
    }"#;
    let run = trace_events(fixture.pid(), script, 3, &[]);
    assert_eq!(run.code(), 0, "{flags:?}: {}", run.stderr);
    let events = events_by_header(&run.stdout);
    assert_eq!(events.len(), 3, "{flags:?}: {}", run.out());
    let mut last_id = 0;
    for (header, lines) in &events {
        assert!(
            header.starts_with(&format!(
                "TraceID:0 PID:{} TID:{}",
                fixture.pid(),
                fixture.pid()
            )),
            "{header}"
        );
        assert_eq!(lines.len(), 11, "{flags:?}: {lines:?}");
        let (id, qty) = field(&lines[0], "id=").split_once(" qty=").unwrap();
        let id: i64 = id.parse().unwrap();
        let qty: i32 = qty.parse().unwrap();
        assert!(id >= 1000 && id > last_id, "{flags:?}: id {id}");
        last_id = id;
        assert!((0..5).contains(&qty), "{flags:?}: qty {qty}");
        let customer = field(&lines[1], "o.customer = 0x");
        assert!(customer.ends_with(" (customer*)"), "{customer}");
        assert_eq!(lines[2], "o.customer.name = \"Alice\"");
        // A typedef of a named struct renders under the struct's own name.
        let order = field(&lines[3], "*o = order { id: 1000, qty: ");
        assert!(
            order.contains(", state: order_state::STATE_PAID(2), customer: 0x")
                && order.ends_with(" (customer*), flags: 5, urgent: 1, lines: [3, 0, 7] }"),
            "{flags:?}: {}",
            lines[3]
        );
        let total: i64 = field(&lines[4], "g_total = ").parse().unwrap();
        assert!(total >= 0);
        assert_eq!(lines[5], "tag = 120");
        assert!(
            lines[6] == "rush = true" || lines[6] == "rush = false",
            "{}",
            lines[6]
        );
        assert_eq!(lines[7], "small = 65000");
        let note = field(&lines[8], "note = 0x");
        assert!(note.ends_with(" (char*)"), "{note}");
        assert_eq!(lines[9], "hello");
        assert_eq!(lines[10], "g_vip_ptr.name = \"Vera\"");
    }
}

#[test]
fn update_order_o0_pie() {
    check_update_order(CONFIGS[0]);
}

#[test]
fn update_order_o0_fixed_address() {
    check_update_order(CONFIGS[1]);
}

#[test]
fn update_order_o2_pie() {
    check_update_order(CONFIGS[2]);
}

#[test]
fn update_order_o2_fixed_address() {
    check_update_order(CONFIGS[3]);
}

/// Every integer width and signedness, a seventh argument on the stack,
/// and NULL met while following pointers.
#[test]
fn integer_widths_stack_arguments_and_null_pointers() {
    for flags in [CONFIGS[0], CONFIGS[2]] {
        let exe = build_fixture("orders", "gcc", flags);
        let fixture = Fixture::start(&exe);
        let script = r#"trace ship {
            print level; print code; print delta; print big; print huge; print uhuge;
            print c.id; print c.referrer; print c.referrer.name;
        }"#;
        let run = trace_events(fixture.pid(), script, 4, &["--script-output", "plain"]);
        assert_eq!(run.code(), 0, "{}", run.stderr);
        let lines = run.events();
        assert_eq!(lines.len(), 4 * 9, "{flags:?}: {}", run.out());
        let mut saw_vip = false;
        let mut saw_alice = false;
        for ev in lines.chunks(9) {
            assert_eq!(
                &ev[..6],
                &[
                    "level = -5",
                    "code = 250",
                    "delta = -300",
                    "big = 4000000000",
                    "huge = -9000000000000000000",
                    "uhuge = 18446744073709551610",
                ],
                "{flags:?}"
            );
            match ev[6] {
                // g_vip has no referrer: NULL is shown, and following it is reported.
                "c.id = 7" => {
                    saw_vip = true;
                    assert_eq!(ev[7], "c.referrer = NULL (customer*)");
                    assert_eq!(
                        ev[8],
                        "c.referrer.name = <error: null pointer dereference> (char[16]*)"
                    );
                }
                "c.id = 42" => {
                    saw_alice = true;
                    assert!(ev[7].starts_with("c.referrer = 0x"), "{}", ev[7]);
                    assert_eq!(ev[8], "c.referrer.name = \"Vera\"");
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert!(saw_vip && saw_alice, "both customers were seen");
    }
}

#[test]
fn optimized_out_values_are_shown_not_guessed() {
    let exe = build_fixture("orders", "gcc", CONFIGS[2]);
    let f = Fixture::start(&exe);
    let run = trace_events(
        f.pid(),
        "trace audit { print code >= 0; print pid; print \"pid={}\", pid; }",
        1,
        &["--script-output", "plain"],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        [
            "(code>=0) = true",
            "pid = <optimized out>",
            "pid=<optimized out>"
        ]
    );
    // Computing with it is a compile error that names it.
    let pid = f.pid().to_string();
    let run = e2e_tests::ghostscope(&["-p", &pid, "-s", "trace audit { print pid + 1; }"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr
            .contains("'pid' is optimized out at the selected probe PC"),
        "{}",
        run.stderr
    );
}

#[test]
fn target_mode_reads_globals_of_a_pie_without_a_pid() {
    let exe = build_fixture("orders", "gcc", CONFIGS[0]);
    let _f = Fixture::start(&exe);
    let mut t = e2e_tests::Tracer::start(&[
        "-t",
        exe.to_str().unwrap(),
        "-s",
        "trace update_order { print g_vip.name; print g_vip_ptr.name; }",
        "--script-output",
        "plain",
    ]);
    t.wait_for(2, std::time::Duration::from_secs(10), |l| {
        l.starts_with("g_vip_ptr.name")
    });
    let run = t.stop();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events = run.events();
    assert!(events.len() >= 4, "{}", run.out());
    assert_eq!(
        &events[..2],
        ["g_vip.name = \"Vera\"", "g_vip_ptr.name = \"Vera\""]
    );
}
