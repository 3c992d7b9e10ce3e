//! The configuration file: search order, errors and their exit code.

use std::process::Command;

use e2e_tests::{ghostscope, ghostscope_bin, Run};

const TIPS: &str = "\n\n💡 Tips:\n  • Check the example config.toml in the project root\n  • Verify TOML syntax is correct\n  • Ensure all values use the correct format\n";

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gs-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_missing_explicit_file_is_a_configuration_error() {
    let run = ghostscope(&[
        "--config",
        "/nonexistent/gs.toml",
        "-p",
        "1",
        "-s",
        "trace main { print 1; }",
    ]);
    assert_eq!(run.code(), 1);
    assert_eq!(
        run.stderr,
        format!("❌ Configuration Error:\nSpecified configuration file does not exist: /nonexistent/gs.toml{TIPS}")
    );
}

#[test]
fn an_invalid_value_stops_startup_before_anything_else() {
    let dir = scratch("invalid");
    let file = dir.join("gs.toml");
    std::fs::write(&file, "[ebpf]\nringbuf_size = 5000\n").unwrap();
    // A PID that does not exist: the config error must come first (cli.md §12).
    let run = ghostscope(&[
        "--config",
        file.to_str().unwrap(),
        "-p",
        "999999",
        "-s",
        "trace main { print 1; }",
    ]);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr.starts_with(&format!(
            "❌ Configuration Error:\n❌ Invalid eBPF configuration in '{}':\nringbuf_size must be a power of 2, got 5000\n\n💡 ",
            file.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with(TIPS), "{}", run.stderr);
}

#[test]
fn the_home_file_is_found_and_parse_errors_name_the_line() {
    let home = scratch("home");
    std::fs::create_dir_all(home.join(".ghostscope")).unwrap();
    let file = home.join(".ghostscope/config.toml");
    std::fs::write(&file, "[general]\nlog_level = \"loud\"\n").unwrap();
    let out = Command::new(ghostscope_bin())
        .args(["-p", "999999", "-s", "trace main { print 1; }"])
        .env("HOME", &home)
        .current_dir(&home)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert_eq!(run.code(), 1);
    assert!(
        run.stderr.starts_with(&format!(
            "❌ Configuration Error:\nConfiguration file parsing error in '{}' at line 2, column 13:",
            file.display()
        )),
        "{}",
        run.stderr
    );
    // ./ghostscope.toml is only looked at when the home file is absent.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(
        home.join("ghostscope.toml"),
        "[ui]\nebpf_max_messages = 5\n",
    )
    .unwrap();
    let out = Command::new(ghostscope_bin())
        .args(["-p", "999999", "-s", "trace main { print 1; }"])
        .env("HOME", &home)
        .current_dir(&home)
        .output()
        .unwrap();
    let run = Run::from(out);
    assert!(
        run.stderr.contains(
            "❌ Invalid UI configuration in 'ghostscope.toml':\nebpf_max_messages 5 is too small"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn log_files_follow_the_flags() {
    let dir = scratch("log");
    let conf = dir.join("gs.toml");
    std::fs::write(&conf, "[general]\nlog_level = \"info\"\n").unwrap();
    let log = dir.join("trace.log");
    let base = [
        "--config",
        conf.to_str().unwrap(),
        "-p",
        "999999",
        "-s",
        "trace main { print 1; }",
    ];
    // Script mode logs nothing unless asked.
    let out = Command::new(ghostscope_bin())
        .args(base)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.join("ghostscope.log").exists(),
        "no default log in script mode"
    );
    // --log with --log-file writes there, at the config's level.
    let mut args = base.to_vec();
    args.extend(["--log", "--log-file", log.to_str().unwrap()]);
    let out = Command::new(ghostscope_bin())
        .args(&args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).expect("log file written");
    assert!(text.contains("configuration loaded from"), "{text}");
    // --no-log wins over --log.
    std::fs::remove_file(&log).unwrap();
    args.push("--no-log");
    Command::new(ghostscope_bin())
        .args(&args)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!log.exists(), "--no-log wins");
}
