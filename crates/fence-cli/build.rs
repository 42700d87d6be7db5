//! Compiles the one C function that sets libpg_query's scanner setting (csrc/).
fn main() {
    println!("cargo:rerun-if-changed=csrc/scanner_settings.c");
    cc::Build::new().file("csrc/scanner_settings.c").compile("fence_scanner_settings");
}
