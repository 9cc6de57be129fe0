//! Link the `cursorctl` binary statically on x86_64 and aarch64 Linux with
//! glibc, as a static position-independent executable.
//!
//! A one-shot command spends much of its time starting: the dynamic loader
//! maps libc, libm and libgcc_s and applies thousands of relocations.
//! Cargo's own switch for this (`-C target-feature=+crt-static`) would also
//! apply to the proc-macro crates unless a `--target` is given, which moves
//! the binary out of `target/release/`. Instead the binary alone is linked
//! with `-static-pie`, and a directory of this build's output is put first
//! on the library search path, holding the static archives under the names
//! the standard library asks for (`-lgcc_s` becomes `libgcc_eh.a`). The
//! library and the tests are linked as before. When the toolchain has no
//! static C library, nothing changes.
//!
//! Where the C library supports it, the relative relocations that the
//! static start-up applies (one for every pointer in the binary's data) are
//! packed (`-z pack-relative-relocs`, DT_RELR): a bitmap read at start-up
//! instead of a 24-byte entry for each.
//!
//! Where the toolchain has its own LLD, the binary is linked with it and
//! the functions the one-shot commands run are placed side by side
//! (`build/hot-symbols.txt`, written by `benches/hot-symbols.sh`, which
//! CI runs with `--check` to see that the names still match the binary).
//!
//! `CURSORCTL_DYNAMIC=1` at build time keeps the binary dynamic.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The symbol ordering file, from the package's folder (also named in
/// `benches/hot-symbols.sh`).
const SYMBOL_ORDER: &str = "build/hot-symbols.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CURSORCTL_DYNAMIC");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |name: &str| env::var(name).unwrap_or_default();
    // The C compiler asked for the archives below is the host's.
    let supported = var("HOST") == var("TARGET")
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && matches!(var("CARGO_CFG_TARGET_ARCH").as_str(), "x86_64" | "aarch64")
        // Already static, by the user's own flags.
        && !var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static")
        && env::var_os("CURSORCTL_DYNAMIC").is_none();
    if !supported {
        return;
    }
    // Without the static archives the binary is linked dynamically, as on
    // every other host: nothing to tell the user.
    let Some(dir) = static_libs() else {
        return;
    };
    println!("cargo:rustc-link-arg-bins=-static-pie");
    if packs_relative_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rustc-link-arg-bins=-L{}", dir.display());
    if let Some(gcc_ld) = rust_lld() {
        // The functions the one-shot commands run, side by side (see
        // `benches/hot-symbols.sh`): a `get` then maps far fewer pages of
        // code. A name that matches no function is skipped.
        let order = Path::new(&var("CARGO_MANIFEST_DIR")).join(SYMBOL_ORDER);
        println!("cargo:rerun-if-changed={}", order.display());
        if order.exists() {
            println!("cargo:rustc-link-arg-bins=-B{}", gcc_ld.display());
            println!("cargo:rustc-link-arg-bins=-fuse-ld=lld");
            println!(
                "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
                order.display()
            );
            println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        }
    }
}

/// The folder of the toolchain's own LLD (`rust-lld`, as `ld.lld`), which
/// takes a symbol ordering file, when it has one and no other linker is
/// asked for: rustc links with it by default on x86_64 Linux from Rust
/// 1.90 on, and it is named here so that the options below always reach
/// LLD.
fn rust_lld() -> Option<PathBuf> {
    if env::var_os("RUSTC_LINKER").is_some() {
        return None;
    }
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if flags.split('\x1f').any(|f| f.contains("link")) {
        return None;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let gcc_ld = sysroot
        .join("lib/rustlib")
        .join(env::var("TARGET").ok()?)
        .join("bin/gcc-ld");
    gcc_ld.join("ld.lld").exists().then_some(gcc_ld)
}

/// A directory of links to the static archives, under the names the
/// standard library links; `None` when one is missing.
fn static_libs() -> Option<PathBuf> {
    let out = PathBuf::from(env::var_os("OUT_DIR")?).join("static-libs");
    std::fs::create_dir_all(&out).ok()?;
    // rcrt1.o is the start file of a static position-independent executable.
    find("rcrt1.o")?;
    for (name, archive) in [
        ("libc.a", "libc.a"),
        ("libm.a", "libm.a"),
        ("libpthread.a", "libpthread.a"),
        ("libdl.a", "libdl.a"),
        ("librt.a", "librt.a"),
        ("libutil.a", "libutil.a"),
        ("libgcc_s.a", "libgcc_eh.a"),
    ] {
        let target = find(archive)?;
        let link = out.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).ok()?;
    }
    Some(out)
}

/// Whether the C library applies packed relative relocations (DT_RELR) in a
/// static executable: glibc 2.36 and later, whose `libc.so.6` carries the
/// `GLIBC_ABI_DT_RELR` version. An older one would leave them unapplied.
fn packs_relative_relocations() -> bool {
    const MARK: &[u8] = b"GLIBC_ABI_DT_RELR";
    find("libc.so.6")
        .and_then(|path| std::fs::read(path).ok())
        .is_some_and(|bytes| bytes.windows(MARK.len()).any(|w| w == MARK))
}

/// The full path of a file the C compiler links with, if it has it.
fn find(file: &str) -> Option<PathBuf> {
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(cc)
        .arg(format!("-print-file-name={file}"))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (path.is_absolute() && Path::new(&path).exists()).then_some(path)
}
