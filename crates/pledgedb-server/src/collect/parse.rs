//! Request bodies to hits. `POST /api/event` bodies are Plausible Events
//! API payloads, read by `pledgedb_import::plausible`; `POST /api/hits`
//! bodies are a JSON array (or `{"hits": [...]}`) of PledgeDB's NDJSON hit
//! objects, read one by one by `pledgedb_import::ndjson` (the table of its
//! fields is in that module). A hit's `ip`, `user_agent` and headers come
//! from the request, never from the body.

use pledgedb_core::{Hit, HitKind, HitProp};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Why a body was refused. Reasons name the field and the hit's position,
/// never a value.
#[derive(Debug, PartialEq, Eq)]
pub struct BadInput(pub String);

impl BadInput {
    fn at(i: Option<usize>, msg: impl std::fmt::Display) -> BadInput {
        match i {
            Some(i) => BadInput(format!("hits[{i}]: {msg}")),
            None => BadInput(msg.to_string()),
        }
    }
}

/// The size limits the collector applies on top of the engine's.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Hits in one batch.
    pub max_batch: usize,
    /// Properties on one custom event.
    pub max_props: usize,
    /// Bytes in a property name or text value.
    pub max_prop_bytes: usize,
}

/// One Plausible payload: one hit per site it names.
pub fn plausible(body: &str) -> Result<Vec<Hit>, BadInput> {
    let mut out = Vec::new();
    pledgedb_import::plausible::parse_line(body, None, &mut out)
        .map_err(|e| BadInput::at(None, e))?;
    Ok(out)
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow)]
    hits: Vec<&'a RawValue>,
}

/// What the batch format adds to a keystroke, focus or blur line: the
/// field's input type and autocomplete hint, so a keystroke in a password
/// field is never stored (its count would be the password's length).
#[derive(Deserialize, Default)]
struct FieldHints {
    #[serde(default)]
    input_type: Option<String>,
    #[serde(default)]
    autocomplete: Option<String>,
    #[serde(default)]
    sensitive: Option<bool>,
}

/// One hit of a batch, and whether it is a keystroke in a field the
/// tracker or its hints mark sensitive (such a hit is dropped, not stored).
pub struct BatchHit {
    /// The hit.
    pub hit: Hit,
    /// A keystroke in a sensitive field.
    pub sensitive_keystroke: bool,
}

/// A batch of PledgeDB hits. A batch is refused whole if any hit in it is
/// malformed.
pub fn batch(body: &str, limits: &BodyLimits) -> Result<Vec<BatchHit>, BadInput> {
    let parsed = if body.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<&RawValue>>(body).ok()
    } else {
        serde_json::from_str::<Wrapped<'_>>(body)
            .ok()
            .map(|w| w.hits)
    };
    let Some(items) = parsed else {
        return Err(BadInput(
            "body: expected a JSON array of hits or {\"hits\": [...]}".into(),
        ));
    };
    if items.is_empty() {
        return Err(BadInput("hits: the batch is empty".into()));
    }
    if items.len() > limits.max_batch {
        return Err(BadInput(format!(
            "hits: {} hits; the limit is {}",
            items.len(),
            limits.max_batch
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let hit = pledgedb_import::ndjson::parse_line(raw.get(), None)
            .map_err(|e| BadInput::at(Some(i), e))?;
        let sensitive_keystroke = match &hit.kind {
            HitKind::Keystroke { .. } => {
                let h: FieldHints = serde_json::from_str(raw.get()).map_err(|_| {
                    BadInput::at(
                        Some(i),
                        "invalid `input_type`, `autocomplete` or `sensitive`",
                    )
                })?;
                h.sensitive == Some(true)
                    || h.input_type
                        .as_deref()
                        .is_some_and(pledgedb_core::sensitive::is_sensitive_input_type)
                    || h.autocomplete
                        .as_deref()
                        .is_some_and(pledgedb_core::sensitive::is_sensitive_autocomplete)
            }
            _ => false,
        };
        check_props(&hit, limits).map_err(|e| BadInput::at(Some(i), e))?;
        out.push(BatchHit {
            hit,
            sensitive_keystroke,
        });
    }
    Ok(out)
}

/// The property limits of a custom event.
pub fn check_props(hit: &Hit, limits: &BodyLimits) -> Result<(), String> {
    if let HitKind::Custom { props, .. } = &hit.kind {
        if props.len() > limits.max_props {
            return Err(format!(
                "`props`: {} properties; the limit is {}",
                props.len(),
                limits.max_props
            ));
        }
        for (name, value) in props {
            if name.len() > limits.max_prop_bytes {
                return Err(format!(
                    "`props`: a property name is {} bytes; the limit is {}",
                    name.len(),
                    limits.max_prop_bytes
                ));
            }
            if let HitProp::Text(t) = value
                && t.len() > limits.max_prop_bytes
            {
                return Err(format!(
                    "`props`: a text value is {} bytes; the limit is {}",
                    t.len(),
                    limits.max_prop_bytes
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: BodyLimits = BodyLimits {
        max_batch: 3,
        max_props: 2,
        max_prop_bytes: 8,
    };

    #[test]
    fn both_batch_shapes_and_every_kind() {
        let body = r#"[{"type":"page_view","domain":"a.example","url":"/"},
            {"type":"keystroke","domain":"a.example","url":"/","form":"f","field":"p","key":"character","input_type":"password"},
            {"type":"keystroke","domain":"a.example","url":"/","form":"f","field":"q"}]"#;
        let v = batch(body, &L).unwrap();
        assert_eq!(v.len(), 3);
        assert!(!v[0].sensitive_keystroke);
        assert!(v[1].sensitive_keystroke);
        assert!(!v[2].sensitive_keystroke);
        let v = batch(
            r#"{"hits":[{"type":"click","domain":"a.example","url":"/","x":1,"y":2}]}"#,
            &L,
        )
        .unwrap();
        assert!(matches!(v[0].hit.kind, HitKind::Click { x: 1, y: 2, .. }));
    }

    #[test]
    fn bad_batches_name_the_field_and_echo_nothing() {
        let secret = "s3cr3t-203.0.113.9";
        let cases = [
            (format!("not json {secret}"), "body"),
            ("[]".to_owned(), "empty"),
            (
                r#"[{"type":"page_view","domain":"a.example","url":"/"},{"type":"page_view","domain":"a.example","url":"/"},{"type":"page_view","domain":"a.example","url":"/"},{"type":"page_view","domain":"a.example","url":"/"}]"#.to_owned(),
                "limit is 3",
            ),
            (
                format!(r#"[{{"type":"keystroke","domain":"a.example","url":"/","form":"f","field":"q","key":"{secret}"}}]"#),
                "hits[0]: invalid `key`",
            ),
            (
                format!(r#"[{{"type":"custom","domain":"a.example","url":"/","name":"n","props":{{"a":1,"b":2,"c":"{secret}"}}}}]"#),
                "hits[0]: `props`: 3 properties",
            ),
            (
                format!(r#"[{{"type":"custom","domain":"a.example","url":"/","name":"n","props":{{"a":"{secret}"}}}}]"#),
                "a text value",
            ),
            (
                r#"[{"type":"page_view","domain":"a.example","url":"/"},{"type":"click","domain":"a.example","url":"/"}]"#.to_owned(),
                "hits[1]: missing field `x`",
            ),
            (
                format!(r#"[{{"type":"{secret}","domain":"a.example","url":"/"}}]"#),
                "unknown `type`",
            ),
        ];
        for (body, want) in cases {
            let e = batch(&body, &L).err().unwrap().0;
            assert!(e.contains(want), "{body}: {e}");
            assert!(!e.contains("203.0.113.9") && !e.contains("s3cr3t"), "{e}");
        }
    }

    #[test]
    fn plausible_payloads() {
        let v =
            plausible(r#"{"name":"pageview","url":"https://a.example/x","domain":"a.example"}"#)
                .unwrap();
        assert!(matches!(v[0].kind, HitKind::PageView { .. }));
        let v = plausible(
            r#"{"n":"Signup","u":"https://a.example/x","d":"a.example,b.example","p":{"plan":"pro"}}"#,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert!(plausible(r#"{"name":"pageview"}"#).is_err());
    }
}
