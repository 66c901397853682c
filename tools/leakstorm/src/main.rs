fn main() {
    eprintln!("leakstorm: subcommands arrive with the native runner");
}
