//! `cursorctl`: inspect and repair the durable read positions of consumers.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
