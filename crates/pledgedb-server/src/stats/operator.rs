//! Operator endpoints (an admin user, or an admin key of the site; for a
//! session, the CSRF rule of [`crate::auth`]):
//!
//! - `POST /api/v2/operator/export` `{"site_id", "visitor"}`: everything
//!   stored about one visitor (promise P5, `Domain::export_visitor`);
//! - `POST /api/v2/operator/erase` `{"site_id", "visitor"}`: erases the
//!   visitor (promise P6, `Domain::erase_visitor`) and answers with the
//!   receipt;
//! - `POST /api/v2/operator/opt-out` and `/opt-in` `{"token"}`: the global
//!   opt-out registry (promise P3, `Db::opt_out`, `Db::opt_in`);
//! - `GET /api/v2/operator/privacy-report`: the transparency report
//!   (promise P9, `Db::privacy_report`).
//!
//! `visitor` is a 16-digit hex visitor id (as exports and SQL show it) or
//! the first-party client id the tracker sent (`VisitorRef::parse`).
//! Errors never repeat the visitor or the token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pledgedb_core::{Domain, EraseError, Erasure, VisitorRef};
use serde_json::{Value, json};

use super::{blocking, domain_of, json_body, site_id};
use crate::auth::{ApiError, Auth};
use crate::dashboard::read_error;
use crate::state::AppState;

/// Longest visitor reference or opt-out token accepted.
pub const MAX_REF: usize = 256;

fn text_field<'a>(v: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    v.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty() && s.len() <= MAX_REF)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required (1 to {MAX_REF} bytes)")))
}

/// The body of an export or an erasure: `site_id`, a site the caller
/// operates, and `visitor`.
fn site_and_visitor(
    state: &AppState,
    auth: &Auth,
    body: &[u8],
) -> Result<(Domain, VisitorRef), ApiError> {
    let body = json_body(body)?;
    let site = site_id(&body)?;
    auth.can_operate(site)?;
    let visitor = VisitorRef::parse(text_field(&body, "visitor")?);
    Ok((domain_of(state, site)?, visitor))
}

pub(super) async fn export(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (domain, who) = site_and_visitor(&state, &auth, &body)?;
    let export = blocking(move || domain.export_visitor(&who).map_err(read_error)).await?;
    serde_json::to_value(&export)
        .map(Json)
        .map_err(|_| ApiError::internal())
}

pub(super) async fn erase(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Response {
    let run = async {
        let (domain, who) = site_and_visitor(&state, &auth, &body)?;
        blocking(move || {
            domain.erase_visitor(&who).map_err(|e| match e {
                EraseError::InvalidId(m) => ApiError::bad_request(format!("invalid visitor: {m}")),
                EraseError::DomainGone => ApiError::new(StatusCode::NOT_FOUND, "no such site"),
                _ => ApiError::internal(),
            })
        })
        .await
    };
    match run.await {
        Ok(Erasure::Pending(r)) => {
            // The request number is in the anonymous erasure log; no id.
            crate::log!("erasure request {} recorded", r.request);
            (StatusCode::ACCEPTED, Json(Erasure::Pending(r))).into_response()
        }
        Ok(e @ Erasure::NotFound) => Json(e).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn opt(state: AppState, auth: Auth, body: axum::body::Bytes, out: bool) -> Response {
    let run = async {
        auth.can_operate_anywhere()?;
        let body = json_body(&body)?;
        // The registry is global; a request that names a site is held to
        // that site all the same.
        if let Some(site) = body.get("site_id") {
            auth.can_operate(site.as_str().unwrap_or(""))?;
        }
        let token = text_field(&body, "token")?.to_string();
        let db = state.db.clone();
        blocking(move || {
            if out {
                db.opt_out(&token)
            } else {
                db.opt_in(&token)
            }
            .map_err(|_| ApiError::internal())
        })
        .await
    };
    match run.await {
        Ok(()) => Json(json!({ "opted_out": out })).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(super) async fn opt_out(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Response {
    opt(state, auth, body, true).await
}

pub(super) async fn opt_in(
    State(state): State<AppState>,
    auth: Auth,
    body: axum::body::Bytes,
) -> Response {
    opt(state, auth, body, false).await
}

/// `?site_id=D`, when given, must be a site the caller operates.
#[derive(serde::Deserialize)]
pub(super) struct SiteParam {
    site_id: Option<String>,
}

/// The part of the privacy report a caller may see: the domains it may read
/// (only the one it named, if it named one), with their overdue purges and
/// quarantined files. An admin key of one site learns nothing of the other
/// sites of the server, not even their names; files outside every domain
/// (the global file) are shown only to a caller of every site.
fn visible_report(
    r: pledgedb_core::PrivacyReport,
    auth: &Auth,
    site: Option<&str>,
) -> pledgedb_core::PrivacyReport {
    let everything = site.is_none() && matches!(auth.access, crate::auth::Access::All);
    r.visible_to(
        |d| auth.can_read(d).is_ok() && site.is_none_or(|s| s == d),
        everything,
    )
}

pub(super) async fn privacy_report(
    State(state): State<AppState>,
    auth: Auth,
    axum::extract::Query(p): axum::extract::Query<SiteParam>,
) -> Response {
    let run = async {
        auth.can_operate_anywhere()?;
        if let Some(site) = &p.site_id {
            auth.can_operate(site)?;
        }
        let db = state.db.clone();
        let report =
            blocking(move || db.privacy_report().map_err(|_| ApiError::internal())).await?;
        let report = visible_report(report, &auth, p.site_id.as_deref());
        serde_json::to_value(&report).map_err(|_| ApiError::internal())
    };
    match run.await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
