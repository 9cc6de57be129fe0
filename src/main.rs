//! `cursorctl`: inspect and repair the durable read positions of consumers.
//!
//! On Linux with glibc the standard runtime's start-up is skipped
//! (`no_main`): it reads `/proc/self/maps` to find the main thread's stack,
//! which costs more than a `get` does (docs/performance.md, "What each
//! optimisation bought"). What it did that matters here (ignore SIGPIPE, so
//! that a closed pipe is an error and not death) is done in `cli::main`, and
//! stdout is flushed here, as the runtime would at exit. Only glibc hands
//! the arguments to the standard library before `main` (through
//! `.init_array`); on any other target (musl among them) the arguments
//! would be empty without the runtime's start-up, so the normal `fn main`
//! is used there.
//!
//! SQLite's memory statistics are turned off before its first use: nothing
//! reads them, and keeping them costs a lock and a counter update on every
//! allocation.
#![cfg_attr(all(not(test), target_os = "linux", target_env = "gnu"), no_main)]

mod cli;

/// The process's entry point, called by glibc's start-up code with the
/// command line.
#[cfg(all(not(test), target_os = "linux", target_env = "gnu"))]
#[no_mangle]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: glibc calls `main` with `argv` pointing at `argc` valid
    // NUL-terminated strings (followed by a null pointer) that live until
    // the process exits; nothing writes them.
    let args = unsafe { arguments(argc, argv) };
    // SAFETY: first thing in the process: no other thread exists yet and
    // no SQLite connection has been opened.
    unsafe { cursorctl::store::prepare_one_shot_process() };
    let code = cli::main(args);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    libc::c_int::from(code)
}

/// The command line as C's `main` receives it.
///
/// # Safety
///
/// `argv` must point at `argc` pointers to NUL-terminated strings that
/// live as long as the process.
#[cfg(all(not(test), target_os = "linux", target_env = "gnu"))]
unsafe fn arguments(
    argc: libc::c_int,
    argv: *const *const libc::c_char,
) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStrExt;
    let count = usize::try_from(argc).unwrap_or(0);
    (0..count)
        .map(|i| {
            // SAFETY: `i < argc`, and each of those pointers is a valid C
            // string (the caller's contract).
            let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
            std::ffi::OsStr::from_bytes(arg.to_bytes()).to_owned()
        })
        .collect()
}

/// Everywhere else, and in test builds (whose harness provides `main`),
/// the standard runtime starts the process.
#[cfg(any(test, not(all(target_os = "linux", target_env = "gnu"))))]
fn main() -> std::process::ExitCode {
    // SAFETY: first thing in `main`: no other thread exists yet and no
    // SQLite connection has been opened.
    unsafe { cursorctl::store::prepare_one_shot_process() };
    std::process::ExitCode::from(cli::main(std::env::args_os().collect()))
}
