//! refinery embeds `migrations/` at compile time; a new file must trigger a rebuild too, which a
//! change to the folder's listing does.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
