//! The dashboard's JSON routes (and its page). Engine calls block on disk,
//! so each runs on tokio's blocking pool.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use pledgedb_core::query::Dimension;
use pledgedb_core::time::Timestamp;
use pledgedb_core::{DayRange, Domain, SessionId, VisitorId, VisitorRef};
use serde::Deserialize;
use serde_json::{Value, json};

use super::overview::{self, Range};
use super::{DashError, Viewer, page};
use crate::state::AppState;

type Params = Query<HashMap<String, String>>;

/// Runs an engine call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DashError> + Send + 'static,
) -> Result<T, DashError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DashError::Engine(e.to_string()))?
}

/// The site's engine handle, if the viewer may see it.
fn site(state: &AppState, viewer: &Viewer, name: &str) -> Result<Domain, DashError> {
    if !viewer.may_see(name) {
        return Err(DashError::Forbidden(format!("you may not see {name}")));
    }
    Ok(state.db.domain(name)?)
}

fn operated(state: &AppState, viewer: &Viewer, name: &str) -> Result<Domain, DashError> {
    let d = site(state, viewer, name)?;
    if !viewer.operates(name) {
        return Err(DashError::Forbidden(
            "privacy operations and submitted values are for operators".into(),
        ));
    }
    Ok(d)
}

fn range_of(state: &AppState, p: &HashMap<String, String>) -> Result<Range, DashError> {
    Range::parse(
        p.get("range").map(String::as_str),
        p.get("from").map(String::as_str),
        p.get("to").map(String::as_str),
        state.db.clock().now().day(),
    )
}

fn days_of(state: &AppState, p: &HashMap<String, String>) -> Result<DayRange, DashError> {
    Ok(range_of(state, p)?.days)
}

/// `GET /app...`: the page, or the login page for a visitor without a
/// session.
pub async fn app_page(viewer: Result<Viewer, DashError>, headers: HeaderMap) -> Response {
    let _ = headers;
    match viewer {
        Ok(v) => page(&v.csrf, "app"),
        Err(DashError::Unauthenticated) => Redirect::to("/login?next=/app").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /app/api/sites`: the sites the viewer may see, with last 30 days'
/// visitors.
pub async fn sites(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let today = state.db.clock().now().day();
        let q = pledgedb_core::Query::days(DayRange::last_n(today, 30));
        let mut out = Vec::new();
        for name in state.db.domains() {
            if !viewer.may_see(&name) {
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
pub async fn overview(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(p): Params,
) -> Result<Json<overview::Overview>, DashError> {
    blocking(move || {
        let d = site(&state, &viewer, &name)?;
        let range = range_of(&state, &p)?;
        let filters = overview::filters(|k| p.get(k).cloned())?;
        Ok(Json(overview::overview(&d, range, filters, None)?))
    })
    .await
}

/// `GET /app/api/site/{site}/forms`: funnels and field reports.
pub async fn forms(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(p): Params,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = site(&state, &viewer, &name)?;
        let reports = d.form_analytics(days_of(&state, &p)?, None)?;
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
        Ok(Json(json!({ "forms": forms })))
    })
    .await
}

/// `GET /app/api/site/{site}/submissions` (operators): submitted values,
/// which exist only for fields that were not sensitive.
pub async fn submissions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(p): Params,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = operated(&state, &viewer, &name)?;
        let s = d.submissions(days_of(&state, &p)?, None)?;
        Ok(Json(json!({ "submissions": s })))
    })
    .await
}

/// Visits listed per page of the replay list.
const SESSION_ROWS: usize = 200;

/// `GET /app/api/site/{site}/sessions`: recent visits.
pub async fn sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(p): Params,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = site(&state, &viewer, &name)?;
        let list: Vec<Value> = d
            .sessions(days_of(&state, &p)?, SESSION_ROWS)?
            .into_iter()
            .map(|s| {
                let mut v = serde_json::to_value(&s).unwrap_or(Value::Null);
                v["duration_ms"] = json!(s.end.0.saturating_sub(s.start.0));
                v
            })
            .collect();
        Ok(Json(json!({ "sessions": list })))
    })
    .await
}

/// `GET /app/api/site/{site}/replay/{session}`: one visit's steps.
pub async fn replay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, session)): Path<(String, String)>,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = site(&state, &viewer, &name)?;
        let id = SessionId::parse_hex(&session)
            .ok_or_else(|| DashError::Bad("a session id is 16 hex digits".into()))?;
        let steps = d.replay(id)?;
        if steps.is_empty() {
            return Err(DashError::NotFound(
                "no such visit (erased or expired?)".into(),
            ));
        }
        Ok(Json(json!({ "session": session, "steps": steps })))
    })
    .await
}

/// Heatmap cell edge, in CSS pixels.
const CELL_PX: u32 = 20;

/// `GET /app/api/site/{site}/heatmap?heat=PAGE`: click cells of a page and
/// its most clicked targets.
pub async fn heatmap(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(p): Params,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = site(&state, &viewer, &name)?;
        let days = days_of(&state, &p)?;
        let pages: Vec<String> = d
            .breakdown(&pledgedb_core::Query::days(days), Dimension::Page, 25)?
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        let page = p
            .get("heat")
            .cloned()
            .or_else(|| pages.first().cloned())
            .unwrap_or_else(|| "/".into());
        let cells = d.heatmap(days, &page, CELL_PX)?;
        let targets: Vec<Value> = d
            .click_targets(days, &page, 10)?
            .into_iter()
            .map(|(t, n)| json!({ "target": t, "clicks": n }))
            .collect();
        Ok(Json(json!({
            "page": page, "pages": pages, "cell_px": CELL_PX, "cells": cells, "targets": targets,
        })))
    })
    .await
}

/// `GET /app/api/site/{site}/privacy` (operators): the privacy report,
/// with the site's own entry only.
pub async fn privacy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        operated(&state, &viewer, &name)?;
        let mut r = state
            .db
            .privacy_report()
            .map_err(|e| DashError::Engine(e.to_string()))?;
        r.domains.retain(|d| d.name == name);
        Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null)))
    })
    .await
}

/// `GET /app/api/site/{site}/audit` (operators): the IP audit of every
/// stored byte.
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        operated(&state, &viewer, &name)?;
        let r = pledgedb_core::audit_dir(state.db.path())
            .map_err(|e| DashError::Engine(e.to_string()))?;
        Ok(Json(json!({
            "clean": r.findings.is_empty(), "files": r.files, "bytes": r.bytes, "findings": r.findings,
        })))
    })
    .await
}

/// Whom a privacy operation is about.
#[derive(Deserialize)]
pub struct Who {
    visitor: Option<String>,
    client: Option<String>,
}

impl Who {
    fn reference(self) -> Result<VisitorRef, DashError> {
        match (self.visitor, self.client) {
            (Some(v), None) => VisitorId::parse_hex(v.trim())
                .map(VisitorRef::Id)
                .ok_or_else(|| DashError::Bad("a visitor id is 16 hex digits".into())),
            (None, Some(c)) if !c.is_empty() => Ok(VisitorRef::ClientId(c)),
            _ => Err(DashError::Bad(
                "give exactly one of `visitor` (16 hex digits) or `client`".into(),
            )),
        }
    }
}

/// `POST /app/api/site/{site}/export` (operators): everything stored about
/// one visitor.
pub async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Json(who): Json<Who>,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = operated(&state, &viewer, &name)?;
        let e = d.export_visitor(&who.reference()?)?;
        Ok(Json(serde_json::to_value(e).unwrap_or(Value::Null)))
    })
    .await
}

/// `POST /app/api/site/{site}/erase` (operators): erases one visitor and
/// answers with the receipt.
pub async fn erase(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Json(who): Json<Who>,
) -> Result<Json<Value>, DashError> {
    blocking(move || {
        let d = operated(&state, &viewer, &name)?;
        let e = d.erase_visitor(&who.reference()?)?;
        Ok(Json(serde_json::to_value(e).unwrap_or(Value::Null)))
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
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Json<Value>, DashError> {
    let d = operated(&state, &viewer, &name)?;
    let k = d.settings().min_aggregate_visitors;
    Ok(Json(json!({ "k": k, "shares": share_rows(&state, &name) })))
}

/// `POST /app/api/site/{site}/shares` (operators): a new read-only link.
pub async fn share_create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> Result<Json<Value>, DashError> {
    operated(&state, &viewer, &name)?;
    let now = state.db.clock().now().0;
    let (token, share) = state
        .shares
        .create(&name, now)
        .map_err(|e| DashError::Engine(e.to_string()))?;
    Ok(Json(
        json!({ "id": share.id, "path": format!("/share/{token}") }),
    ))
}

/// `POST /app/api/site/{site}/shares/{id}/revoke` (operators).
pub async fn share_revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, DashError> {
    operated(&state, &viewer, &name)?;
    if !state
        .shares
        .revoke(&name, &id)
        .map_err(|e| DashError::Engine(e.to_string()))?
    {
        return Err(DashError::NotFound("no such link".into()));
    }
    Ok(Json(json!({ "revoked": id })))
}

/// `GET /share/{token}`: the shared dashboard's page.
pub async fn share_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.shares.resolve(&token) {
        Some(_) => page("", "share"),
        None => {
            DashError::NotFound("this link does not exist or was revoked".into()).into_response()
        }
    }
}

/// `GET /share/{token}/api/overview`: the dashboard with every row seen by
/// fewer than the site's `min_aggregate_visitors` folded into `(other)`.
pub async fn share_overview(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(p): Params,
) -> Result<Json<overview::Overview>, DashError> {
    let name = state
        .shares
        .resolve(&token)
        .ok_or_else(|| DashError::NotFound("this link does not exist or was revoked".into()))?;
    blocking(move || {
        let d = state.db.domain(&name)?;
        let k = d.settings().min_aggregate_visitors.max(1);
        let range = range_of(&state, &p)?;
        let filters = overview::filters(|key| p.get(key).cloned())?;
        Ok(Json(overview::overview(&d, range, filters, Some(k))?))
    })
    .await
}
