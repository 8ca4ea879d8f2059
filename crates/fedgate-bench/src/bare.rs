//! The yardsticks for the login start: a bare actix-web server answering every request
//! with a `302` (a `Location` and a cookie, as a login start sends), run as a process
//! of its own — this binary started with `bare-redirect PORT` — so its CPU is read
//! the same way as Fedgate's; and the same server storing one record in Redis before
//! each answer (`bare-redirect PORT REDIS_URL`), the least a start that keeps its
//! login record in Redis does.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use redis::aio::MultiplexedConnection;

const LOCATION: &str = "https://accounts.example.com/o/oauth2/v2/auth?response_type=code&client_id=bench&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback&scope=openid+email+profile&state=0123456789abcdef0123456789abcdef&nonce=0123456789abcdef0123456789abcdef&code_challenge=0123456789abcdef0123456789abcdef0123456789a&code_challenge_method=S256";

/// The size of a login record as a start stores it (its JSON is 400–500 bytes).
const RECORD: [u8; 450] = [b'r'; 450];

async fn redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", LOCATION))
        .insert_header((
            "set-cookie",
            "fedgate_login=0123456789abcdef0123456789abcdef; Path=/hosted; HttpOnly; SameSite=Lax",
        ))
        .finish()
}

/// Where the storing redirect puts its records.
struct Records {
    client: redis::Client,
    prefix: String,
    next: AtomicU64,
}

thread_local! {
    /// Each worker's own connection, opened by that worker's runtime (as Fedgate's
    /// state store does), so that a round trip stays on the worker's thread.
    static CONNECTION: RefCell<Option<MultiplexedConnection>> = const { RefCell::new(None) };
}

/// One `SET key record PX 60000`, then the redirect.
async fn storing_redirect(records: web::Data<Records>) -> HttpResponse {
    let mut connection = match CONNECTION.with_borrow(Clone::clone) {
        Some(c) => c,
        None => {
            let c = records
                .client
                .get_multiplexed_async_connection()
                .await
                .expect("connect to Redis");
            CONNECTION.set(Some(c.clone()));
            c
        }
    };
    let key = format!(
        "{}{}",
        records.prefix,
        records.next.fetch_add(1, Ordering::Relaxed)
    );
    let () = redis::cmd("SET")
        .arg(key)
        .arg(&RECORD[..])
        .arg("PX")
        .arg(60_000)
        .query_async(&mut connection)
        .await
        .expect("SET");
    redirect().await
}

/// Serves the redirect on `127.0.0.1:port` with as many workers as Fedgate uses by
/// default (one per core) until killed; storing a record in the Redis at `redis`
/// first for each request when given.
pub fn serve(port: u16, redis: Option<String>) -> std::io::Result<()> {
    let records = redis.map(|url| {
        web::Data::new(Records {
            client: redis::Client::open(url).expect("Redis URL"),
            prefix: format!("fgbare:{}:", std::process::id()),
            next: AtomicU64::new(0),
        })
    });
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || match &records {
            None => App::new().default_service(web::to(redirect)),
            Some(records) => App::new()
                .app_data(records.clone())
                .default_service(web::to(storing_redirect)),
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
