//! The yardstick for the login start: a bare actix-web server answering every request
//! with a `302` (a `Location` and a cookie, as a login start sends), run as a process
//! of its own — this binary started with `bare-redirect PORT` — so its CPU is read
//! the same way as Fedgate's.

use actix_web::{App, HttpResponse, HttpServer, web};

const LOCATION: &str = "https://accounts.example.com/o/oauth2/v2/auth?response_type=code&client_id=bench&redirect_uri=http%3A%2F%2Flocalhost%2Fcallback&scope=openid+email+profile&state=0123456789abcdef0123456789abcdef&nonce=0123456789abcdef0123456789abcdef&code_challenge=0123456789abcdef0123456789abcdef0123456789a&code_challenge_method=S256";

async fn redirect() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("location", LOCATION))
        .insert_header((
            "set-cookie",
            "fedgate_login=0123456789abcdef0123456789abcdef; Path=/hosted; HttpOnly; SameSite=Lax",
        ))
        .finish()
}

/// Serves the redirect on `127.0.0.1:port` with as many workers as Fedgate uses by
/// default (one per core) until killed.
pub fn serve(port: u16) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().default_service(web::to(redirect)))
            .bind(("127.0.0.1", port))?
            .run()
            .await
    })
}
