//! `/dev-app/callback`: a result page to register as an OAuth redirect URI while
//! trying Fedgate. It shows what an app would receive, verifies `autoLoginToken`
//! against the application's signing keys (those its JWKS publishes), and redeems a
//! `resultCode` through the signed application API with an access key the tester
//! pastes — exactly what an app's backend would do.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fedgate_domain::ids::ApplicationId;
use serde::Deserialize;

use crate::error::ApiError;
use crate::html::{escape, page};
use crate::state::AppState;

fn rows(pairs: &[(String, String)]) -> String {
    let cells = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">{}</th>\
                 <td style=\"word-break:break-all\"><code data-name=\"{0}\">{}</code></td></tr>",
                escape(k),
                escape(v)
            )
        })
        .collect::<String>();
    format!("<table>{cells}</table>")
}

/// What the page says about an `autoLoginToken`.
async fn verdict(state: &AppState, token: &str) -> String {
    let aud = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|c| c["aud"].as_str().map(str::to_owned));
    let Some(app) = aud.as_deref().and_then(ApplicationId::parse) else {
        return "<p id=\"token-verdict\" data-valid=\"false\">✗ Not a Fedgate user token.</p>"
            .into();
    };
    let jwks = format!(
        "{}/hosted/{app}/jwks.json",
        state.public_base_url.as_str().trim_end_matches('/')
    );
    let checked = match state.tokens.verifier(app).await {
        Ok(v) => v.verify(token, state.clock.now().timestamp()),
        Err(e) => {
            return format!(
                "<p id=\"token-verdict\" data-valid=\"false\">✗ The application's keys could not be read: {}</p>",
                escape(&e.to_string())
            );
        }
    };
    match checked {
        Ok(claims) => format!(
            "<p id=\"token-verdict\" data-valid=\"true\">✓ <strong>autoLoginToken verified</strong> against the \
             application's key (published at <code>{}</code>): user <code>{}</code>, expires at {} (Unix time).</p>",
            escape(&jwks),
            escape(&claims.sub),
            claims.exp
        ),
        Err(r) => format!(
            "<p id=\"token-verdict\" data-valid=\"false\">✗ autoLoginToken refused: {}</p>",
            escape(&r.to_string())
        ),
    }
}

/// `GET /dev-app/callback`.
pub async fn callback(
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    super::dev(&state)?;
    let pairs = query.into_inner();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut body = String::from(
        "<p>This is Fedgate's development result page, standing in for your app's redirect URI. \
         Here is what your app would receive:</p>",
    );
    if let Some(error) = get("error") {
        body.push_str(&format!(
            "<p role=\"alert\" style=\"color:#b42318\"><strong>{}</strong> {}</p>",
            escape(&error),
            escape(&get("error_description").unwrap_or_default())
        ));
    }
    body.push_str(&rows(&pairs));
    if let Some(token) = get("autoLoginToken") {
        body.push_str(&verdict(&state, &token).await);
    }
    if let Some(code) = get("resultCode") {
        body.push_str(&format!(
            "<h2>Redeem the result code</h2>\
             <p>Your backend would redeem it with a signed request. Paste one of the application's access keys \
             (Access keys in the panel) to do the same here; it is used once and not stored.</p>\
             <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"code\" value=\"{code}\">\
             <p><label>Access key id<br><input name=\"key_id\" required style=\"width:100%\"></label></p>\
             <p><label>Access key secret<br><input name=\"secret\" type=\"password\" required autocomplete=\"off\" style=\"width:100%\"></label></p>\
             <p><button type=\"submit\">Redeem</button></p></form>",
            action = escape(&format!(
                "{}/dev-app/redeem",
                state.public_base_url.as_str().trim_end_matches('/')
            )),
            code = escape(&code)
        ));
    }
    Ok(page(
        StatusCode::OK,
        "Signed in — development result",
        &body,
    ))
}

/// The redeem form as posted.
#[derive(Debug, Deserialize)]
pub struct RedeemForm {
    code: String,
    key_id: String,
    secret: String,
}

/// `POST /dev-app/redeem`: redeems the code through the signed application API.
pub async fn redeem(
    state: web::Data<AppState>,
    form: web::Form<RedeemForm>,
) -> Result<HttpResponse, ApiError> {
    super::dev(&state)?;
    let f = form.into_inner();
    let base = state.public_base_url.as_str().trim_end_matches('/');
    let outcome = match fedgate_client::Client::new(base, f.key_id.trim(), f.secret.trim()) {
        Ok(client) => client
            .redeem_result(f.code.trim())
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let body = match outcome {
        Ok(result) => {
            let mut pairs = vec![
                ("federatingService".to_owned(), result.federating_service),
                ("federationProvider".to_owned(), result.federation_provider),
                ("federatedUserId".to_owned(), result.federated_user_id),
                (
                    "linkCandidates".to_owned(),
                    result.link_candidates.join(","),
                ),
            ];
            if let Some(u) = result.linked_user {
                pairs.push(("linkedUser".to_owned(), u));
            }
            let token = result.auto_login_token.clone();
            if let Some(t) = result.auto_login_token {
                pairs.push(("autoLoginToken".to_owned(), t));
            }
            let mut body = format!(
                "<p>Redeemed through <code>POST /api/v1/login-results/redeem</code>, signed with the access key:</p>{}",
                rows(&pairs)
            );
            if let Some(t) = token {
                body.push_str(&verdict(&state, &t).await);
            }
            body
        }
        Err(e) => format!(
            "<p role=\"alert\" style=\"color:#b42318\">The result code could not be redeemed: {}</p>",
            escape(&e)
        ),
    };
    Ok(page(
        StatusCode::OK,
        "Result code redeemed — development result",
        &body,
    ))
}
