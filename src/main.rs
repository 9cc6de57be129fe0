//! `cursorctl`: inspect and repair the durable read positions of consumers.
//!
//! The standard runtime's start-up is skipped (`no_main`): on Linux it
//! reads `/proc/self/maps` to find the main thread's stack, which costs more
//! than a `get` does. What it did that matters here (ignore SIGPIPE, so that
//! a closed pipe is an error and not death) is done in `cli::main`, and
//! stdout is flushed here, as the runtime would at exit.
//!
//! SQLite's memory statistics are turned off before its first use: nothing
//! reads them, and keeping them costs a lock and a counter update on every
//! allocation.
#![cfg_attr(not(test), no_main)]

mod cli;

#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    cursorctl::store::prepare_one_shot_process();
    let code = cli::main();
    let _ = std::io::Write::flush(&mut std::io::stdout());
    libc::c_int::from(code)
}

/// In test builds the harness provides `main`; this keeps `cli` reachable.
#[cfg(test)]
fn main() {
    std::process::exit(i32::from(cli::main()));
}
