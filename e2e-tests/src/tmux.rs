//! Driving the TUI in a real terminal: a detached tmux session of fixed
//! size runs ghostscope; tests send keys and read the screen back.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ghostscope_bin;

/// Marker the pane's shell prints with ghostscope's exit status, on the
/// normal screen once the TUI has left the alternate one.
pub const EXIT_MARK: &str = "GS_EXIT=";

/// A detached tmux session running ghostscope, killed when dropped so a
/// failing test never leaves a TUI running.
pub struct TmuxTui {
    /// The session name, unique per test.
    pub name: String,
}

impl TmuxTui {
    /// Starts `ghostscope ARGS` in a 200x50 session named `name`, in `dir`.
    /// When ghostscope ends, the shell prints `GS_EXIT=<status>` and waits.
    pub fn start(name: &str, args: &[&str], dir: &Path) -> TmuxTui {
        let name = format!("{name}-{}", std::process::id());
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &name])
            .output();
        let cmd = format!(
            "{} {}; echo {EXIT_MARK}$?; exec sleep 600",
            ghostscope_bin().display(),
            args.join(" ")
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                "-c",
            ])
            .arg(dir)
            .arg(cmd)
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        TmuxTui { name }
    }

    /// Sends tmux key names or literal text (`Enter`, `C-s`, `trace f`); a
    /// trailing `;` must be written `\;`.
    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// The text the pane shows now.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `done` holds or `timeout` passes; returns the
    /// last screen and whether it held.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&str) -> bool) -> (String, bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return (screen, true);
            }
            if Instant::now() > deadline {
                return (screen, false);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen contains `text`; panics with the screen if not.
    pub fn expect(&self, text: &str, timeout: Duration) -> String {
        let (screen, ok) = self.wait_for(timeout, |s| s.contains(text));
        assert!(ok, "screen never showed {text:?}:\n{screen}");
        screen
    }

    /// The ghostscope process: the child of the pane's shell, if running.
    pub fn ghostscope_pid(&self) -> Option<u32> {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{pane_pid}"])
            .output()
            .ok()?;
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).ok()?;
        children
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .find(|&p: &u32| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "ghostscope")
            })
    }

    /// Kills the tmux session (the terminal goes away: SIGHUP, EIO on reads).
    pub fn kill(&self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .output();
    }
}

impl Drop for TmuxTui {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The ids of the BPF programs process `pid` holds open, from its fdinfo.
pub fn bpf_prog_ids(pid: u32) -> Vec<u32> {
    let mut ids = Vec::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return ids;
    };
    for entry in dir.flatten() {
        let Ok(info) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        if let Some(id) = info
            .lines()
            .find_map(|l| l.strip_prefix("prog_id:"))
            .and_then(|v| v.trim().parse().ok())
        {
            ids.push(id);
        }
    }
    ids
}

/// Whether a BPF program with this id is still loaded in the kernel.
pub fn bpf_prog_loaded(id: u32) -> bool {
    Command::new("bpftool")
        .args(["prog", "show", "id", &id.to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}
