//! `pixbatch fake-server`: the fake DashScope on a loopback port, for demos and for pointing
//! other tools (the official SDK) at it.

use super::args::FakeServerArgs;
use super::errors::CliError;
use super::output::runtime;

pub fn fake_server(args: &FakeServerArgs) -> Result<(), CliError> {
    if !args.addr.ip().is_loopback() {
        return Err(CliError::usage(
            format!("the fake server listens on loopback only, not {}", args.addr.ip()),
            Some("use --addr 127.0.0.1:PORT"),
        ));
    }
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr).await.map_err(|e| {
            CliError::setup(
                format!("cannot listen on {}: {e}", args.addr),
                Some("pick another port with --addr 127.0.0.1:PORT"),
            )
        })?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            token.cancel();
        });
        eprintln!(
            "fake DashScope on http://{} (key {}); stats at /__fake/stats; Ctrl-C stops it",
            args.addr, args.api_key
        );
        eprintln!("  export DASHSCOPE_BASE_URL=http://{} DASHSCOPE_API_KEY={}", args.addr, args.api_key);
        crate::fake::serve(listener, args.config(), shutdown).await.map_err(|e| CliError::setup(e.to_string(), None))
    })
}
