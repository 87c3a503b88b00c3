//! A real HTTP/1.1 server on 127.0.0.1, written on tokio::net for the tests (hyper is not a
//! dependency). It keeps connections alive, records every request, and answers by path:
//!
//! | path | answer |
//! |---|---|
//! | `/json` | 200 `{"symbol":"AAPL","price":101.5}` |
//! | `/text` | 200 `text/plain` `hello` |
//! | `/echo` | 200 JSON of the request: method, path, query, headers, body |
//! | `/empty` | 204 |
//! | `/status/<code>[?retry_after=<v>]` | `<code>` with a JSON body (and `Retry-After: <v>`) |
//! | `/delay/<ms>` | 200 JSON after `<ms>` |
//! | `/hang` | nothing, until the client closes the connection |
//! | `/close` | closes the connection without answering |
//! | `/truncate` | announces 100 bytes, sends 10, closes |
//! | `/redirect-loop` | 302 to itself |
//! | `/flaky` | 503 while [`TestServer::set_failing`] is on, else 200 JSON |
//! | `/to/<port>/<rest>` | 307 to `http://127.0.0.1:<port>/<rest>` (query kept) |
//!
//! [`TestServer::open_connections`] counts the connections the client has not closed yet.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use neural_trader_clients::http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    connections: AtomicUsize,
    open: AtomicUsize,
    failing: AtomicBool,
    seen: Mutex<Vec<Seen>>,
}

/// The server; it stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let state = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                state.connections.fetch_add(1, Ordering::SeqCst);
                state.open.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    serve(stream, Arc::clone(&state)).await;
                    state.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections accepted and not yet closed (a connection counts as closed once the peer
    /// closed it, or the server gave up on it).
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Waits until no connection is open, at most 10 s (a bound for a broken build, not a
    /// measurement); returns how many are still open.
    pub async fn drained(&self) -> usize {
        for _ in 0..1000 {
            if self.open_connections() == 0 {
                return 0;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.open_connections()
    }

    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }

    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }
}

/// A port on 127.0.0.1 where nothing listens.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        shared.seen.lock().unwrap().push(request.clone());
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let reply = match path {
            "/json" => json(200, r#"{"symbol":"AAPL","price":101.5}"#),
            "/text" => Reply::new(200, "text/plain; charset=utf-8", b"hello".to_vec()),
            "/echo" => json(200, &echo(&request, path, query)),
            "/empty" => Reply::new(204, "", Vec::new()),
            "/hang" => {
                // Until the client closes the connection (or an hour passes).
                let mut byte = [0u8; 1];
                let _ =
                    tokio::time::timeout(Duration::from_secs(3600), stream.read(&mut byte)).await;
                return;
            }
            "/close" => return,
            "/truncate" => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(br#"{"partial""#).await;
                let _ = stream.flush().await;
                return;
            }
            "/redirect-loop" => {
                let mut r = Reply::new(302, "", Vec::new());
                r.extra.push(("location".into(), "/redirect-loop".into()));
                r
            }
            _ if path.starts_with("/to/") => {
                let rest = &path["/to/".len()..];
                let (port, rest) = rest.split_once('/').unwrap_or((rest, ""));
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                let mut r = Reply::new(307, "", Vec::new());
                r.extra.push((
                    "location".into(),
                    format!("http://127.0.0.1:{port}/{rest}{query}"),
                ));
                r
            }
            "/flaky" if shared.failing.load(Ordering::SeqCst) => json(503, r#"{"error":"down"}"#),
            "/flaky" => json(200, r#"{"ok":true}"#),
            _ if path.starts_with("/status/") => {
                let code: u16 = path["/status/".len()..].parse().unwrap();
                let mut r = json(code, &format!(r#"{{"error":"status {code}"}}"#));
                if let Some(v) = query_value(query, "retry_after") {
                    r.extra.push(("retry-after".into(), v));
                }
                r
            }
            _ if path.starts_with("/delay/") => {
                let ms: u64 = path["/delay/".len()..].parse().unwrap();
                tokio::time::sleep(Duration::from_millis(ms)).await;
                json(200, &format!(r#"{{"delayed":{ms}}}"#))
            }
            _ => json(404, r#"{"error":"no such path"}"#),
        };
        if stream.write_all(&reply.encode()).await.is_err() {
            return;
        }
    }
}

struct Reply {
    status: u16,
    content_type: String,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            extra: Vec::new(),
            body,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let reason = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown");
        let mut head = format!("HTTP/1.1 {} {reason}\r\n", self.status);
        if !self.content_type.is_empty() {
            head.push_str(&format!("content-type: {}\r\n", self.content_type));
        }
        for (name, value) in &self.extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.status != 204 {
            head.push_str(&format!("content-length: {}\r\n", self.body.len()));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

fn json(status: u16, body: &str) -> Reply {
    Reply::new(status, "application/json", body.as_bytes().to_vec())
}

fn echo(request: &Seen, path: &str, query: &str) -> String {
    let headers: serde_json::Map<String, serde_json::Value> = request
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::json!({
        "method": request.method,
        "path": path,
        "query": query,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    })
    .to_string()
}

fn query_value(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Reads one request (head and `content-length` body); `None` when the peer closed.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buffer.drain(..head_end + 4);
    while buffer.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buffer.drain(..length).collect();
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}
