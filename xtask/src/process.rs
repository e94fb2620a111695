//! Running commands and child processes.

use anyhow::{Context, bail};
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// Runs `cargo ARGS` in the workspace and fails when it does.
pub fn cargo(args: &[&str]) -> anyhow::Result<()> {
    run(&mut cargo_command(args))
}

/// `cargo ARGS`, the same cargo that runs xtask, to run later.
pub fn cargo_command(args: &[&str]) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.args(args);
    command
}

/// The same command at the lowest CPU priority (`nice -n 19`) where `nice` exists, as it is.
pub fn lowest_priority(command: Command) -> Command {
    let has_nice = Command::new("nice")
        .arg("true")
        .status()
        .is_ok_and(|status| status.success());
    if !has_nice {
        return command;
    }
    let mut niced = Command::new("nice");
    niced
        .args(["-n", "19"])
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => niced.env(name, value),
            None => niced.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        niced.current_dir(dir);
    }
    niced
}

pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let shown = shown(command);
    let status = command.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// The program and its arguments, for messages; never the environment, which may carry secrets
/// (the demo passes gitlab-sim's tokens and OAuth secret to the server that way).
pub fn shown(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the server in the foreground until it exits (Ctrl-C stops both).
pub fn run_foreground(binary: &Path, args: &[String]) -> anyhow::Result<()> {
    run(Command::new(binary).args(args))
}

/// Starts a `token-inventory serve` and waits until it prints where it listens ("Token Inventory
/// is running at URL"); its output is read here for its whole life (printed when `echo`). Returns
/// the server (killed when dropped) and that URL.
pub fn start_server(command: &mut Command, echo: bool, within: Duration) -> anyhow::Result<(KillOnDrop, String)> {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", shown(command)))?;
    let stdout = child.stdout.take().context("no stdout from the server")?;
    let guard = KillOnDrop(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if echo {
                println!("{line}");
            }
            if let Some(url) = line.strip_prefix("Token Inventory is running at ") {
                let _ = tx.send(url.trim_end_matches('/').to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(within)
        .with_context(|| format!("the server did not say where it listens within {} s", within.as_secs()))?;
    Ok((guard, url))
}

/// A child process that is killed when dropped, so a failed step never leaves a server behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_without_their_environment() {
        let mut command = Command::new("token-inventory");
        command.arg("serve").env("OAUTH_CLIENT_SECRET", "s3cret");
        assert_eq!(shown(&command), "token-inventory serve");
    }
}
