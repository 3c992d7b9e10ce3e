//! Script forms GhostScope users write (script-language §4–§7): pointers
//! plus runtime offsets kept in `let`, `&*e`, short-circuited aggregates,
//! `void *` and chained pointer arithmetic, casts to array types, aliases.
//!
//! Pointer type suffixes (`(node*)` or `(struct node*)`) are matched
//! loosely: their spelling belongs to the value renderer.

use e2e_tests::{build_fixture, runtime_address, trace_events, Fixture};

fn fixture() -> Fixture {
    Fixture::start(&build_fixture("forms", "gcc", &["-g", "-O0"]))
}

/// Runs `body` at one hit of `visit` and returns the payload lines.
fn one_hit(f: &Fixture, body: &str) -> Vec<String> {
    let script = format!("trace visit {{\n{body}\n}}");
    let run = trace_events(f.pid(), &script, 1, &["--script-output", "plain"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    run.events().iter().map(|l| l.to_string()).collect()
}

/// Asserts that `line` is `<prefix>0x<addr> (…*)`.
fn assert_pointer(line: &str, prefix: &str, addr: u64) {
    let expected = format!("{prefix}0x{addr:x} (");
    assert!(
        line.starts_with(&expected) && line.ends_with("*)"),
        "{line:?} is not {expected}…*)"
    );
}

#[test]
fn a_pointer_plus_a_runtime_offset_kept_in_let_stays_an_address() {
    let f = fixture();
    let lines = one_hit(
        &f,
        r#"
        let off = G.counter - G.counter + 7;
        let at = gm + off;
        let n = 5;
        print "{:s.6}", at;
        print "{:x.6}", at;
        if memcmp(at, hex("476c6f62616c"), off - 1) { print "memcmp matched"; } else { print "memcmp differs"; }
        let back = off + g_message;
        print "[{:s.12}]", back;
        if strncmp(back, "Global", 6) { print "strncmp matched"; }
        print strncmp(at, "Global", 100);
        print strncmp(at, "Globe", 5);
        print strncmp(g_tag.head, "abcdzzzz", 8);
        print strncmp(back, "Global", off - 1);
        print strncmp(at, "Mismatch", off - 12);
        print strncmp(at, "Global", off + 255);
        print strncmp(at, "Globe", off + 255);
        print strncmp(g_tag.head, "abcdefgh", 8);
        print memcmp(at, hex("476c6f62616c"), off - 8);
        print memcmp(at, hex("4700"), off - 5);
        print memcmp(at, gm + off, off * 100);
        print "{:x.*}|{:s.n$}", off - 5, at, gm;
        "#,
    );
    assert_eq!(
        lines,
        [
            "Global",
            "47 6c 6f 62 61 6c",
            "memcmp matched",
            "[Global world]",
            "strncmp matched",
            // Over-long: the string's length bounds the compare.
            "strncmp(at, \"Global\", 100) = true",
            "strncmp(at, \"Globe\", 5) = false",
            // An array has only its own bytes: char[4] compares 4 of them.
            "strncmp(g_tag.head, \"abcdzzzz\", 8) = true",
            // A computed strncmp length is clamped the same way at run time.
            "strncmp(back, \"Global\", (off-1)) = true",
            "strncmp(at, \"Mismatch\", (off-12)) = true",
            "strncmp(at, \"Global\", (off+255)) = true",
            "strncmp(at, \"Globe\", (off+255)) = false",
            "strncmp(g_tag.head, \"abcdefgh\", 8) = true",
            // A negative run-time length compares nothing: equal.
            "memcmp(at, hex(\"476c6f62616c\"), (off-8)) = true",
            "memcmp(at, hex(\"4700\"), (off-5)) = false",
            // An over-long run-time length is clamped to compare_cap.
            "memcmp(at, (gm+off), (off*100)) = true",
            "47 6c|Hello",
        ]
    );
}

#[test]
fn address_of_a_dereference_folds_to_its_operand() {
    let f = fixture();
    let lines = one_hit(
        &f,
        "print c; print &*&*c; print np; print &*np; print &*(q + 0b1); print q[1];",
    );
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[0].starts_with("c = 0x7ff") && lines[0].ends_with("*)"));
    assert_eq!(lines[1], lines[0]);
    assert!(lines[2].starts_with("np = 0x7ff") && lines[2].ends_with("*)"));
    assert_eq!(lines[3], lines[2]);
    assert_eq!(lines[4..], ["(q+1) = 8", "q[1] = 8"]);
}

#[test]
fn a_short_circuited_operand_is_never_read_and_need_not_be_scalar() {
    let f = fixture();
    let lines = one_hit(
        &f,
        r#"
        print (1 || *c.friend_ref);
        print (0 && *c.friend_ref);
        if 1 || *c.friend_ref { print "taken"; }
        print (1 && c.id == 42);
        print (0 || c.friend_ref == 0);
        "#,
    );
    assert_eq!(
        lines,
        [
            "(1||*c.friend_ref) = true",
            "(0&&*c.friend_ref) = false",
            "taken",
            "(1&&(c.id==42)) = true",
            "(0||(c.friend_ref==0)) = true",
        ]
    );
}

#[test]
fn pointer_arithmetic_scales_at_every_step_and_void_prints_the_address() {
    let f = fixture();
    let message = runtime_address(f.pid(), &f.path, "g_message");
    let lines = one_hit(
        &f,
        r#"
        print p + 1;
        print g_void + 1;
        print (g_void - 1) + 2;
        print *((nums + 1) + 1);
        print ((nums+1)+1);
        print (nums + 2)[1];
        print *(nums + 5 - 2);
        print (row + 1).b;
        print (row + 2).c;
        print "{:p}", gm + 1;
        print *(gm + 7);
        "#,
    );
    assert_eq!(lines.len(), 11, "{lines:?}");
    // `void *` scales by 1 and prints the address alone.
    assert_pointer(&lines[0], "", message + 1);
    assert_pointer(&lines[1], "", message + 1);
    assert_pointer(&lines[2], "", message + 1);
    assert_eq!(
        lines[3..10],
        [
            "*((nums+1)+1) = 30",
            "((nums+1)+1) = 30",
            "(nums+2)[1] = 40",
            "*((nums+5)-2) = 40",
            // A struct pointer steps by the struct's size.
            "(row+1).b = 5",
            "(row+2).c = 9",
            &format!("0x{:x}", message + 1),
        ]
    );
    assert!(lines[10].starts_with("*(gm+7) = 71"), "{}", lines[10]);
}

#[test]
fn casts_to_array_types_print_the_value_alone() {
    let f = fixture();
    let lines = one_hit(
        &f,
        r#"
        print cast(g_quad, "unsigned int[4]");
        print cast(g_quad.w, "uint16_t[2]");
        print "<{}>", cast(g_rows, "int[4]");
        let a = cast(g_quad, "unsigned int[4]");
        print a[2];
        print cast(nums, "int[3]");
        print cast(row, "struct row").b;
        print cast(g_quad, "uint32_t[4]");
        "#,
    );
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert_eq!(
        lines[..6],
        [
            "[286331153, 572662306, 858993459, 1145324612]",
            "[4369, 4369]",
            "<[1, 2, 3, 4]>",
            "a[2] = 858993459",
            // A pointer cast to an array or struct is read where it points.
            "[10, 20, 30]",
            "cast(row, \"struct row\").b = 2",
        ]
    );
    // Typedef'd elements may render with their typedef name.
    assert_eq!(
        lines[6].replace("uint32_t(", "").replace(')', ""),
        "[286331153, 572662306, 858993459, 1145324612]"
    );
}

#[test]
fn aliases_of_addresses_casts_structs_and_arrays_work_like_their_expressions() {
    let f = fixture();
    let lines = one_hit(
        &f,
        r#"
        let a = &G;
        print a.counter > 0;
        print "{:s.3}", &a.label;
        let r = g_rows;
        print r[2].c;
        print "{:x.4}", &r[1];
        let s = cast(g_void, "char *");
        print "{:s.5}", s;
        let w = *c;
        print w.id;
        print "{:s.5}", w.name;
        print memcmp(&w.name, hex("416c696365"));
        print starts_with(w.name, "Ali");
        let lbl = G.label;
        print lbl == "gee";
        "#,
    );
    assert_eq!(
        lines,
        [
            "(a.counter>0) = true",
            "gee",
            "r[2].c = 9",
            "04 00 00 00",
            "Hello",
            "w.id = 42",
            "Alice",
            "memcmp(&w.name, hex(\"416c696365\")) = true",
            "starts_with(w.name, \"Ali\") = true",
            "(lbl==\"gee\") = true",
        ]
    );
}
