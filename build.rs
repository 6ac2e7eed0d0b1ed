// Rebuild when the default theme changes: `wegweiser init` embeds it.
fn main() {
    println!("cargo:rerun-if-changed=themes/default");
}
