//! The dashboard's JSON routes (and its page). Engine calls block on disk,
//! so each runs on tokio's blocking pool.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use pledgedb_core::query::Dimension;
use pledgedb_core::time::Timestamp;
use pledgedb_core::{DayRange, Domain, SessionId};
use serde_json::{Value, json};

use super::overview::{self, Range};
use super::{page, read_error};
use crate::auth::{ApiError, Auth};
use crate::state::AppState;
use crate::stats::{blocking, domain_of};

type Params = Query<HashMap<String, String>>;

/// The site's engine handle, if the caller may read it.
fn site(state: &AppState, auth: &Auth, name: &str) -> Result<Domain, ApiError> {
    auth.can_read(name)?;
    domain_of(state, name)
}

/// The site's engine handle, if the caller operates it (submitted values,
/// shared links, the audit).
fn operated(state: &AppState, auth: &Auth, name: &str) -> Result<Domain, ApiError> {
    auth.can_operate(name)?;
    domain_of(state, name)
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, what)
}

fn range_of(state: &AppState, p: &HashMap<String, String>) -> Result<Range, ApiError> {
    Range::parse(
        p.get("range").map(String::as_str),
        p.get("from").map(String::as_str),
        p.get("to").map(String::as_str),
        state.db.clock().now().day(),
    )
}

/// A dashboard question about one site: the caller, the site's name (the
/// path's `{site}`) and the query string, extracted in that order.
pub struct SiteAsk {
    state: AppState,
    auth: Auth,
    name: String,
    p: HashMap<String, String>,
}

impl FromRequestParts<AppState> for SiteAsk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<SiteAsk, Response> {
        let auth = Auth::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(p) = Params::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(SiteAsk {
            state: state.clone(),
            auth,
            name,
            p,
        })
    }
}

/// What a dashboard question is answered from: the site's handle, the
/// range asked for and the query string.
struct Asked {
    d: Domain,
    range: Range,
    p: HashMap<String, String>,
}

impl SiteAsk {
    /// On the blocking pool: the site, if `may` lets the caller have it
    /// ([`site`] or [`operated`]), then the range, then `answer`.
    async fn answer<T: Send + 'static>(
        self,
        may: fn(&AppState, &Auth, &str) -> Result<Domain, ApiError>,
        answer: impl FnOnce(Asked) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<Json<T>, ApiError> {
        blocking(move || {
            let d = may(&self.state, &self.auth, &self.name)?;
            let range = range_of(&self.state, &self.p)?;
            answer(Asked {
                d,
                range,
                p: self.p,
            })
            .map(Json)
        })
        .await
    }
}

/// The dashboard's numbers for `range` under the query string's filters;
/// `fold_below` as in [`overview::overview`].
fn overview_of(
    d: &Domain,
    range: Range,
    p: &HashMap<String, String>,
    fold_below: Option<u32>,
) -> Result<overview::Overview, ApiError> {
    let filters = overview::filters(|key| p.get(key).cloned())?;
    overview::overview(d, range, filters, fold_below)
}

/// `GET /app...`: the page, or the login page for a visitor without a
/// session.
pub async fn app_page(auth: Result<Auth, ApiError>, uri: axum::http::Uri) -> Response {
    match auth {
        Ok(a) => page(a.csrf.as_deref().unwrap_or(""), "app"),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            // Back to the same page after signing in; the path is the
            // request's own (percent-encoded as received), `&` kept out of
            // the query.
            let back = uri.path().replace('&', "%26");
            Redirect::to(&format!("/login?next={back}")).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /app/api/sites`: the sites the viewer may see, with last 30 days'
/// visitors.
pub async fn sites(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let today = state.db.clock().now().day();
        let q = pledgedb_core::Query::days(DayRange::last_n(today, 30));
        let mut out = Vec::new();
        for name in state.db.domains() {
            if auth.can_read(&name).is_err() {
                continue;
            }
            let visitors = match state.db.domain(&name) {
                Ok(d) => d.metrics(&q).map(|m| m.visitors).unwrap_or(0),
                Err(_) => continue,
            };
            out.push(json!({ "name": name, "visitors": visitors }));
        }
        Ok(Json(json!({ "sites": out })))
    })
    .await
}

/// `GET /app/api/site/{site}/overview`.
pub async fn overview(ask: SiteAsk) -> Result<Json<overview::Overview>, ApiError> {
    ask.answer(site, |a| overview_of(&a.d, a.range, &a.p, None))
        .await
}

/// `GET /app/api/site/{site}/forms`: funnels and field reports.
pub async fn forms(ask: SiteAsk) -> Result<Json<Value>, ApiError> {
    ask.answer(site, |a| {
        let reports = a.d.form_analytics(a.range.days, None).map_err(read_error)?;
        let forms: Vec<Value> = reports
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                if let Some(fields) = v.get_mut("fields").and_then(Value::as_array_mut) {
                    for (f, rep) in fields.iter_mut().zip(&r.fields) {
                        f["avg_hesitation_ms"] = json!(rep.avg_hesitation_ms());
                    }
                }
                v
            })
            .collect();
        Ok(json!({ "forms": forms }))
    })
    .await
}

/// `GET /app/api/site/{site}/submissions` (operators): submitted values,
/// which exist only for fields that were not sensitive.
pub async fn submissions(ask: SiteAsk) -> Result<Json<Value>, ApiError> {
    ask.answer(operated, |a| {
        let s = a.d.submissions(a.range.days, None).map_err(read_error)?;
        Ok(json!({ "submissions": s }))
    })
    .await
}

/// Visits listed per page of the replay list.
const SESSION_ROWS: usize = 200;

/// `GET /app/api/site/{site}/sessions`: recent visits.
pub async fn sessions(ask: SiteAsk) -> Result<Json<Value>, ApiError> {
    ask.answer(site, |a| {
        let list: Vec<Value> =
            a.d.sessions(a.range.days, SESSION_ROWS)
                .map_err(read_error)?
                .into_iter()
                .map(|s| {
                    let mut v = serde_json::to_value(&s).unwrap_or(Value::Null);
                    v["duration_ms"] = json!(s.end.0.saturating_sub(s.start.0));
                    v
                })
                .collect();
        Ok(json!({ "sessions": list }))
    })
    .await
}

/// `GET /app/api/site/{site}/replay/{session}`: one visit's steps.
pub async fn replay(
    State(state): State<AppState>,
    auth: Auth,
    Path((name, session)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let d = site(&state, &auth, &name)?;
        let id = SessionId::parse_hex(&session)
            .ok_or_else(|| ApiError::bad_request("a session id is 16 hex digits"))?;
        let steps = d.replay(id).map_err(read_error)?;
        if steps.is_empty() {
            return Err(not_found("no such visit (erased or expired?)"));
        }
        let mut steps = serde_json::to_value(steps).map_err(|_| ApiError::internal())?;
        if auth.can_operate(&name).is_err() {
            withhold_values(&mut steps);
        }
        Ok(Json(json!({ "session": session, "steps": steps })))
    })
    .await
}

/// Submitted values are for operators: for anyone else a replay's submits
/// keep their field names and lose their values (in the event and in its
/// description).
fn withhold_values(steps: &mut Value) {
    for step in steps.as_array_mut().into_iter().flatten() {
        if step["action"]["type"] != "form_submit" {
            continue;
        }
        let mut names = Vec::new();
        for f in step["action"]["fields"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            names.push(f["name"].as_str().unwrap_or_default().to_string());
            f["value"] = Value::Null;
        }
        let form = step["action"]["form"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        step["detail"] = json!(format!(
            "{form}: {} (values are shown to operators only)",
            names.join(", ")
        ));
    }
}

/// Heatmap cell edge, in CSS pixels.
const CELL_PX: u32 = 20;

/// `GET /app/api/site/{site}/heatmap?heat=PAGE`: click cells of a page and
/// its most clicked targets.
pub async fn heatmap(ask: SiteAsk) -> Result<Json<Value>, ApiError> {
    ask.answer(site, |Asked { d, range, p }| {
        let days = range.days;
        let pages: Vec<String> = d
            .breakdown(&pledgedb_core::Query::days(days), Dimension::Page, 25)
            .map_err(read_error)?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let page = p
            .get("heat")
            .cloned()
            .or_else(|| pages.first().cloned())
            .unwrap_or_else(|| "/".into());
        let cells = d.heatmap(days, &page, CELL_PX).map_err(read_error)?;
        let targets: Vec<Value> = d
            .click_targets(days, &page, 10)
            .map_err(read_error)?
            .into_iter()
            .map(|(t, n)| json!({ "target": t, "clicks": n }))
            .collect();
        Ok(json!({
            "page": page, "pages": pages, "cell_px": CELL_PX, "cells": cells, "targets": targets,
        }))
    })
    .await
}

/// `GET /app/api/site/{site}/audit` (operators): the IP audit of every
/// stored byte.
pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        operated(&state, &auth, &name)?;
        let r = pledgedb_core::audit_dir(state.db.path()).map_err(|_| ApiError::internal())?;
        Ok(Json(json!({
            "clean": r.findings.is_empty(), "files": r.files, "bytes": r.bytes, "findings": r.findings,
        })))
    })
    .await
}

fn share_rows(state: &AppState, site: &str) -> Vec<Value> {
    state
        .shares
        .of_site(site)
        .into_iter()
        .map(|s| json!({ "id": s.id, "created": Timestamp(s.created_ms).to_string() }))
        .collect()
}

/// `GET /app/api/site/{site}/shares` (operators).
pub async fn shares(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = operated(&state, &auth, &name)?;
    let k = d.settings().min_aggregate_visitors;
    Ok(Json(json!({ "k": k, "shares": share_rows(&state, &name) })))
}

/// `POST /app/api/site/{site}/shares` (operators): a new read-only link.
pub async fn share_create(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    operated(&state, &auth, &name)?;
    let now = state.db.clock().now().0;
    let (token, share) = state
        .shares
        .create(&name, now)
        .map_err(|_| ApiError::internal())?;
    Ok(Json(
        json!({ "id": share.id, "path": format!("/share/{token}") }),
    ))
}

/// `POST /app/api/site/{site}/shares/{id}/revoke` (operators).
pub async fn share_revoke(
    State(state): State<AppState>,
    auth: Auth,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    operated(&state, &auth, &name)?;
    if !state
        .shares
        .revoke(&name, &id)
        .map_err(|_| ApiError::internal())?
    {
        return Err(not_found("no such link"));
    }
    Ok(Json(json!({ "revoked": id })))
}

const GONE: &str = "this link does not exist or was revoked";

/// `GET /share/{token}`: the shared dashboard's page.
pub async fn share_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.shares.resolve(&token) {
        Some(_) => page("", "share"),
        None => not_found(GONE).into_response(),
    }
}

/// `GET /share/{token}/api/overview`: the dashboard with every row seen by
/// fewer than the site's `min_aggregate_visitors` folded into `(other)`.
pub async fn share_overview(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(p): Params,
) -> Result<Json<overview::Overview>, ApiError> {
    let name = state
        .shares
        .resolve(&token)
        .ok_or_else(|| not_found(GONE))?;
    blocking(move || {
        let d = domain_of(&state, &name)?;
        let k = d.settings().min_aggregate_visitors.max(1);
        let range = range_of(&state, &p)?;
        Ok(Json(overview_of(&d, range, &p, Some(k))?))
    })
    .await
}
