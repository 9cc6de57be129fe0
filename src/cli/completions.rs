//! `cursorctl completions`: print a shell completion script.

use std::io;

use clap_complete::Shell;

/// Print the completion script for a shell
///
/// The same scripts are in the repository's completions/ folder.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  cursorctl completions bash > ~/.local/share/bash-completion/completions/cursorctl
  cursorctl completions zsh > ~/.zfunc/_cursorctl
  cursorctl completions fish > ~/.config/fish/completions/cursorctl.fish")]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &Args, cmd: &mut clap::Command) -> anyhow::Result<()> {
    clap_complete::generate(args.shell, cmd, "cursorctl", &mut io::stdout());
    Ok(())
}
