//! The `attache` binary: all the work is in the library; this only reports errors.

fn main() -> std::process::ExitCode {
    match attache::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
