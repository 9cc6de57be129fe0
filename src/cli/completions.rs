//! `cursorctl completions`: print a shell completion script.

use std::io::{self, Write};

use clap_complete::Shell;

use super::error::{CliResult, OutputError};

/// Print the completion script for a shell
///
/// The same scripts are in the repository's completions/ folder: they
/// complete commands, options and their values. To complete consumer names
/// and partition keys from the store as well (bash, zsh and fish), let the
/// shell ask cursorctl itself: `source <(COMPLETE=bash cursorctl)` in
/// ~/.bashrc (zsh: `COMPLETE=zsh`; fish: `COMPLETE=fish cursorctl |
/// source`). It reads the store --db or CURSORCTL_DB names, and gives up
/// after half a second on a slow or missing store.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl completions bash > ~/.local/share/bash-completion/completions/cursorctl
  cursorctl completions zsh > ~/.zfunc/_cursorctl
  cursorctl completions fish > ~/.config/fish/completions/cursorctl.fish
  echo 'source <(COMPLETE=bash cursorctl)' >> ~/.bashrc      completion from the store")]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &Args, cmd: &mut clap::Command) -> CliResult<()> {
    // Generated into memory first: the generator panics on a failed write,
    // and a closed pipe or a full disk is an outcome like any other here.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, cmd, "cursorctl", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(OutputError)?;
    Ok(())
}
