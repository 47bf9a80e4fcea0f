//! Scale: 200,000 due tasks are marked by one run, and the run's statement count does not grow
//! with the number of rows. Statements are counted on the wire: the job's pool connects through
//! a small proxy that counts the frontend messages that start a statement (Parse for the
//! extended protocol `query_typed` uses, Query for the simple one). No timing is asserted.

use crate::support::{World, jobs_on};
use scheduled::ScheduledJob;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// SSLRequest and GSSENCRequest: startup-phase packets the server answers with one byte.
const NEGOTIATION_CODES: [u32; 2] = [80_877_103, 80_877_104];

/// A PostgreSQL proxy to `upstream` that counts statements sent through it.
struct CountingProxy {
    address: std::net::SocketAddr,
    statements: Arc<AtomicUsize>,
}

impl CountingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let _ = relay(client, server, counter).await;
                    }
                });
            }
        });
        Self {
            address,
            statements,
        }
    }

    fn count(&self) -> usize {
        self.statements.load(Ordering::SeqCst)
    }
}

/// Server → client is copied as it is; client → server is framed so statements can be counted.
async fn relay(
    client: TcpStream,
    server: TcpStream,
    counter: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let (client_read, mut client_write) = client.into_split();
    let (mut server_read, server_write) = server.into_split();
    let downstream =
        tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });
    let upstream = frame_client_messages(client_read, server_write, counter).await;
    downstream.abort();
    upstream
}

/// Forwards the client's messages one by one, counting Parse ('P') and Query ('Q').
async fn frame_client_messages(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counter: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    // Startup phase: untyped packets (length, then a code), until the startup message proper.
    loop {
        let length = from.read_u32().await?;
        let mut body = vec![0; (length as usize).saturating_sub(4)];
        from.read_exact(&mut body).await?;
        to.write_u32(length).await?;
        to.write_all(&body).await?;
        let code = body
            .get(..4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .unwrap_or_default();
        if !NEGOTIATION_CODES.contains(&code) {
            break;
        }
    }
    loop {
        let kind = from.read_u8().await?;
        let length = from.read_u32().await?;
        let mut body = vec![0; (length as usize).saturating_sub(4)];
        from.read_exact(&mut body).await?;
        if kind == b'P' || kind == b'Q' {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        to.write_u8(kind).await?;
        to.write_u32(length).await?;
        to.write_all(&body).await?;
    }
}

/// `url`'s host:port, and `url` with it replaced by `address`.
fn through(url: &str, address: std::net::SocketAddr) -> (String, String) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let host_start = url[after_scheme..]
        .find('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    let host_end = url[host_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| host_start + i);
    let upstream = url[host_start..host_end].to_owned();
    let proxied = format!("{}{address}{}", &url[..host_start], &url[host_end..]);
    (upstream, proxied)
}

async fn statements_for_one_run(world: &World, now: &str) -> (usize, serde_json::Value) {
    let unspecified = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let (upstream, _) = through(world.test.url(), unspecified);
    let proxy = CountingProxy::start(upstream).await;
    let (_, url) = through(world.test.url(), proxy.address);
    let db = store::Db::new(&store::PoolSettings {
        url,
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a pool through the proxy");
    let summary = jobs_on(db, now)
        .run(ScheduledJob::OverdueTasks)
        .await
        .expect("the run");
    (proxy.count(), summary)
}

#[tokio::test]
async fn two_hundred_thousand_due_tasks_are_marked_by_one_run_with_as_many_statements_as_ten() {
    const MANY: i64 = 200_000;
    let world = World::new().await;
    let workspace = world.workspace("UTC").await;
    let arrange = |count: i64| {
        let world = &world;
        async move {
            world
                .test
                .client()
                .await
                .execute(
                    "INSERT INTO tasks (workspace_id, title, status, due_at)
                     SELECT $1, 'Call back', CASE WHEN i % 2 = 0 THEN 'pending' ELSE 'in_progress' END,
                            '2026-11-21T09:00:00Z'
                     FROM generate_series(1, $2::bigint) i",
                    &[&workspace, &count],
                )
                .await
                .expect("arrange due tasks");
        }
    };

    arrange(10).await;
    let (few_statements, few) = statements_for_one_run(&world, "2026-11-21T10:00:00Z").await;
    arrange(MANY).await;
    let (many_statements, many) = statements_for_one_run(&world, "2026-11-21T10:15:00Z").await;

    assert_eq!(few["marked"], 10);
    assert_eq!(many["marked"], MANY, "one run marks every due task");
    assert_eq!(many["audited"], MANY);
    assert!(few_statements > 0, "the proxy saw the job's statements");
    assert_eq!(
        many_statements, few_statements,
        "the statement count does not grow with the number of rows"
    );
    let overdue: i64 = world
        .one("SELECT count(*) FROM tasks WHERE status = 'overdue'", &[])
        .await;
    assert_eq!(overdue, MANY + 10);
}
