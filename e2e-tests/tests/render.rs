//! Value text exactly as the reference prints it (output.md §3.2–3.4, §3.6,
//! §3.9, §4; script-language §4.1): every case of `fixtures/render.c`, at
//! -O0 and -O2, compared line by line with addresses masked.

use e2e_tests::{build_fixture, mask_addresses, trace_events, Fixture};

/// Each statement of the script, and the line it prints.
const CASES: &[(&str, &str)] = &[
    // Typedefs of scalars and arrays are transparent (§3.3).
    (r#"print "{}", g_order.customer.tier;"#, "-2"),
    ("print g_a;", "g_a = -9"),
    ("print g_a2;", "g_a2 = -9"),
    ("print g_tier;", "g_tier = -2"),
    ("print g_name;", r#"g_name = "bob""#),
    ("print g_gad.nm;", r#"g_gad.nm = "bob""#),
    // Enums by value, through typedefs, with no match, unsigned (§3.2).
    ("print g_t;", "g_t = e_t::POS(7)"),
    ("print g_t2;", "g_t2 = e2_t::POS(7)"),
    ("print g_v;", "g_v = e::NEG(-3)"),
    ("print g_unknown;", "g_unknown = e(9)"),
    ("print g_big;", "g_big = big::BIG(4000000000)"),
    ("print g_anon;", "g_anon = anon_e::ANON_B(2)"),
    // Enums read through a pointer are wrapped in the enum's own name.
    ("print *g_ep;", "*g_ep = e(e::POS(7))"),
    ("print *g_cep;", "*g_cep = e(e::POS(7))"),
    ("print *g_vep;", "*g_vep = e(e::POS(7))"),
    ("print *g_tep;", "*g_tep = e(e::POS(7))"),
    ("print *g_anonp;", "*g_anonp = anon_e(anon_e::ANON_B(2))"),
    ("print *g_unkp;", "*g_unkp = e(e(9))"),
    // Arrays of enums: elements by value.
    ("print g_enums;", "g_enums = [e::NEG(-3), e::POS(7), e(9)]"),
    // Pointer suffixes use the pointee's display name (§3.4, §3.9).
    ("print g_s;", "g_s = 0xADDR (char*)"),
    ("print g_w;", "g_w = 0xADDR (char*)"),
    ("print g_np;", "g_np = 0xADDR (node*)"),
    ("print g_tp;", "g_tp = 0xADDR (node*)"),
    ("print g_cnp;", "g_cnp = 0xADDR (node*)"),
    ("print g_nptr;", "g_nptr = 0xADDR (node*)"),
    ("print g_nul;", "g_nul = NULL (node*)"),
    ("print g_up;", "g_up = 0xADDR (u*)"),
    ("print g_utp;", "g_utp = 0xADDR (u*)"),
    ("print g_ep;", "g_ep = 0xADDR (e*)"),
    ("print g_tep;", "g_tep = 0xADDR (e*)"),
    ("print g_bp;", "g_bp = 0xADDR (unsigned char*)"),
    ("print arr;", "arr = 0xADDR (int*)"),
    ("print g_ulp;", "g_ulp = 0xADDR (long unsigned int*)"),
    // Pointers to pointers, functions and arrays show (void*) ...
    ("print g_ipp;", "g_ipp = 0xADDR (void*)"),
    ("print g_f;", "g_f = 0xADDR (void*)"),
    ("print g_ft;", "g_ft = 0xADDR (void*)"),
    ("print g_pa;", "g_pa = 0xADDR (void*)"),
    ("print g_vp;", "g_vp = 0xADDR (void*)"),
    ("print g_cvp;", "g_cvp = 0xADDR (void*)"),
    // ... unless a typedef names the pointee: `ip_t *`, `fn_t *`.
    ("print g_iptp;", "g_iptp = 0xADDR (ip_t*)"),
    ("print g_ftp;", "g_ftp = 0xADDR (fn_t*)"),
    // A pointer to an anonymous struct has no name to show.
    ("print g_anon_objp;", "g_anon_objp = 0xADDR (void*)"),
    // Arrays of pointers, _Bool and pid_t typedefs.
    ("print g_parr;", "g_parr = [0xADDR (node*), NULL (node*)]"),
    ("print g_flag;", "g_flag = true"),
    ("print g_pid;", "g_pid = 18635"),
    // Typedefs of named structs use the struct's name; of anonymous ones, the typedef's.
    ("print *g_ct;", "*g_ct = crate { w: 11, h: 4 }"),
    ("print g_crate;", "g_crate = crate { w: 11, h: 4 }"),
    ("print g_anonrec;", "g_anonrec = anonrec_t { k: 12 }"),
    ("print g_anonrec2;", "g_anonrec2 = anonrec2_t { k: 13 }"),
    ("print *g_arp;", "*g_arp = anonrec_t { k: 12 }"),
    ("print g_arp;", "g_arp = 0xADDR (anonrec_t*)"),
    ("print g_au;", "g_au = union anon_u_t { raw = 5 }"),
    ("print g_un;", "g_un = union u { i = 258 }"),
    // Anonymous members are member_<index>; enum bitfields show the variant alone.
    (
        "print g_gad;",
        r#"g_gad = gadget { id: 11, nm: "bob", kind: e_t::POS(7), kinds: [e::NEG(-3), e::POS(7)], emode: POS, small: 5, flag: true, cv: 3, member_8: union <anon_union> { raw = 1572903 }, pos: <anon_struct> { x: 1, y: -1 }, peer: 0xADDR (node*), cb: 0xADDR (void*), op: 0xADDR (void*), label: 0xADDR (char*), owner: 18635, rec: anonrec_t { k: 12 }, cr: crate { w: 11, h: 4 }, un: union u { i = 258 }, code: 250, ep: 0xADDR (e*) }"#,
    ),
    (
        "print g_gad.member_8;",
        "g_gad.member_8 = union <anon_union> { raw = 1572903 }",
    ),
    (
        "print g_gad.member_8.halves;",
        "g_gad.member_8.halves = <anon_struct> { lo: 39, hi: 24 }",
    ),
    ("print g_gad.halves.hi;", "g_gad.halves.hi = 24"),
    ("print g_gad.emode;", "g_gad.emode = POS"),
    (
        "print g_gad.pos;",
        "g_gad.pos = <anon_struct> { x: 1, y: -1 }",
    ),
    ("print *g_gad.ep;", "*g_gad.ep = e(e::POS(7))"),
    ("print g_gad.ep;", "g_gad.ep = 0xADDR (e*)"),
    (
        "print g_nul.v;",
        "g_nul.v = <error: null pointer dereference> (int*)",
    ),
    (
        "print *g_nul;",
        "*g_nul = <error: null pointer dereference> (node*)",
    ),
    // Failure markers keep pointer levels (§4); dumps name their bytes u8.
    (
        "print g_nul.next;",
        "g_nul.next = <error: null pointer dereference> (node**)",
    ),
    (
        "print *g_tnul;",
        "*g_tnul = <error: null pointer dereference> (node*)",
    ),
    // A member read through NULL keeps the spelling of its declared type.
    (
        "print g_gnull.kind;",
        "g_gnull.kind = <error: null pointer dereference> (e_t*)",
    ),
    (
        "print g_gnull.code;",
        "g_gnull.code = <error: null pointer dereference> (uint8_t*)",
    ),
    (
        "print g_gnull.cr;",
        "g_gnull.cr = <error: null pointer dereference> (crate_t*)",
    ),
    (
        "print g_gnull.pos;",
        "g_gnull.pos = <error: null pointer dereference> (struct <anon_struct>*)",
    ),
    (
        r#"print "peer={}", g_sess_null.peer;"#,
        "peer=<error: null pointer dereference> (peer**)",
    ),
    (
        "print *g_sessp.peer;",
        "*g_sessp.peer = <error: null pointer dereference> (peer*)",
    ),
    (
        r#"print "{:x.4}", g_nul;"#,
        "<error: null pointer dereference> (u8*)",
    ),
    ("print &g_np.v;", "0xADDR (int*)"),
    ("print &g_np.next;", "0xADDR (node**)"),
    // The address of a value prints alone (script-language §4.1).
    ("print &g_gad;", "0xADDR (struct gadget*)"),
    ("print &g_shelf[1];", "0xADDR (struct parcel*)"),
    ("print &g_gad.cr;", "0xADDR (crate_t*)"),
    ("print &g_gad.pos;", "0xADDR (struct <anon_struct>*)"),
    ("print np;", "np = 0xADDR (node*)"),
    ("print t;", "t = e_t::POS(7)"),
    // Parameters and members reached through a parameter.
    ("print a;", "a = -9"),
    ("print s;", "s = 0xADDR (char*)"),
    ("print gp.kind;", "gp.kind = e_t::POS(7)"),
    ("print *gp.ep;", "*gp.ep = e(e::POS(7))"),
    ("print g_vi;", "g_vi = 5"),
];

#[test]
fn every_value_renders_as_the_reference_prints_it() {
    let script = format!(
        "trace render_probe {{\n{}\n}}",
        CASES
            .iter()
            .map(|(stmt, _)| *stmt)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for flags in [&["-g", "-O0"][..], &["-g", "-O2"][..]] {
        let f = Fixture::start(&build_fixture("render", "gcc", flags));
        let run = trace_events(f.pid(), &script, 1, &["--script-output", "plain"]);
        assert_eq!(run.code(), 0, "{flags:?}: {}", run.stderr);
        let lines: Vec<String> = run.events().iter().map(|l| mask_addresses(l)).collect();
        assert_eq!(lines.len(), CASES.len(), "{flags:?}: {}", run.out());
        for ((stmt, expected), line) in CASES.iter().zip(&lines) {
            assert_eq!(line, expected, "{flags:?}: {stmt}");
        }
    }
}
