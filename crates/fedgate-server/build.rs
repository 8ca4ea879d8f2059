//! Builds the panel's browser half: `fedgate-panel` with feature `hydrate` compiled to
//! wasm by a nested cargo (in its own target directory, since the outer build holds
//! the main one), then `wasm-bindgen --target web`. The two files land in `OUT_DIR`
//! and are embedded in the binary, so `cargo run --release` serves a complete panel.
//!
//! What it needs and installs when missing: the `wasm32-unknown-unknown` target
//! (rustup) and `wasm-bindgen-cli` at exactly the version of the `wasm-bindgen` library
//! (into `<target>/panel-tools`). See docs/adr/0008-panel-build-and-serving.md.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Must equal the `wasm-bindgen` version pinned in the workspace's Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn fail(message: &str) -> ! {
    panic!("building the panel's wasm failed: {message}");
}

fn var(name: &str) -> String {
    env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set")))
}

fn run(command: &mut Command, what: &str) {
    let status = command
        .status()
        .unwrap_or_else(|e| fail(&format!("{what} could not start: {e}")));
    if !status.success() {
        fail(&format!("{what} failed ({status})"));
    }
}

fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = output(Command::new(&rustc).args(["--print", "sysroot"]))
        .unwrap_or_else(|| fail("rustc --print sysroot"));
    let installed = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .exists();
    if !installed {
        println!("cargo:warning=installing the {WASM_TARGET} target with rustup (once)");
        run(
            Command::new("rustup").args(["target", "add", WASM_TARGET]),
            "rustup target add wasm32-unknown-unknown",
        );
    }
}

fn is_right_version(binary: &Path) -> bool {
    output(Command::new(binary).arg("--version"))
        .is_some_and(|v| v.split_whitespace().nth(1) == Some(WASM_BINDGEN_VERSION))
}

/// `wasm-bindgen` at the pinned version: from PATH, else from the tools directory,
/// else installed there.
fn wasm_bindgen(tools: &Path) -> PathBuf {
    let on_path = PathBuf::from("wasm-bindgen");
    if is_right_version(&on_path) {
        return on_path;
    }
    let local = tools.join("bin/wasm-bindgen");
    if !is_right_version(&local) {
        println!(
            "cargo:warning=installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} into {} (once, several minutes)",
            tools.display()
        );
        let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut install = Command::new(cargo);
        install
            .args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                WASM_BINDGEN_VERSION,
            ])
            .arg("--root")
            .arg(tools)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        run(&mut install, "cargo install wasm-bindgen-cli");
    }
    local
}

fn main() {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or_else(|| fail("no workspace root"))
        .to_path_buf();
    for watched in [
        "frontend/src",
        "frontend/style",
        "frontend/Cargo.toml",
        "crates/fedgate-wire/src",
        "Cargo.lock",
    ] {
        // Relative to this package, not absolute: checkouts sharing one target
        // directory (a CI clone and a working tree) then each watch their own files.
        println!("cargo:rerun-if-changed=../../{watched}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(
            || root.join("target"),
            |d| if d.is_absolute() { d } else { root.join(d) },
        );
    let wasm_target_dir = target_dir.join("panel-wasm");
    let tools = target_dir.join("panel-tools");
    let release = var("PROFILE") == "release";
    let profile = if release { "wasm-release" } else { "wasm-dev" };

    ensure_wasm_target();
    let bindgen = wasm_bindgen(&tools);

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&root)
        .args([
            "rustc",
            "--locked",
            "-p",
            "fedgate-panel",
            "--lib",
            "--crate-type",
            "cdylib",
        ])
        .args([
            "--target",
            WASM_TARGET,
            "--features",
            "hydrate",
            "--profile",
            profile,
        ])
        .env("CARGO_TARGET_DIR", &wasm_target_dir)
        // The outer build's wrappers and flags are for the native code (clippy runs the
        // build script too); the wasm is built plainly.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    run(&mut build, "cargo rustc -p fedgate-panel (wasm)");

    let wasm = wasm_target_dir
        .join(WASM_TARGET)
        .join(profile)
        .join("fedgate_panel.wasm");
    let out = PathBuf::from(var("OUT_DIR")).join("panel");
    let mut bind = Command::new(&bindgen);
    bind.args(["--target", "web", "--no-typescript"])
        .args(["--out-name", "fedgate_panel"]);
    if release {
        // Function names are for debugging; without them the release wasm is under
        // half the size (1.4 MB instead of 3.3 MB).
        bind.args(["--remove-name-section", "--remove-producers-section"]);
    }
    run(bind.arg("--out-dir").arg(&out).arg(&wasm), "wasm-bindgen");

    // A version for ETags: FNV-1a over the served files. (Not named FEDGATE_*: cargo
    // also sets it when running tests and `cargo run`, where the configuration would
    // read it as a setting.)
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in [
        out.join("fedgate_panel.js"),
        out.join("fedgate_panel_bg.wasm"),
        root.join("frontend/style/panel.css"),
    ] {
        let bytes = std::fs::read(&file)
            .unwrap_or_else(|e| fail(&format!("reading {}: {e}", file.display())));
        for b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=PANEL_ASSETS_VERSION={hash:016x}");
}
