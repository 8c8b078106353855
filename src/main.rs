//! The `pixbatch` binary: everything lives in the library; see `pixbatch::cli`.

fn main() {
    std::process::exit(pixbatch::cli::main());
}
