//! `cursorctl man`: write the man pages (hidden; the pages are committed in
//! docs/man/).

use std::path::PathBuf;

/// Write man pages for cursorctl and every command into a folder
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to write cursorctl.1 and cursorctl-COMMAND.1 into
    #[arg(long, value_name = "DIR", default_value = "docs/man")]
    pub out_dir: PathBuf,
}

pub fn run(args: &Args, cmd: clap::Command) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out_dir)?;
    clap_mangen::generate_to(cmd, &args.out_dir)?;
    Ok(())
}
