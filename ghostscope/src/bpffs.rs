//! `ghostscope bpffs prune` (cli.md §10): cleans up the per-instance pin
//! directories `/sys/fs/bpf/ghostscope/<pid>-<starttime>/` that crashed
//! instances of tools of this name left behind.
//!
//! ghostscope itself pins nothing (its maps live only as long as its file
//! descriptors), but the directories other tools left must still be found
//! and removed exactly as the spec says.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;

/// Where instance directories live.
const ROOT: &str = "/sys/fs/bpf/ghostscope";

/// `ghostscope bpffs prune` options.
#[derive(Debug, Parser)]
#[command(
    name = "ghostscope bpffs prune",
    about = "Remove stale ghostscope pin directories under /sys/fs/bpf/ghostscope"
)]
pub struct PruneArgs {
    /// List what would be removed; remove nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Remove exactly this directory (PID-STARTTIME).
    #[arg(long = "instance", value_name = "PID-STARTTIME")]
    pub instance: Option<String>,
    /// Remove every instance directory, live ones too (needs --force).
    #[arg(long = "all")]
    pub all: bool,
    /// Confirms --all.
    #[arg(long = "force")]
    pub force: bool,
    /// Machine-readable output.
    #[arg(long = "json")]
    pub json: bool,
}

/// Whether the command line is the maintenance subcommand: `bpffs prune`
/// as the first two words (anything else after `bpffs` is a program name).
pub fn is_prune(args: &[String]) -> bool {
    args.get(1).map(String::as_str) == Some("bpffs")
        && args.get(2).map(String::as_str) == Some("prune")
}

/// One `<pid>-<starttime>` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instance {
    path: PathBuf,
    pid: u32,
    starttime: u64,
}

/// What prune decided for one directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The owner process is gone.
    OwnerDead,
    /// The PID is alive but belongs to a later process.
    Restarted,
    /// The owner is alive: kept, unless `--all` or `--instance`.
    Live,
}

impl Verdict {
    fn reason(self, i: &Instance) -> String {
        match self {
            Verdict::OwnerDead => format!("owner pid {} is not running", i.pid),
            Verdict::Restarted => format!(
                "pid {} now belongs to a later process, whose start time is not {}",
                i.pid, i.starttime
            ),
            Verdict::Live => format!("owner pid {} is running", i.pid),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verdict::OwnerDead => "owner_dead",
            Verdict::Restarted => "pid_reused",
            Verdict::Live => "live",
        }
    }
}

/// Runs the subcommand; `args` are the words after `bpffs prune`.
pub fn run(args: &[String]) -> Result<u8> {
    let mut argv = vec!["ghostscope bpffs prune".to_string()];
    argv.extend_from_slice(args);
    let a = PruneArgs::parse_from(argv);
    if a.all && a.instance.is_some() {
        bail!("--all and --instance cannot be used together");
    }
    if a.force && !a.all {
        bail!("--force is only valid together with --all");
    }
    if a.all && !a.force && !a.dry_run {
        bail!("--all requires --force because it removes live pid-starttime directories");
    }
    let wanted = match &a.instance {
        Some(text) => Some(parse_instance_name(text).ok_or_else(|| {
            anyhow::anyhow!("--instance must use pid-starttime format, for example 1234-567890")
        })?),
        None => None,
    };
    let root = Path::new(ROOT);
    let instances = list_instances(root)?;
    let mut rows: Vec<Row> = Vec::new();
    if let Some((pid, starttime)) = wanted {
        let Some(i) = instances
            .iter()
            .find(|i| i.pid == pid && i.starttime == starttime)
        else {
            bail!("no instance directory {}/{pid}-{starttime}", root.display());
        };
        rows.push(Row::decide(i.clone(), verdict(i), true, a.dry_run));
    } else {
        for i in instances {
            let v = verdict(&i);
            let remove = a.all || v != Verdict::Live;
            rows.push(Row::decide(i, v, remove, a.dry_run));
        }
    }
    let failed = rows.iter().any(|r| r.error.is_some());
    if a.json {
        println!("{}", json_report(root, a.dry_run, &rows));
    } else {
        print!("{}", text_report(root, a.dry_run, &rows));
    }
    Ok(if failed { 1 } else { 0 })
}

/// One directory and what happened to it.
struct Row {
    instance: Instance,
    verdict: Verdict,
    action: Action,
    error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Removed,
    WouldRemove,
    Kept,
    Failed,
}

impl Row {
    fn decide(instance: Instance, verdict: Verdict, remove: bool, dry_run: bool) -> Row {
        let (action, error) = match (remove, dry_run) {
            (false, _) => (Action::Kept, None),
            (true, true) => (Action::WouldRemove, None),
            (true, false) => match remove_dir(&instance.path) {
                Ok(()) => (Action::Removed, None),
                Err(e) => (Action::Failed, Some(format!("{e:#}"))),
            },
        };
        Row {
            instance,
            verdict,
            action,
            error,
        }
    }
}

fn text_report(root: &Path, dry_run: bool, rows: &[Row]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(&format!(
            "No instance directories under {}\n",
            root.display()
        ));
        return out;
    }
    for r in rows {
        let path = r.instance.path.display();
        let reason = r.verdict.reason(&r.instance);
        match r.action {
            Action::Removed => out.push_str(&format!("removed {path}: {reason}\n")),
            Action::WouldRemove => out.push_str(&format!("would remove {path}: {reason}\n")),
            Action::Kept => out.push_str(&format!("kept {path}: {reason}\n")),
            Action::Failed => out.push_str(&format!(
                "failed to remove {path}: {}\n",
                r.error.as_deref().unwrap_or("unknown error")
            )),
        }
    }
    let count = |a: Action| rows.iter().filter(|r| r.action == a).count();
    if dry_run {
        out.push_str(&format!(
            "Dry run: {} of {} instance director{} would be removed\n",
            count(Action::WouldRemove),
            rows.len(),
            if rows.len() == 1 { "y" } else { "ies" }
        ));
    } else {
        out.push_str(&format!(
            "Removed {} of {} instance director{}\n",
            count(Action::Removed),
            rows.len(),
            if rows.len() == 1 { "y" } else { "ies" }
        ));
    }
    out
}

fn json_report(root: &Path, dry_run: bool, rows: &[Row]) -> String {
    let entries: Vec<String> = rows
        .iter()
        .map(|r| {
            let action = match r.action {
                Action::Removed => "removed",
                Action::WouldRemove => "would_remove",
                Action::Kept => "kept",
                Action::Failed => "failed",
            };
            let error = match &r.error {
                Some(e) => json_string(e),
                None => "null".to_string(),
            };
            format!(
                "{{\"path\":{},\"pid\":{},\"starttime\":{},\"state\":\"{}\",\"action\":\"{action}\",\"error\":{error}}}",
                json_string(&r.instance.path.to_string_lossy()),
                r.instance.pid,
                r.instance.starttime,
                r.verdict.name()
            )
        })
        .collect();
    format!(
        "{{\"root\":{},\"dry_run\":{dry_run},\"instances\":[{}]}}",
        json_string(&root.to_string_lossy()),
        entries.join(",")
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `PID-STARTTIME` → numbers.
fn parse_instance_name(name: &str) -> Option<(u32, u64)> {
    let (pid, start) = name.split_once('-')?;
    if pid.is_empty() || start.is_empty() {
        return None;
    }
    if !pid.bytes().all(|b| b.is_ascii_digit()) || !start.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((pid.parse().ok()?, start.parse().ok()?))
}

/// The `<pid>-<starttime>` directories under `root`; all-numeric legacy
/// names and anything else are ignored. A missing root has none.
fn list_instances(root: &Path) -> Result<Vec<Instance>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("failed to read {}", root.display())),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((pid, starttime)) = parse_instance_name(&name) {
            out.push(Instance {
                path: entry.path(),
                pid,
                starttime,
            });
        }
    }
    out.sort_by_key(|i| (i.pid, i.starttime));
    Ok(out)
}

/// Start time of a running process (field 22 of `/proc/<pid>/stat`).
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

fn verdict(i: &Instance) -> Verdict {
    match process_start_time(i.pid) {
        None => Verdict::OwnerDead,
        Some(t) if t != i.starttime => Verdict::Restarted,
        Some(_) => Verdict::Live,
    }
}

/// Unpins everything in an instance directory, then removes it.
fn remove_dir(path: &Path) -> Result<()> {
    for entry in
        std::fs::read_dir(path).with_context(|| format!("failed to read {}", path.display()))?
    {
        let entry = entry?;
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            remove_dir(&p)?;
        } else {
            std::fs::remove_file(&p).with_context(|| format!("failed to unpin {}", p.display()))?;
        }
    }
    std::fs::remove_dir(path).with_context(|| format!("failed to remove {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names() {
        assert_eq!(parse_instance_name("1234-567890"), Some((1234, 567890)));
        assert_eq!(parse_instance_name("1234"), None);
        assert_eq!(parse_instance_name("12a-3"), None);
        assert_eq!(parse_instance_name("-3"), None);
        assert_eq!(parse_instance_name("1-2-3"), None);
    }

    #[test]
    fn our_own_start_time_is_readable() {
        let me = std::process::id();
        let t = process_start_time(me).expect("own stat");
        let i = Instance {
            path: PathBuf::from("/x"),
            pid: me,
            starttime: t,
        };
        assert_eq!(verdict(&i), Verdict::Live);
        assert_eq!(
            verdict(&Instance {
                starttime: t + 1,
                ..i.clone()
            }),
            Verdict::Restarted
        );
    }

    #[test]
    fn prune_is_the_first_two_words_only() {
        let v = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert!(is_prune(&v("ghostscope bpffs prune --dry-run")));
        assert!(!is_prune(&v("ghostscope bpffs ls")));
        assert!(!is_prune(&v("ghostscope -p 1 bpffs prune")));
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
