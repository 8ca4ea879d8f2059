//! A small TCP proxy between Fedgate and one of its services (PostgreSQL, Redis), in
//! the test process: `cut` closes every connection through it and refuses new ones
//! (as a network partition would), `restore` lets connections through again; `sent`
//! tells how many bytes Fedgate sent through it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

#[derive(Debug, Default)]
struct Inner {
    cut: AtomicBool,
    live: Mutex<Vec<AbortHandle>>,
    sent: AtomicU64,
}

/// The proxy.
#[derive(Debug, Clone)]
pub struct TcpProxy {
    /// Where to connect instead of the service: `127.0.0.1:<port>`.
    pub address: SocketAddr,
    inner: Arc<Inner>,
}

impl TcpProxy {
    /// Starts forwarding a free loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let inner = Arc::new(Inner::default());
        let accepting = Arc::clone(&inner);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if accepting.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let counting = Arc::clone(&accepting);
                let task = tokio::spawn(async move {
                    let Ok(upstream) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = client.into_split();
                    let (mut from_upstream, mut to_upstream) = upstream.into_split();
                    let up = async move {
                        let mut buf = vec![0; 16 * 1024];
                        while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                            counting.sent.fetch_add(n as u64, Ordering::SeqCst);
                            if to_upstream.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _closed = to_upstream.shutdown().await;
                    };
                    let down = async move {
                        let _done = tokio::io::copy(&mut from_upstream, &mut to_client).await;
                        let _closed = to_client.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
                let mut live = accepting.live.lock().unwrap();
                live.retain(|t| !t.is_finished());
                live.push(task.abort_handle());
            }
        });
        Self { address, inner }
    }

    /// Starts forwarding to the host and port of `url` (e.g. `redis://127.0.0.1:6379`).
    pub async fn to_url(url: &str) -> Self {
        let u = url::Url::parse(url).unwrap();
        let host = u.host_str().unwrap();
        let port = u.port_or_known_default().unwrap_or(match u.scheme() {
            "redis" => 6379,
            _ => 5432,
        });
        let target = tokio::net::lookup_host((host, port))
            .await
            .unwrap()
            .next()
            .unwrap();
        Self::start(target).await
    }

    /// Closes every connection and refuses new ones.
    pub fn cut(&self) {
        self.inner.cut.store(true, Ordering::SeqCst);
        for task in self.inner.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// How many bytes went through it towards the service so far.
    #[must_use]
    pub fn sent(&self) -> u64 {
        self.inner.sent.load(Ordering::SeqCst)
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.inner.cut.store(false, Ordering::SeqCst);
    }

    /// `url` with its host and port replaced by the proxy's.
    #[must_use]
    pub fn url(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).unwrap();
        u.set_ip_host(self.address.ip()).unwrap();
        u.set_port(Some(self.address.port())).unwrap();
        u.to_string()
    }
}
