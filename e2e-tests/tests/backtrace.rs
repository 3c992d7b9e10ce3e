//! `bt`: stacks unwound with DWARF CFI inside BPF, across a shared library,
//! at -O0, -O2 and -O2 -fomit-frame-pointer, checked against the call
//! chains the fixture knows (btchain.c) and against gdb.

use std::process::Command;

use e2e_tests::{build_btchain_app, trace_events, Fixture};

/// The fixture's depth-0 chain, innermost first: (function, parameters).
const CHAIN: [&str; 5] = [
    "bt_leaf(job* jb)",
    "lib_mid(job* jb, void* cb)",
    "lib_entry(job* jb, void* cb)",
    "run_once(job* jb)",
    "main(int argc, void* argv)",
];

const LEVELS: [&[&str]; 3] = [
    &["-g", "-O0"],
    &["-g", "-O2"],
    &["-g", "-O2", "-fomit-frame-pointer"],
];

/// `#<i> <function>(<params>)` of each physical frame line.
fn physical_frames(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("  #") && !l.contains(".inline "))
        .map(|l| {
            let rest = l.trim_start().split_once(' ').unwrap().1;
            rest.split(" at ").next().unwrap().to_string()
        })
        .collect()
}

fn plain_backtrace(f: &Fixture, script: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--script-output", "plain"];
    args.extend_from_slice(extra);
    let run = trace_events(f.pid(), script, 1, &args);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    run.stdout
}

#[test]
fn frames_follow_the_call_chain_across_a_shared_library_at_every_level() {
    for flags in LEVELS {
        let app = build_btchain_app(flags);
        let exe = app.file_name().unwrap().to_string_lossy().into_owned();
        let f = Fixture::start(&app);
        let lines = plain_backtrace(&f, "trace bt_leaf { if jb.depth == 0 { bt; } }", &[]);
        let header = &lines[0];
        assert!(
            header.starts_with("backtrace: complete, ") && header.ends_with(" frames (max 128)"),
            "{flags:?}: {}",
            lines.join("\n")
        );
        let frames = physical_frames(&lines);
        assert_eq!(frames[..5], CHAIN, "{flags:?}: {}", lines.join("\n"));
        // Past main: libc's start code (named when libc's DWARF is installed,
        // as libc6-dbg does) and _start, which has CFI but no DWARF.
        assert!(
            frames[5..]
                .iter()
                .all(|f| f.starts_with("<unknown function>") || f.starts_with("__libc_start")),
            "{flags:?}: {}",
            lines.join("\n")
        );
        assert!(lines.iter().any(|l| l.contains("[libc.so.6+0x")));
        // Each frame names its module and module-relative PC.
        let lib = format!("[lib{exe}.so+0x");
        assert!(lines[1].contains(&format!("[{exe}+0x")), "{}", lines[1]);
        assert!(lines.iter().any(|l| l.contains(&lib)), "{lib}");
        // lib_stage is always inlined into lib_mid: its call site line comes first.
        let inline = lines
            .iter()
            .position(|l| l.starts_with("  #1.inline lib_stage at "))
            .unwrap_or_else(|| panic!("{flags:?}: {}", lines.join("\n")));
        assert!(
            lines[inline].contains("libbtchain.c:22:"),
            "{}",
            lines[inline]
        );
        assert!(lines[inline + 1].starts_with("  #1 lib_mid(job* jb, void* cb) at "));
        assert!(
            lines[inline + 1].contains("libbtchain.c:15:"),
            "the physical line shows the PC's own line: {}",
            lines[inline + 1]
        );
        assert!(!lines.iter().any(|l| l.starts_with("stopped:")));
    }
}

#[test]
fn recursion_is_truncated_at_the_depth_cap_and_complete_below_it() {
    let f = Fixture::start(&build_btchain_app(&["-g", "-O2", "-fomit-frame-pointer"]));
    let script = "trace bt_leaf { if jb.depth > 0 { bt; } }";
    let capped = plain_backtrace(&f, script, &["--backtrace-depth", "16"]);
    assert_eq!(capped[0], "backtrace: truncated, 16 frames (max 16)");
    assert_eq!(capped.last().unwrap(), "stopped: truncated");
    let frames = physical_frames(&capped);
    assert_eq!(frames.len(), 16);
    assert_eq!(frames[0], "bt_leaf(job* jb)");
    assert!(frames[1..].iter().all(|f| f == "recurse(job* jb, int n)"));

    // RECURSION = 40: 41 calls of recurse, then run_once, main and the start code.
    let full = plain_backtrace(&f, script, &[]);
    let frames = physical_frames(&full);
    assert!(full[0].starts_with("backtrace: complete, "), "{}", full[0]);
    assert_eq!(
        frames
            .iter()
            .filter(|f| *f == "recurse(job* jb, int n)")
            .count(),
        41
    );
    assert_eq!(
        frames[42..44],
        ["run_once(job* jb)", "main(int argc, void* argv)"]
    );
}

#[test]
fn raw_noinline_and_several_backtraces_in_one_block_in_pretty_output() {
    let app = build_btchain_app(&["-g", "-O2"]);
    let exe = app.file_name().unwrap().to_string_lossy().into_owned();
    let f = Fixture::start(&app);
    let script = "trace bt_leaf { if jb.depth == 0 { bt raw; print \"between\"; bt noinline; backtrace noinline inline; } }";
    let run = trace_events(f.pid(), script, 1, &[]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out[0].starts_with("TraceID:0 PID:"), "{}", out[0]);
    let blocks: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("  backtrace: "))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(blocks.len(), 3, "{}", out.join("\n"));
    let between = out.iter().position(|l| l == "  between").unwrap();
    assert!(blocks[0] < between && between < blocks[1]);

    // bt raw: `#i 0x<ip> [<module>+0x<pc>] raw=0x<ip> cookie=0x<16 hex>`, four spaces in pretty mode.
    let raw: Vec<&String> = out[blocks[0] + 1..between]
        .iter()
        .filter(|l| l.starts_with("    #"))
        .collect();
    assert!(raw.len() >= 5);
    for (i, line) in raw.iter().enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts[0], format!("#{i}"), "{line}");
        let ip = parts[1].strip_prefix("0x").unwrap();
        assert_eq!(parts[3], format!("raw=0x{ip}"), "{line}");
        let cookie = parts[4].strip_prefix("cookie=0x").unwrap();
        assert_eq!(cookie.len(), 16, "{line}");
        assert!(parts.len() == 5, "no flags with CFI everywhere: {line}");
        if let Some(pc) = parts[2].strip_prefix(&format!("[{exe}+0x")) {
            // The main executable is module 0: the cookie is its module-relative PC.
            let pc = u64::from_str_radix(pc.trim_end_matches(']'), 16).unwrap();
            assert_eq!(u64::from_str_radix(cookie, 16).unwrap(), pc, "{line}");
        }
    }
    assert!(!out.iter().any(|l| l.contains("raw=") && l.contains(" at ")));
    // noinline: no inline lines; `noinline inline`: the last wins.
    let noinline = &out[blocks[1]..blocks[2]];
    assert!(!noinline.iter().any(|l| l.contains(".inline")));
    assert!(noinline[1].starts_with("    #0 bt_leaf(job* jb) at "));
    assert!(out[blocks[2]..]
        .iter()
        .any(|l| l.starts_with("    #1.inline lib_stage at ")));
}

/// Frames #1.. hold return addresses; gdb's `bt` on the same call shows the same ones.
#[test]
fn return_addresses_match_gdb() {
    let app = build_btchain_app(&["-g", "-O2", "-fomit-frame-pointer"]);
    let f = Fixture::start(&app);
    let lines = plain_backtrace(&f, "trace bt_leaf { if jb.depth == 0 { bt raw; } }", &[]);
    let ours: Vec<u64> = lines[1..]
        .iter()
        .filter_map(|l| l.split(" raw=0x").nth(1))
        .map(|r| u64::from_str_radix(r.split(' ').next().unwrap(), 16).unwrap())
        .collect();
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-p", &f.pid().to_string()])
        .args(["-ex", "break bt_leaf if jb->depth == 0", "-ex", "continue"])
        .args(["-ex", "bt", "-ex", "delete", "-ex", "detach"])
        .output()
        .expect("gdb runs (assets/install-deps.sh installs it)");
    let text = String::from_utf8_lossy(&gdb.stdout);
    // `#1  0x000055d1c0a0b1ea in lib_mid (jb=..., cb=...) at ...`
    let theirs: Vec<(u64, String)> = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace().skip(1);
            let addr = it.next()?.strip_prefix("0x")?;
            let _in = it.next()?;
            Some((u64::from_str_radix(addr, 16).ok()?, it.next()?.to_string()))
        })
        .collect();
    assert!(theirs.len() >= 4, "gdb said:\n{text}");
    // gdb names a physical frame by its innermost inlined function, as our
    // `#1.inline lib_stage` line does before `#1 lib_mid`.
    let names: Vec<&str> = theirs[..4].iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        ["lib_stage", "lib_entry", "run_once", "main"],
        "{text}"
    );
    for (i, (addr, name)) in theirs[..4].iter().enumerate() {
        assert_eq!(ours[i + 1], *addr, "frame #{} ({name})", i + 1);
    }
}
