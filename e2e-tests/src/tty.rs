//! Running ghostscope with its stderr on a pseudo-terminal, as a user at a
//! terminal sees it: the interactive status lines appear only there.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::io::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ghostscope_bin, Run};

/// Runs ghostscope to completion with stdout piped and stderr on a new
/// pseudo-terminal. `Run::stderr` is what the terminal received, with the
/// terminal's `\r\n` turned back into `\n` (a bare `\r` is kept).
pub fn ghostscope_on_tty(args: &[&str]) -> Run {
    let (master, slave) = open_pty();
    let mut child = {
        let mut command = Command::new(ghostscope_bin());
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave));
        command.spawn().expect("ghostscope starts")
        // The command, and with it our copy of the slave, is dropped here.
    };
    let mut stdout = child.stdout.take().unwrap();
    let stdout = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        s
    });
    let mut master = master;
    let mut terminal = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let exited = child.try_wait().expect("wait works");
        // Read what is there; once the child has exited, until nothing more comes.
        let timeout = if exited.is_some() { 100 } else { 20 };
        if readable(&master, timeout) {
            let mut chunk = [0u8; 4096];
            match master.read(&mut chunk) {
                Ok(n) if n > 0 => {
                    terminal.extend_from_slice(&chunk[..n]);
                    continue;
                }
                // EIO: every writer of the terminal is gone.
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        if let Some(status) = exited {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    Run {
        stdout: String::from_utf8_lossy(&stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        stderr: String::from_utf8_lossy(&terminal).replace("\r\n", "\n"),
        status,
    }
}

/// The lines a terminal finally shows: a line rewritten with `\r` keeps only
/// its last version, without the blanks that erased a longer one.
pub fn screen_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.rsplit('\r').next().unwrap_or("").trim_end().to_string())
        .collect()
}

fn open_pty() -> (File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the out-parameters; the
    // name, termios and window-size arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    for fd in [master, slave] {
        // Processes other tests start must not inherit the terminal: the
        // reader would never see its last writer go.
        // SAFETY: fcntl on descriptors we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: openpty returned two fresh descriptors that nothing else owns.
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

fn readable(f: &File, timeout_ms: i32) -> bool {
    let mut fds = libc::pollfd {
        fd: f.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut fds, 1, timeout_ms) };
    n > 0 && fds.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
}

/// Status text with the timings that vary from run to run masked: a dimmed
/// duration (`ESC[2m0.4sESC[0m`) becomes `ESC[2m#sESC[0m`, and the
/// milliseconds column of `module details:` (` types    12ms  `) becomes
/// ` types #ms  `.
pub fn mask_timings(text: &str) -> String {
    const DIM: &str = "\x1b[2m";
    const RESET: &str = "\x1b[0m";
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(DIM) {
        out.push_str(&rest[..i + DIM.len()]);
        rest = &rest[i + DIM.len()..];
        let Some(end) = rest.find(RESET) else { break };
        let inner = &rest[..end];
        let is_duration = inner.ends_with('s')
            && inner.len() > 1
            && inner[..inner.len() - 1]
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == 'm');
        out.push_str(if is_duration { "#s" } else { inner });
        rest = &rest[end..];
    }
    out.push_str(rest);
    let mut masked = String::new();
    for line in out.split_inclusive('\n') {
        match (line.find(" types "), line.find("ms  ")) {
            (Some(t), Some(m)) if m > t + 7 => {
                let field = &line[t + 7..m];
                if field.trim_start().chars().all(|c| c.is_ascii_digit()) {
                    masked.push_str(&line[..t + 7]);
                    masked.push('#');
                    masked.push_str(&line[m..]);
                    continue;
                }
                masked.push_str(line);
            }
            _ => masked.push_str(line),
        }
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_are_masked() {
        assert_eq!(
            mask_timings(
                "\x1b[2m0.4s\x1b[0m | \x1b[2mtarget=/a\x1b[0m\n  x     4 types    12ms  /a\n"
            ),
            "\x1b[2m#s\x1b[0m | \x1b[2mtarget=/a\x1b[0m\n  x     4 types #ms  /a\n"
        );
        assert_eq!(mask_timings("\x1b[2m1m2.5s\x1b[0m"), "\x1b[2m#s\x1b[0m");
    }

    #[test]
    fn rewritten_lines_keep_their_last_version() {
        assert_eq!(
            screen_lines("\rprogress 1\rprogress 2\rdone    \nnext\n"),
            ["done", "next"]
        );
    }
}
