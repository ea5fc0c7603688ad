//! The idempotency layer across real server processes (`load-server --store ...`, see
//! `load_server.rs`): each event handled exactly once under concurrent deliveries to two processes
//! sharing a store, a process killed inside its handler taken over after its lease, a failed run retried,
//! and a store stopped and restarted mid-run. Handler runs are counted from the `handled event <id>`
//! lines the servers write to stdout.
//!
//! The shared stores are named by `STRIPE_WEBHOOK_TEST_REDIS_URL` and `STRIPE_WEBHOOK_TEST_POSTGRES_URL`
//! (with the features `redis` and `postgres`, which `cargo test --all-features` turns on);
//! `bash scripts/test.sh` starts a throwaway Redis and PostgreSQL and sets both. A test whose variable is
//! missing fails, saying so: it never passes without having run. The store-stopped test starts a Redis
//! of its own (the `redis-server` that `scripts/services.sh` installs), so that it can stop it.
//!
//! Every process a test starts is killed when the test ends, also when it fails; every wait is bounded.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tower_stripe_webhook::{generate_test_header, test_helpers::TestEvent, SigningSecret};

const SECRET: &str = "whsec_process_tests_only_not_a_real_secret";

/// How long a server may take to listen (a PostgreSQL store migrates first).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one delivery may take, connection and answer.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

fn secret() -> SigningSecret {
    SigningSecret::new(SECRET).unwrap()
}

/// An event id no other test or run uses, so that tests sharing a store never meet.
fn event_id(test: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("evt_{test}_{}_{nanos}", std::process::id())
}

fn event_body(id: &str) -> Bytes {
    TestEvent::new(
        "invoice.paid",
        serde_json::json!({"id": "in_process_test", "object": "invoice", "amount_paid": 1999}),
    )
    .id(id)
    .to_bytes()
}

/// A `load-server` process: its stdout lines (with the time each was read), its stderr, killed on drop.
struct Server {
    name: &'static str,
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `load-server` with `args` on a free port of 127.0.0.1 and waits until it listens.
    async fn start(name: &'static str, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_load-server"))
            .args(args)
            .env("STRIPE_WEBHOOK_SECRET", SECRET)
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start load-server");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push((Instant::now(), line));
            }
        });
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n @ 1..) = err.read(&mut buffer) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut server = Server {
            name,
            child,
            port: 0,
            lines,
            stderr,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let listening = server
                .lines
                .lock()
                .unwrap()
                .iter()
                .find_map(|(_, line)| line.strip_prefix("listening on 127.0.0.1:")?.parse().ok());
            if let Some(port) = listening {
                server.port = port;
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "{name} ({args:?}) exited with {status} before listening: {}",
                    server.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} ({args:?}) did not listen within {START_TIMEOUT:?}: {}",
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// How many times this process's handler has run for `id`.
    fn handled(&self, id: &str) -> usize {
        self.handled_before(id, None)
    }

    /// How many `handled event <id>` lines were read before `before` (all when `None`).
    fn handled_before(&self, id: &str, before: Option<Instant>) -> usize {
        let line = format!("handled event {id}");
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, text)| *text == line && before.is_none_or(|before| *at < before))
            .count()
    }

    /// Every `handled event` line so far.
    fn all_handled(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, text)| text.starts_with("handled event "))
            .count()
    }

    /// Waits (at most `timeout`) until the handler has run `n` times for `id`; answers when it saw it.
    async fn wait_handled(&self, id: &str, n: usize, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if self.handled(id) >= n {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "{}: the handler did not run {n} time(s) for {id} within {timeout:?}: {}",
                self.name,
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGKILL, and wait for the process to be gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What a delivery got back.
#[derive(Debug)]
struct Reply {
    status: u16,
    replayed: bool,
    retry_after: Option<u64>,
}

/// Delivers `body` to `port` as Stripe would, signed now: one HTTP/1.1 request on a connection of its
/// own. An error when the server closed the connection without an answer (or took too long).
async fn deliver(port: u16, body: &Bytes) -> Result<Reply, String> {
    let header = generate_test_header(body, &secret(), None);
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let head = format!(
            "POST /webhook HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n\
             stripe-signature: {header}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        stream.write_all(body).await.map_err(|e| format!("write: {e}"))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| format!("read: {e}"))?;
        Ok::<_, String>(response)
    };
    let response = tokio::time::timeout(DELIVERY_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {DELIVERY_TIMEOUT:?}"))??;
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("no status line in {text:?}"))?;
    let mut reply = Reply {
        status,
        replayed: false,
        retry_after: None,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "idempotent-replayed" => reply.replayed = value == "true",
            "retry-after" => reply.retry_after = value.parse().ok(),
            _ => {}
        }
    }
    Ok(reply)
}

/// Stripe, for one event: delivers to `ports` in turn until an answer is 2xx, pausing `pause` between
/// attempts, at most `attempts` times. Answers every reply (or error) in order.
async fn deliver_until_2xx(
    ports: &[u16],
    body: &Bytes,
    pause: Duration,
    attempts: usize,
) -> Vec<Result<Reply, String>> {
    let mut replies = Vec::new();
    for attempt in 0..attempts {
        let reply = deliver(ports[attempt % ports.len()], body).await;
        let done = matches!(&reply, Ok(reply) if (200..300).contains(&reply.status));
        replies.push(reply);
        if done {
            break;
        }
        tokio::time::sleep(pause).await;
    }
    replies
}

/// 64 concurrent deliveries of one event, alternately to two processes sharing the store at `store`:
/// the handler runs exactly once; every other delivery gets 409 (while it runs) or 200 replayed.
async fn exactly_once_under_concurrency(store: &str) {
    // The handler takes 500 ms, so that deliveries meet it running; the lease outlasts the test.
    let args = [
        "--store",
        store,
        "--lease-ms",
        "30000",
        "--handler-delay-ms",
        "500",
    ];
    // One after the other: a PostgreSQL store migrates at start.
    let a = Server::start("server A", &args).await;
    let b = Server::start("server B", &args).await;
    let id = event_id("concurrent");
    let body = event_body(&id);
    let started = Instant::now();
    let deliveries: Vec<_> = (0..64)
        .map(|i| {
            let (port, body) = (if i % 2 == 0 { a.port } else { b.port }, body.clone());
            tokio::spawn(async move { deliver(port, &body).await })
        })
        .collect();
    let (mut handled, mut conflicts, mut replayed) = (0, 0, 0);
    for delivery in deliveries {
        match delivery.await.unwrap() {
            Ok(Reply {
                status: 200,
                replayed: false,
                ..
            }) => handled += 1,
            Ok(Reply {
                status: 200,
                replayed: true,
                ..
            }) => replayed += 1,
            Ok(Reply {
                status: 409,
                retry_after: Some(after),
                ..
            }) if after >= 1 => conflicts += 1,
            other => panic!("a delivery got {other:?}; A: {} B: {}", a.stderr(), b.stderr()),
        }
    }
    let elapsed = started.elapsed();
    // The lines are written before the answers: give the readers a moment, then count.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let runs = (a.handled(&id), b.handled(&id));
    eprintln!(
        "{store}: 64 deliveries in {elapsed:?}: {handled} handled, {conflicts} × 409, {replayed} × 200 \
         replayed; handler runs A {} B {}",
        runs.0, runs.1
    );
    assert_eq!(
        runs.0 + runs.1,
        1,
        "handler runs across both processes (A, B) = {runs:?}"
    );
    assert_eq!(handled, 1, "one delivery answered by the handler");
    assert!(
        conflicts > 0,
        "no delivery met the run in progress: the test did not test concurrency"
    );
    // Done: a later delivery to either process is a duplicate.
    for server in [&a, &b] {
        let reply = deliver(server.port, &body).await.unwrap();
        assert_eq!(
            (reply.status, reply.replayed),
            (200, true),
            "{}: {reply:?}",
            server.name
        );
    }
    assert_eq!(a.handled(&id) + b.handled(&id), 1);
}

/// A process killed (SIGKILL) inside its handler: its claim blocks the other process until the lease
/// ends, then a retry there runs the handler, and the event ends done once.
async fn crash_inside_the_handler(store: &str) {
    const LEASE: Duration = Duration::from_millis(1000);
    let lease = LEASE.as_millis().to_string();
    let mut a = Server::start(
        "server A (to be killed)",
        &[
            "--store",
            store,
            "--lease-ms",
            &lease,
            "--handler-delay-ms",
            "30000",
        ],
    )
    .await;
    let b = Server::start("server B", &["--store", store, "--lease-ms", &lease]).await;
    let id = event_id("crash");
    let body = event_body(&id);

    let first = tokio::spawn({
        let (port, body) = (a.port, body.clone());
        async move { deliver(port, &body).await }
    });
    let claimed = a.wait_handled(&id, 1, Duration::from_secs(10)).await;
    // A holds the claim: B answers 409 without running the handler.
    let reply = deliver(b.port, &body).await.unwrap();
    assert_eq!(reply.status, 409, "a delivery to B while A runs: {reply:?}");
    a.kill();
    let killed = claimed.elapsed();
    let first = first.await.unwrap();
    assert!(first.is_err(), "the delivery to the killed process got {first:?}");

    // Stripe retries (here every 100 ms) to B: 409 until A's lease ends, then B runs the handler.
    let replies = deliver_until_2xx(&[b.port], &body, Duration::from_millis(100), 50).await;
    let taken_over = claimed.elapsed();
    let last = replies.last().unwrap().as_ref().unwrap();
    assert_eq!(
        (last.status, last.replayed),
        (200, false),
        "B ran the handler: {replies:?}"
    );
    assert!(
        replies[..replies.len() - 1]
            .iter()
            .all(|reply| matches!(reply, Ok(Reply { status: 409, .. }))),
        "before the lease ended: {replies:?}"
    );
    assert!(
        taken_over >= LEASE - Duration::from_millis(100),
        "B took over after {taken_over:?}, before A's lease of {LEASE:?} ended"
    );
    b.wait_handled(&id, 1, Duration::from_secs(2)).await;
    // Done once: a later retry is a duplicate, to B or to a new process.
    let reply = deliver(b.port, &body).await.unwrap();
    assert_eq!(
        (reply.status, reply.replayed),
        (200, true),
        "a later retry: {reply:?}"
    );
    let c = Server::start("server C", &["--store", store, "--lease-ms", &lease]).await;
    let reply = deliver(c.port, &body).await.unwrap();
    assert_eq!(
        (reply.status, reply.replayed),
        (200, true),
        "a retry to a new process: {reply:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!((a.handled(&id), b.handled(&id), c.handled(&id)), (1, 1, 0));
    eprintln!(
        "{store}: A killed {killed:?} into its handler; B took over {taken_over:?} after A's claim \
         ({} retries got 409 first), lease {LEASE:?}",
        replies.len() - 1
    );
}

/// A handler answering 500 releases its claim: the retry runs it again (here on the other process when
/// there are two) and completes; a later retry is a duplicate.
async fn failed_run_is_retried(store: &str, two_processes: bool) {
    let args = ["--store", store, "--lease-ms", "30000", "--fail-first", "1"];
    let a = Server::start("server A", &args).await;
    let b = if two_processes {
        Some(Server::start("server B", &args[..4]).await)
    } else {
        None
    };
    let retry_port = b.as_ref().map_or(a.port, |b| b.port);
    let id = event_id("failed");
    let body = event_body(&id);
    let reply = deliver(a.port, &body).await.unwrap();
    assert_eq!(
        reply.status, 500,
        "the first run fails (--fail-first 1): {reply:?}"
    );
    let reply = deliver(retry_port, &body).await.unwrap();
    assert_eq!(
        (reply.status, reply.replayed),
        (200, false),
        "the retry runs the handler: {reply:?}"
    );
    let reply = deliver(a.port, &body).await.unwrap();
    assert_eq!(
        (reply.status, reply.replayed),
        (200, true),
        "a later retry is a duplicate: {reply:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let runs = a.handled(&id) + b.as_ref().map_or(0, |b| b.handled(&id));
    assert_eq!(runs, 2, "one failed run, one that completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_a_failed_run_is_retried_and_completes() {
    failed_run_is_retried("memory", false).await;
}

/// The variable naming a shared test server, or a failure saying how to start one.
#[cfg(any(feature = "redis", feature = "postgres"))]
fn server_url(variable: &str, what: &str) -> String {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{variable} is not set, so the process tests on the {what} store cannot run: run the tests with \
             `bash scripts/test.sh`, which starts a throwaway Redis and PostgreSQL and sets \
             STRIPE_WEBHOOK_TEST_REDIS_URL and STRIPE_WEBHOOK_TEST_POSTGRES_URL (or point {variable} at a \
             {what} you can write to)"
        ),
    }
}

#[cfg(feature = "redis")]
mod redis_store {
    use super::*;

    fn url() -> String {
        server_url("STRIPE_WEBHOOK_TEST_REDIS_URL", "Redis")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_exactly_once_across_two_processes() {
        exactly_once_under_concurrency(&url()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_a_process_killed_in_its_handler_is_taken_over_after_its_lease() {
        crash_inside_the_handler(&url()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_a_failed_run_is_retried_on_the_other_process() {
        failed_run_is_retried(&url(), true).await;
    }

    /// A `redis-server` of the test's own, on a free port of 127.0.0.1, in a temporary directory, with
    /// every write fsynced to its append-only file: it can be stopped and started again with its data.
    struct OwnRedis {
        port: u16,
        dir: std::path::PathBuf,
        child: Option<Child>,
    }

    impl OwnRedis {
        async fn start() -> OwnRedis {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
            let dir = std::env::temp_dir().join(format!("processes-redis-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut redis = OwnRedis {
                port,
                dir,
                child: None,
            };
            redis.restart().await;
            redis
        }

        /// Starts the server (again, on the same port and data) and waits until it answers PING.
        async fn restart(&mut self) {
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
                .arg("--dir")
                .arg(&self.dir)
                .args(["--save", "", "--appendonly", "yes", "--appendfsync", "always"])
                .args(["--daemonize", "no", "--logfile", "redis.log"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| {
                    panic!(
                        "cannot start redis-server ({error}): install it with `bash scripts/services.sh true` \
                         (or apt-get install redis-server)"
                    )
                });
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.pong().await {
                assert!(
                    Instant::now() < deadline,
                    "the test's redis-server did not answer within 10 s: {}",
                    std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }

        async fn pong(&self) -> bool {
            let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)).await else {
                return false;
            };
            let mut answer = [0; 7];
            stream.write_all(b"PING\r\n").await.is_ok()
                && tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut answer))
                    .await
                    .is_ok_and(|read| read.is_ok())
                && &answer == b"+PONG\r\n"
        }

        /// Kills the server (SIGKILL: its acknowledged writes are on disk already).
        fn stop(&mut self) {
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }
    }

    impl Drop for OwnRedis {
        fn drop(&mut self) {
            self.stop();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// The store stopped mid-run: deliveries get 503 and no handler runs without a claim; once it is back,
    /// a retrying client (Stripe) gets every event processed, each exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_stopped_mid_run_gives_503s_then_every_event_is_processed_once() {
        const EVENTS: usize = 12;
        const OUTAGE: Duration = Duration::from_millis(1500);
        let mut redis = OwnRedis::start().await;
        let server = Server::start("server", &["--store", &redis.url(), "--lease-ms", "1000"]).await;
        let ids: Vec<String> = (0..EVENTS).map(|i| event_id(&format!("outage{i}"))).collect();
        let started = Instant::now();
        // Stripe: event i first delivered 150 ms after event i - 1, each retried every 100 ms until 2xx.
        let clients: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (port, body) = (server.port, event_body(id));
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(150) * i as u32).await;
                    deliver_until_2xx(&[port], &body, Duration::from_millis(100), 100).await
                })
            })
            .collect();

        tokio::time::sleep(Duration::from_millis(400)).await;
        redis.stop();
        let stopped = Instant::now();
        let before_outage = server.all_handled();
        tokio::time::sleep(OUTAGE).await;
        // Nothing ran while the store was away (a line read in the first 100 ms may come from a run
        // claimed just before it went).
        let during_outage = server.all_handled();
        let late = stopped + Duration::from_millis(100);
        let after_late: usize = ids
            .iter()
            .map(|id| server.handled(id) - server.handled_before(id, Some(late)))
            .sum();
        redis.restart().await;
        let restarted = stopped.elapsed();

        let mut replies = Vec::new();
        for client in clients {
            replies.push(client.await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let unavailable = replies
            .iter()
            .flatten()
            .filter(|reply| matches!(reply, Ok(Reply { status: 503, .. })))
            .count();
        for (id, replies) in ids.iter().zip(&replies) {
            let last = replies.last().unwrap();
            assert!(
                matches!(last, Ok(Reply { status: 200, .. })),
                "{id} never got a 2xx: {replies:?}; server: {}",
                server.stderr()
            );
            assert!(
                replies.iter().all(|reply| matches!(
                    reply,
                    Ok(Reply {
                        status: 200 | 409 | 503,
                        ..
                    })
                )),
                "{id}: {replies:?}"
            );
            assert_eq!(server.handled(id), 1, "{id} handled {} times", server.handled(id));
        }
        assert_eq!(
            after_late, 0,
            "a handler ran while the store was stopped (without a claim)"
        );
        assert!(
            unavailable > 0,
            "no delivery met the stopped store: the test did not test it"
        );
        eprintln!(
            "own Redis stopped {:?} into the run for {restarted:?}: {before_outage} events handled before, \
             {during_outage} at the end of the outage, {unavailable} × 503; all {EVENTS} events handled \
             exactly once {:?} after the start",
            stopped - started,
            started.elapsed()
        );
    }
}

#[cfg(feature = "postgres")]
mod postgres_store {
    use super::*;

    fn url() -> String {
        server_url("STRIPE_WEBHOOK_TEST_POSTGRES_URL", "PostgreSQL")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_exactly_once_across_two_processes() {
        exactly_once_under_concurrency(&url()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_process_killed_in_its_handler_is_taken_over_after_its_lease() {
        crash_inside_the_handler(&url()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_a_failed_run_is_retried_on_the_other_process() {
        failed_run_is_retried(&url(), true).await;
    }
}
