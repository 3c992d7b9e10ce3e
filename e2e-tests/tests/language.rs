//! Script features: several trace blocks, let, if/else, arithmetic,
//! special variables, format specifiers, script files and output modes.

use e2e_tests::{build_fixture, events_by_header, trace_events, Fixture};

fn fixture() -> Fixture {
    Fixture::start(&build_fixture("orders", "gcc", &["-g", "-O0"]))
}

#[test]
fn let_if_else_and_arithmetic_follow_c_rules() {
    let f = fixture();
    let script = r#"trace update_order {
        print qty;
        let q = qty * 2;
        if q > 4 {
            print "big {}", q;
        } else if q == 0 {
            print "zero";
        } else {
            print "small {}", q;
        }
        print (qty - 10) / 3;
        print tag % 7;
        print small + 1;
    }"#;
    let run = trace_events(f.pid(), script, 10, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let lines = run.events();
    assert_eq!(lines.len(), 50, "{}", run.out());
    for ev in lines.chunks(5) {
        let qty: i64 = ev[0].strip_prefix("qty = ").unwrap().parse().unwrap();
        let expected = match qty * 2 {
            0 => "zero".to_string(),
            q if q > 4 => format!("big {q}"),
            q => format!("small {q}"),
        };
        assert_eq!(ev[1], expected);
        // C division truncates toward zero: (0-10)/3 = -3, (4-10)/3 = -2.
        assert_eq!(ev[2], format!("((qty-10)/3) = {}", (qty - 10) / 3));
        assert_eq!(ev[3], "(tag%7) = 1");
        // uint16_t promotes to int before the addition.
        assert_eq!(ev[4], "(small+1) = 65001");
    }
}

#[test]
fn several_trace_blocks_get_their_own_trace_ids() {
    let f = fixture();
    let script = "trace update_order { print \"u {}\", qty; } trace ship { print \"s {}\", code; }";
    let pid = f.pid().to_string();
    // The first probe fires while the second is still being attached, so
    // wait for the second trace's events rather than for a number of events.
    let mut t = e2e_tests::Tracer::start(&["-p", &pid, "-s", script, "--script-timestamp", "none"]);
    t.wait_for(2, std::time::Duration::from_secs(10), |l| {
        l.starts_with("TraceID:1 ")
    });
    let run = t.stop();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events = events_by_header(&run.stdout);
    assert!(events
        .iter()
        .any(|(h, l)| h.starts_with("TraceID:0 ") && l[0].starts_with("u ")));
    assert!(events
        .iter()
        .any(|(h, l)| h.starts_with("TraceID:1 ") && l == &["s 250"]));
}

#[test]
fn special_variables_and_format_specifiers() {
    let f = fixture();
    let script = r#"trace update_order {
        print "pid={} tid={}", $pid, $tid;
        print "{:x}|{:X}|{:p}", qty, small, o;
        print "{:x.4}", o.customer.name;
        print "{{literal}} {}", $timestamp > 0;
    }"#;
    let run = trace_events(f.pid(), script, 2, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let lines = run.events();
    assert_eq!(lines.len(), 8, "{}", run.out());
    for ev in lines.chunks(4) {
        assert_eq!(ev[0], format!("pid={} tid={}", f.pid(), f.pid()));
        let (qty_hex, rest) = ev[1].split_once('|').unwrap();
        assert!(
            qty_hex.len() == 11 && qty_hex.ends_with(" 00 00 00"),
            "{qty_hex}"
        );
        let (small_hex, ptr) = rest.split_once('|').unwrap();
        assert_eq!(small_hex, "E8 FD");
        assert!(ptr.starts_with("0x7ff"), "{ptr}");
        assert_eq!(ev[2], "41 6c 69 63");
        assert_eq!(ev[3], "{literal} true");
    }
}

#[test]
fn script_file_and_timestamps() {
    let f = fixture();
    let path = std::env::temp_dir().join(format!("gs_e2e_{}.gs", std::process::id()));
    std::fs::write(
        &path,
        "// a comment\ntrace update_order {\n  print qty;\n}\n",
    )
    .unwrap();
    let pid = f.pid().to_string();
    let mut t = e2e_tests::Tracer::start(&[
        "-p",
        &pid,
        "--script-file",
        path.to_str().unwrap(),
        "--script-timestamp",
        "boot",
    ]);
    t.wait_for(2, std::time::Duration::from_secs(10), |l| {
        l.starts_with("[boot+")
    });
    let run = t.stop();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let events = events_by_header(&run.stdout);
    assert!(events.len() >= 2, "{}", run.out());
    let (header, lines) = &events[0];
    assert!(
        header.starts_with("[boot+") && header.contains("s] TraceID:0 PID:"),
        "{header}"
    );
    assert!(lines[0].starts_with("qty = "));
    // Default local timestamps: [YYYY-MM-DD HH:MM:SS.mmm]
    let run = trace_events(
        f.pid(),
        "trace update_order { print qty; }",
        1,
        &["--script-timestamp", "local"],
    );
    let header = &run.stdout[0];
    assert_eq!(&header[0..1], "[", "{header}");
    assert_eq!(&header[24..26], "] ", "{header}");
}

#[test]
fn string_dumps_show_exactly_n_characters() {
    let f = fixture();
    let script = r#"trace update_order {
        print "[{:s.6}]", g_banner;
        print "[{:s.64}]", g_banner;
        print "[{:x.3}]", g_banner;
        print "[{:s.0}]", g_banner;
        print "[{:s.3}] [{:x.2}] [{:s}]", "hello", "hi", "raw";
    }"#;
    let run = trace_events(f.pid(), script, 1, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        [
            "[orders]",
            "[orders v1]",
            "[6f 72 64]",
            "[]",
            "[hel] [68 69] [raw]"
        ]
    );
}

#[test]
fn short_circuit_never_reads_the_right_side_and_failures_abort_softly() {
    let f = fixture();
    let script = r#"trace ship {
        print c.id;
        if c.referrer != 0 && c.referrer.id == 7 { print "referred by vip"; }
        if c.referrer.id == 7 || c.id == 7 { print "vip involved"; } else { print "no vip"; }
    }"#;
    let run = trace_events(f.pid(), script, 6, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let out = run.out();
    // Alice (42) is referred by Vera: both conditions hold, nothing fails.
    assert!(
        out.contains("c.id = 42\nreferred by vip\nvip involved"),
        "{out}"
    );
    // Vera (7) has no referrer: the && stops before the NULL; the || reads
    // through it, fails, and runs neither branch.
    assert!(
        out.contains("c.id = 7\nExprError: ((c.referrer.id==7)||(c.id==7)) (null deref at NULL)\n")
            || out.ends_with(
                "c.id = 7\nExprError: ((c.referrer.id==7)||(c.id==7)) (null deref at NULL)"
            ),
        "{out}"
    );
    assert!(!out.contains("no vip"), "{out}");
}

#[test]
fn source_line_and_address_probes() {
    let exe = build_fixture("orders", "gcc", &["-g", "-O0"]);
    let f = Fixture::start(&exe);
    let source = include_str!("../fixtures/orders.c");
    let line = source
        .lines()
        .position(|l| l.contains("g_total += qty;"))
        .unwrap()
        + 1;
    let script = format!("trace orders.c:{line} {{ print qty; print o.id; print tag; }}");
    let run = trace_events(f.pid(), &script, 2, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    for ev in run.events().chunks(3) {
        assert!(ev[0].starts_with("qty = "), "{ev:?}");
        assert_eq!(&ev[1..], ["o.id = 1000", "tag = 120"]);
    }
    // An address probe on a function's first instruction sees its arguments
    // where the caller put them, as a function probe does.
    let nm = std::process::Command::new("nm").arg(&exe).output().unwrap();
    let ship = String::from_utf8_lossy(&nm.stdout)
        .lines()
        .find(|l| l.ends_with(" T ship"))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .unwrap();
    let script = format!("trace 0x{ship} {{ print code; print delta; }}");
    let run = trace_events(f.pid(), &script, 1, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(run.events(), ["code = 250", "delta = -300"]);
}

#[test]
fn c_strings_compare_with_literals() {
    let f = fixture();
    let script = r#"trace update_order {
        print o.customer.name == "Alice";
        print o.customer.name == "Alic";
        print o.customer.name == "Alices";
        print note == "hello";
        print note != "hello";
        print ("hell" == note);
        print g_banner == "orders v1";
        print g_vip_ptr.referrer.name == "x";
        if o.customer.name == "Alice" && note == "hello" { print "both"; }
    }"#;
    let run = trace_events(f.pid(), script, 1, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        [
            "(o.customer.name==\"Alice\") = true",
            "(o.customer.name==\"Alic\") = false",
            "(o.customer.name==\"Alices\") = false",
            "(note==\"hello\") = true",
            "(note!=\"hello\") = false",
            "(\"hell\"==note) = false",
            "(g_banner==\"orders v1\") = true",
            // A NULL on the way compares unequal, without an ExprError.
            "(g_vip_ptr.referrer.name==\"x\") = false",
            "both",
        ]
    );
}

#[test]
fn comparison_builtins_and_their_expr_errors() {
    let f = fixture();
    let script = r#"trace update_order {
        print strncmp(note, "hel", 3);
        print strncmp(note, "help", 4);
        print starts_with(o.customer.name, "Ali");
        print memcmp(o.customer.name, hex("416c69"));
        print memcmp(&o.id, hex("e8 03"), 2);
        print memcmp(g_vip_ptr.referrer, hex("00"), 1);
        if memcmp(g_vip_ptr.referrer, hex("00"), 1) { print "x"; } else if strncmp(note, "h", 1) { print "h"; } else { print "other"; }
    }"#;
    let run = trace_events(f.pid(), script, 1, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let failure = "ExprError: memcmp(g_vip_ptr.referrer, hex(\"00\"), 1) (read error at NULL, flags: first-arg read-fail)";
    assert_eq!(
        run.events(),
        [
            "strncmp(note, \"hel\", 3) = true",
            "strncmp(note, \"help\", 4) = false",
            "starts_with(o.customer.name, \"Ali\") = true",
            "memcmp(o.customer.name, hex(\"416c69\")) = true",
            "memcmp(&o.id, hex(\"e8 03\"), 2) = true",
            // Inside print: false, then the ExprError line.
            "memcmp(g_vip_ptr.referrer, hex(\"00\"), 1) = false",
            failure,
            // In a condition: soft abort, and the else-if still runs.
            failure,
            "h",
        ]
    );
}
