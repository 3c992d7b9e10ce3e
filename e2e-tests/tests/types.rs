//! The C type zoo: arrays, unions, anonymous members, typedefs, enums,
//! floats, function pointers, structs passed by value in registers and on
//! the stack, statics, string escapes and failure markers.

use e2e_tests::{build_fixture, mask_addresses, trace_events, Fixture};

const SCRIPT: &str = r#"trace measure {
    print g_matrix; print g_value; print g_escapes; print s_limits;
    print g_ratio; print g_half; print g_big_number; print g_schar;
    print g_null_string; print "{:s.4}", g_null_string; print *g_bad_pointer;
    print s.corners[1]; print s.radius; print s.pair.b; print s.tag; print s.scale; print s.visible;
    print p; print b; print b.words[5]; print v; print s.level; print s.area; print s.user;
}"#;

#[test]
fn every_kind_of_c_value_renders_as_specified() {
    for flags in [&["-g", "-O0"][..], &["-g", "-O2"][..]] {
        let f = Fixture::start(&build_fixture("types", "gcc", flags));
        let run = trace_events(f.pid(), SCRIPT, 1, &["--script-output", "plain"]);
        assert_eq!(run.code(), 0, "{flags:?}: {}", run.stderr);
        let lines: Vec<String> = run.events().iter().map(|l| mask_addresses(l)).collect();
        let p_line = lines
            .iter()
            .find(|l| l.starts_with("p = "))
            .cloned()
            .unwrap_or_default();
        let v_line = lines
            .iter()
            .find(|l| l.starts_with("v = "))
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            lines,
            [
                "g_matrix = [[1, 2, 3], [4, 5, 6]]",
                &lines[1],
                r#"g_escapes = "tab\x09here \"q\" back\\slash""#,
                "s_limits = [10, 20, 30]",
                "g_ratio = 0.1",
                "g_half = -12.5",
                "g_big_number = 18446744073709551615",
                "g_schar = -128",
                "g_null_string = NULL (char*)",
                "<error: null pointer dereference> (u8*)",
                "*g_bad_pointer = <read_user failed errno=-14 at 0xADDR> (char*)",
                "s.corners[1] = point { x: 3, y: 4 }",
                "s.radius = 9",
                "s.pair.b = 2",
                r#"s.tag = "box""#,
                "s.scale = 2.5",
                "s.visible = true",
                &p_line,
                "b = big { words: [1, 2, 3, 4, 5, 6] }",
                "b.words[5] = 6",
                &v_line,
                "s.level = level_t::LEVEL_HIGH(7)",
                "s.area = 0xADDR (void*)",
                "s.user = 0xADDR (void*)",
            ],
            "{flags:?}"
        );
        // The union's first member, either value the program alternates between.
        assert!(
            [
                "g_value = union value { i = 16909060 }",
                "g_value = union value { i = 16909061 }"
            ]
            .contains(&lines[1].as_str()),
            "{}",
            lines[1]
        );
        // A struct passed in a register pair: p = {i, -i}.
        let (x, y) = p_line
            .strip_prefix("p = point { x: ")
            .and_then(|r| r.strip_suffix(" }"))
            .and_then(|r| r.split_once(", y: "))
            .unwrap_or_else(|| panic!("{p_line}"));
        assert_eq!(x.parse::<i64>().unwrap(), -y.parse::<i64>().unwrap());
        assert!(
            v_line.starts_with("v = union value { i = 1690906"),
            "{v_line}"
        );
    }
}

#[test]
fn multi_dimensional_indexing_is_rejected() {
    let f = Fixture::start(&build_fixture("types", "gcc", &["-g", "-O0"]));
    let pid = f.pid().to_string();
    let run = e2e_tests::ghostscope(&["-p", &pid, "-s", "trace measure { print g_matrix[1][2]; }"]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr
            .contains("Multi-dimensional array access is not supported"),
        "{}",
        run.stderr
    );
}

#[test]
fn float_arguments_move_the_probe_past_the_prologue_when_needed() {
    let exe = build_fixture("types", "gcc", &["-g", "-O0"]);
    let f = Fixture::start(&exe);
    let run = trace_events(
        f.pid(),
        "trace mix { print factor; print ratio; print n >= 0; }",
        1,
        &["--script-output", "plain"],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        ["factor = 1.5", "ratio = 0.25", "(n>=0) = true"]
    );
    // Only scripts that need it move; dry-run details say so.
    let run = e2e_tests::ghostscope(&[
        "-t",
        exe.to_str().unwrap(),
        "--dry-run",
        "--dry-run-details",
        "-s",
        "trace mix { print factor; } trace mix { print n; }",
    ]);
    let placement = run
        .stdout
        .iter()
        .filter(|l| l.starts_with("      probe placement: after the prologue"))
        .count();
    assert_eq!(placement, 1, "{}", run.out());

    // Optimised code keeps floats in registers: printing one shows why it
    // is missing, and the other values still print.
    let f2 = Fixture::start(&build_fixture("types", "gcc", &["-g", "-O2"]));
    let run = trace_events(
        f2.pid(),
        "trace mix { print factor; print \"n={}\", n >= 0; }",
        1,
        &["--script-output", "plain"],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert_eq!(
        run.events(),
        ["factor = <unavailable: in register XMM0>", "n=true"]
    );
    // Computing with it is an error that gives the reason in full.
    let pid = f2.pid().to_string();
    let run = e2e_tests::ghostscope(&[
        "-p",
        &pid,
        "-s",
        "trace mix { if factor { print \"nonzero\"; } }",
    ]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr.contains("Unsupported DWARF register: 17 (XMM0) is a SIMD/FP register; uprobe pt_regs does not expose XMM register values"),
        "{}",
        run.stderr
    );
}
