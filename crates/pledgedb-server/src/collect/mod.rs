//! The public collector: `POST /api/event` (Plausible's Events API shape)
//! and `POST /api/hits` (PledgeDB's batched format), and the tracker script.
//!
//! Every collector request goes through the same steps, and a refused
//! request writes nothing:
//! 1. rate: one token of the client's bucket (keyed hash of its address);
//! 2. content type: `application/json` or `text/plain` (what
//!    `navigator.sendBeacon` and Plausible's script send), else 415;
//! 3. the body is parsed whole (malformed: 400 naming the field and the
//!    hit's position);
//! 4. every hit is checked: its domain is a registered site (else 400), the
//!    request's `Origin`, if any, may send for that site (else 403), the
//!    engine's size limits and the property limits hold (else 400), the
//!    batch's other hits cost tokens too (else 429);
//! 5. only then are the hits ingested, with the address, user agent, DNT,
//!    GPC and the opt-out cookie taken from the request.

pub mod parse;
pub mod tracker;

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use pledgedb_core::{Consent, Hit, Ingested, Timestamp};

use crate::state::AppState;
use parse::{BadInput, BatchHit, BodyLimits};

/// The name of the opt-out cookie set by `/opt-out` on the server's origin.
pub const OPT_OUT_COOKIE: &str = "pledge_optout";

/// A client timestamp further than this in the past is replaced by the
/// arrival time (a tracker sends its queue within seconds).
const MAX_CLIENT_DELAY_MS: i64 = 10 * 60 * 1000;

/// The collector's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/event", collector("/api/event", plausible_hits))
        .route("/api/hits", collector("/api/hits", batch_hits))
        .merge(tracker::routes())
}

/// A refusal: a status and a reason, as JSON `{"error": reason}`.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 });
        (self.0, axum::Json(body)).into_response()
    }
}

fn bad(e: BadInput) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, e.0)
}

/// The `Origin` header, if the request has one.
fn origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// Whether an origin may send hits for any registered site.
fn origin_allowed_anywhere(state: &AppState, origin: &str) -> bool {
    state
        .db
        .domains()
        .iter()
        .any(|d| origin_allowed(state, origin, d))
}

fn origin_allowed(state: &AppState, origin: &str, domain: &str) -> bool {
    crate::sites::allowed_for(
        origin,
        domain,
        state.origins.extra(domain),
        &state.config.extra_origins,
    )
}

/// CORS headers for an allowed origin (credentials, so the opt-out cookie
/// of the server's origin travels with a beacon).
fn cors(res: &mut Response, origin: &str) {
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
}

/// `OPTIONS`: a CORS preflight. Allowed only for a registered site's
/// origin; anything else gets 403 without CORS headers.
async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(o) = origin(&headers) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    if !origin_allowed_anywhere(&state, o) {
        return Refusal(
            StatusCode::FORBIDDEN,
            "origin: not a registered site".into(),
        )
        .into_response();
    }
    let mut res = (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response();
    cors(&mut res, o);
    res
}

/// What the request itself says about the client.
struct ClientInfo {
    ip: IpAddr,
    user_agent: Option<String>,
    dnt: bool,
    gpc: bool,
    opt_out_cookie: Option<String>,
}

fn header_is_one(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "1")
}

/// The value of a cookie in the request's `Cookie` headers, when not
/// empty.
#[must_use]
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    crate::auth::cookie(headers, name)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn client_info(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> ClientInfo {
    ClientInfo {
        ip: crate::client::client_ip(peer.ip(), headers, &state.config.trusted_proxies),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        dnt: header_is_one(headers, "dnt"),
        gpc: header_is_one(headers, "sec-gpc"),
        opt_out_cookie: cookie(headers, OPT_OUT_COOKIE),
    }
}

/// `application/json` or `text/plain`, any parameters.
fn content_type_ok(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case("text/plain")
}

/// Steps 1-3 of the module's list: rate, content type, UTF-8.
fn admit<'b>(
    state: &AppState,
    info: &ClientInfo,
    headers: &HeaderMap,
    body: &'b Bytes,
) -> Result<&'b str, Refusal> {
    if !state.rate.allow(info.ip, 1, state.db.clock().as_ref()) {
        return Err(too_many());
    }
    if !content_type_ok(headers) {
        return Err(Refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content-type: expected application/json or text/plain".into(),
        ));
    }
    std::str::from_utf8(body)
        .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "body: not UTF-8".into()))
}

fn too_many() -> Refusal {
    Refusal(
        StatusCode::TOO_MANY_REQUESTS,
        "rate: too many requests from this client; slow down".into(),
    )
}

/// Step 4 for one hit, and the request's facts put into it.
fn check_and_fill(
    state: &AppState,
    info: &ClientInfo,
    origin: Option<&str>,
    i: Option<usize>,
    hit: &mut Hit,
    limits: &BodyLimits,
) -> Result<(), Refusal> {
    let at = |m: &str| match i {
        Some(i) => format!("hits[{i}]: {m}"),
        None => m.to_owned(),
    };
    hit.domain = hit.domain.trim().to_ascii_lowercase();
    if pledgedb_core::limits::validate_domain_name(&hit.domain).is_err()
        || state.db.domain(&hit.domain).is_err()
    {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            at("`domain`: not a site of this server (register it with `pledgedb DIR site add`)"),
        ));
    }
    if let Some(o) = origin
        && !origin_allowed(state, o, &hit.domain)
    {
        return Err(Refusal(
            StatusCode::FORBIDDEN,
            at("origin: may not send hits for this site"),
        ));
    }
    parse::check_props(hit, limits).map_err(|m| Refusal(StatusCode::BAD_REQUEST, at(&m)))?;
    hit.ip = Some(info.ip);
    hit.user_agent.clone_from(&info.user_agent);
    hit.dnt |= info.dnt;
    hit.gpc |= info.gpc;
    if let Some(c) = &info.opt_out_cookie
        && state.db.is_opted_out(c)
    {
        hit.opt_out_token = Some(c.clone());
    }
    // A first-party id only with consent.
    if hit.consent != Consent::Granted {
        hit.client_id = None;
        hit.session_id = None;
    }
    let now = state.db.clock().now().millis();
    hit.timestamp = match hit.timestamp {
        Some(t) if t.millis() <= now && now - t.millis() <= MAX_CLIENT_DELAY_MS => Some(t),
        _ => Some(Timestamp(now)),
    };
    state
        .db_limits
        .check(hit)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, at(&e.to_string())))?;
    Ok(())
}

/// Step 5: ingest, count, answer 202.
fn ingest(state: &AppState, hits: Vec<Hit>, mut dropped: usize) -> Response {
    let n = hits.len();
    let mut accepted = 0usize;
    for r in state.db.ingest_batch(hits) {
        match r {
            Ok(Ingested::Queued | Ingested::QueuedAnonymous) => accepted += 1,
            Ok(Ingested::Dropped(_)) => dropped += 1,
            Err(e) => {
                crate::log!("collector: a hit of a batch of {n} failed: {e}");
                return Refusal(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "storage: the hit could not be stored".into(),
                )
                .into_response();
            }
        }
    }
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "accepted": accepted, "dropped": dropped })),
    )
        .into_response()
}

fn limits(state: &AppState) -> BodyLimits {
    BodyLimits {
        max_batch: state.config.max_batch,
        max_props: state.config.max_props,
        max_prop_bytes: state.config.max_prop_bytes,
    }
}

fn finish(
    state: &AppState,
    res: Result<Response, Refusal>,
    origin: Option<&str>,
    route: &str,
) -> Response {
    let mut res = match res {
        Ok(r) => r,
        Err(r) => {
            crate::log!("{route}: {} {}", r.0.as_u16(), r.1);
            r.into_response()
        }
    };
    if let Some(o) = origin
        && res.status() != StatusCode::FORBIDDEN
        && origin_allowed_anywhere(state, o)
    {
        cors(&mut res, o);
    }
    res
}

/// The hits of a request, each with its position when a refusal should
/// name it (`hits[3]: ...`).
type Parsed = Vec<(Option<usize>, BatchHit)>;

/// A collector route at `path`, whose body `parse` reads, and its CORS
/// preflight.
fn collector(
    path: &'static str,
    parse: fn(&str, &BodyLimits) -> Result<Parsed, BadInput>,
) -> MethodRouter<AppState> {
    let handler =
        move |State(state): State<AppState>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              headers: HeaderMap,
              body: Bytes| async move { collect(&state, peer, &headers, &body, path, parse) };
    post(handler).options(preflight)
}

/// Steps 1-5 of the module's list for one route: `parse` reads the body's
/// hits; a refusal is logged under `route`.
fn collect(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
    route: &str,
    parse: impl FnOnce(&str, &BodyLimits) -> Result<Parsed, BadInput>,
) -> Response {
    let o = origin(headers);
    let res = (|| -> Result<Response, Refusal> {
        let info = client_info(state, peer, headers);
        let text = admit(state, &info, headers, body)?;
        let l = limits(state);
        let batch = parse(text, &l).map_err(bad)?;
        let mut keep = Vec::with_capacity(batch.len());
        let mut dropped = 0;
        for (i, mut b) in batch {
            check_and_fill(state, &info, o, i, &mut b.hit, &l)?;
            if b.sensitive_keystroke {
                dropped += 1;
            } else {
                keep.push(b.hit);
            }
        }
        let extra = (keep.len() + dropped).saturating_sub(1);
        if extra > 0
            && !state
                .rate
                .allow(info.ip, extra as u32, state.db.clock().as_ref())
        {
            return Err(too_many());
        }
        Ok(ingest(state, keep, dropped))
    })();
    finish(state, res, o, route)
}

/// `POST /api/event`: one Plausible Events API payload.
fn plausible_hits(text: &str, _: &BodyLimits) -> Result<Parsed, BadInput> {
    let hits = parse::plausible(text)?.into_iter();
    Ok(hits
        .map(|hit| {
            let b = BatchHit {
                hit,
                sensitive_keystroke: false,
            };
            (None, b)
        })
        .collect())
}

/// `POST /api/hits`: a batch of PledgeDB hits.
fn batch_hits(text: &str, limits: &BodyLimits) -> Result<Parsed, BadInput> {
    let batch = parse::batch(text, limits)?.into_iter().enumerate();
    Ok(batch.map(|(i, b)| (Some(i), b)).collect())
}
