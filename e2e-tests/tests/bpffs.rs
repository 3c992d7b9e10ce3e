//! `ghostscope bpffs prune` against real pin directories in a real bpffs,
//! with real pinned maps in them (made with bpftool).

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use e2e_tests::ghostscope;

const ROOT: &str = "/sys/fs/bpf/ghostscope";

/// Mounts bpffs at /sys/fs/bpf when it is not mounted yet (fresh machines).
fn ensure_bpffs() {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    if !mounts
        .lines()
        .any(|l| l.split(' ').nth(1) == Some("/sys/fs/bpf") && l.contains(" bpf "))
    {
        let ok = Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "mounting bpffs failed");
    }
}

fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(19).unwrap().parse().unwrap()
}

/// A PID no process has now.
fn dead_pid() -> u32 {
    (3_000_000..4_000_000)
        .step_by(7919)
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .unwrap()
}

/// An instance directory with one pinned map in it.
fn instance(name: &str) -> PathBuf {
    let dir = Path::new(ROOT).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let ok = Command::new("bpftool")
        .args(["map", "create"])
        .arg(dir.join("events"))
        .args([
            "type",
            "hash",
            "key",
            "4",
            "value",
            "4",
            "entries",
            "1",
            "name",
            "gs_prune_test",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "bpftool could not pin a map");
    dir
}

#[test]
fn prune_removes_exactly_what_the_spec_says() {
    ensure_bpffs();
    std::fs::create_dir_all(ROOT).unwrap();
    // Other checkouts of this test may run at the same time: take turns.
    let lock = std::fs::File::create("/tmp/ghostscope-bpffs-test.lock").unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);

    let me = std::process::id();
    let dead = instance(&format!("{}-12345", dead_pid()));
    let reused = instance(&format!("{me}-{}", start_time(me) + 1));
    let live = instance(&format!("{me}-{}", start_time(me)));
    let legacy = Path::new(ROOT).join(format!("{me}"));
    std::fs::create_dir_all(&legacy).unwrap();

    // Dry run: lists, removes nothing.
    let run = ghostscope(&["bpffs", "prune", "--dry-run"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let out = run.out();
    assert!(
        out.contains(&format!("would remove {}: owner pid", dead.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "would remove {}: pid {me} now belongs",
            reused.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "kept {}: owner pid {me} is running\n",
            live.display()
        )),
        "{out}"
    );
    assert!(
        !out.contains(&format!("{}:", legacy.display())),
        "legacy names are ignored: {out}"
    );
    assert!(dead.exists() && reused.exists() && live.exists());

    // JSON, parsed by a real parser.
    let run = ghostscope(&["bpffs", "prune", "--dry-run", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.out()).expect("valid JSON");
    assert_eq!(v["root"], ROOT);
    assert_eq!(v["dry_run"], true);
    let entry = |path: &Path| {
        v["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path.to_str().unwrap())
            .cloned()
            .unwrap_or_else(|| panic!("{path:?} missing in {v}"))
    };
    assert_eq!(entry(&dead)["action"], "would_remove");
    assert_eq!(entry(&dead)["state"], "owner_dead");
    assert_eq!(entry(&reused)["state"], "pid_reused");
    assert_eq!(entry(&live)["action"], "kept");
    assert_eq!(entry(&live)["pid"], me);

    // Default: stale directories only, pinned maps and all.
    let run = ghostscope(&["bpffs", "prune"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert!(!dead.exists() && !reused.exists(), "{}", run.out());
    assert!(live.exists() && legacy.exists());

    // --instance removes exactly that one, live or not.
    let name = live.file_name().unwrap().to_str().unwrap().to_string();
    let run = ghostscope(&["bpffs", "prune", "--instance", &name]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert!(!live.exists());

    // --all --force removes live ones too.
    let live = instance(&name);
    let run = ghostscope(&["bpffs", "prune", "--all", "--force"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    assert!(!live.exists());
    assert!(
        legacy.exists(),
        "all-numeric legacy directories are never touched"
    );
    std::fs::remove_dir(&legacy).unwrap();
}

#[test]
fn prune_usage_errors() {
    for (args, message) in [
        (
            &["--all", "--instance", "1-2"][..],
            "--all and --instance cannot be used together",
        ),
        (
            &["--all"][..],
            "--all requires --force because it removes live pid-starttime directories",
        ),
        (
            &["--force"][..],
            "--force is only valid together with --all",
        ),
        (
            &["--instance", "1234"][..],
            "--instance must use pid-starttime format, for example 1234-567890",
        ),
    ] {
        let mut a = vec!["bpffs", "prune"];
        a.extend_from_slice(args);
        let run = ghostscope(&a);
        assert_eq!(run.code(), 1, "{args:?}");
        assert_eq!(run.stderr, format!("Error: {message}\n"), "{args:?}");
    }
}
