//! `xtask-bindgen <input.wasm> <out dir> <name> <dev|shipped>`: wasm-bindgen as a library, at the
//! exact version of the `wasm-bindgen` crate, turning the frontend's wasm into the bundle's
//! `<name>.js` and `<name>_bg.wasm` for the browser (`--target web`, no TypeScript).
//!
//! A binary of its own, run by `cargo xtask` once the wasm is built: its dependencies are most of
//! what xtask would otherwise compile before doing anything, and the demo needs none of it to
//! start the server.

use anyhow::{Context, bail};

fn main() {
    if let Err(error) = run() {
        eprintln!("xtask-bindgen: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out, name, mode] = args.as_slice() else {
        bail!("usage: xtask-bindgen <input.wasm> <out dir> <name> <dev|shipped>");
    };
    // What browsers get carries no debug names (they were most of the bytes), no DWARF and no
    // producers section; a dev build keeps them for the browser's tools.
    let shipped = match mode.as_str() {
        "shipped" => true,
        "dev" => false,
        other => bail!("{other:?} is neither dev nor shipped"),
    };
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(input)
        .out_name(name)
        .web(true)?
        .typescript(false)
        .debug(!shipped)
        .keep_debug(!shipped)
        .remove_name_section(shipped)
        .remove_producers_section(shipped)
        .generate(out)
        .with_context(|| format!("wasm-bindgen failed on {input}"))
}
