//! A program in a real terminal: a detached tmux session, driven with `send-keys` and read with
//! `capture-pane`, as a person would see it. Killed when dropped.

use std::{
    process::Command,
    time::{Duration, Instant},
};

pub struct Tmux {
    session: String,
}

impl Tmux {
    /// A detached `width`×`height` session named after `prefix`, running `command`.
    pub fn start(prefix: &str, width: u16, height: u16, command: &str) -> Self {
        let session = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let (width, height) = (width.to_string(), height.to_string());
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width,
                "-y",
                &height,
                command,
            ])
            .env("NO_COLOR", "1")
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success(), "tmux new-session");
        Self { session }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with up to `lines` lines of scrollback above it.
    pub fn history(&self, lines: u32) -> String {
        let start = format!("-{lines}");
        let out = Command::new("tmux")
            .args([
                "capture-pane",
                "-p",
                "-J",
                "-S",
                &start,
                "-t",
                &self.session,
            ])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &str) {
        Command::new("tmux")
            .args(["send-keys", "-t", &self.session, keys])
            .status()
            .expect("send-keys");
    }

    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.session])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Polls the screen until `ready` holds, for at most `within`.
    pub async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < within,
                "{what}: not on screen within {within:?}:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}
