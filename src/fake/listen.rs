//! The fake's accept loop: one connection task per client, and the switch that stops and
//! resumes accepting connections (an outage: the listening socket is closed, so connects are
//! refused, and open connections are dropped).

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Shared, gate, routes};

pub(super) async fn serve_shared(listener: TcpListener, shared: Arc<Shared>, shutdown: CancellationToken) {
    let router = routes(shared.clone());
    let Ok(addr) = listener.local_addr() else { return };
    let outage = shared.sim().config.outage;
    if let Some(outage) = outage {
        let (shared, token) = (shared.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(outage.after) => shared.online.send_replace(false),
                () = token.cancelled() => return,
            };
            if let Some(lasting) = outage.lasting {
                tokio::select! {
                    () = tokio::time::sleep(lasting) => shared.online.send_replace(true),
                    () = token.cancelled() => return,
                };
            }
        });
    }
    let mut online = shared.online.subscribe();
    let mut listener = Some(listener);
    // Open connections end with the listener when the server goes offline.
    let mut connections = shutdown.child_token();
    loop {
        let up = *online.borrow_and_update();
        if !up && listener.is_some() {
            listener = None;
            connections.cancel();
            connections = shutdown.child_token();
        }
        if up && listener.is_none() {
            match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::debug!(error = %e, "fake: cannot listen again yet");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            }
        }
        let Some(socket) = &listener else {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = online.changed() => continue,
            }
        };
        let (stream, _) = tokio::select! {
            () = shutdown.cancelled() => return,
            _ = online.changed() => continue,
            accepted = socket.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors, say: back off instead of spinning on the error.
                    tracing::debug!(error = %e, "fake: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let router = router.clone();
        let token = connections.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                gate(shared.clone(), router.clone(), req.map(Body::new))
            });
            let conn =
                hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                () = token.cancelled() => {}
            }
        });
    }
}
