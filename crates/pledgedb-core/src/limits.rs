//! Input limits: the largest string and collection a hit may carry, and the
//! checks that enforce them. A hit over any limit is refused whole with a
//! [`HitError`] naming the field; nothing of it is written.

use crate::error::{DomainNameError, HitError, HitField, HitProblem};
use crate::hit::{Hit, HitKind, HitProp};

/// Limits on the sizes of what a hit carries. The defaults are generous for
/// real trackers and small enough that one hit can never be large.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in a page URL or referrer. Default 8192.
    pub max_url: usize,
    /// Bytes in a user agent. Default 1024.
    pub max_user_agent: usize,
    /// Bytes in a client id, session id or opt-out token. Default 256.
    pub max_id: usize,
    /// Bytes in a name: form, field, custom event, property key, click
    /// target. Default 512.
    pub max_name: usize,
    /// Bytes in a submitted field value or text property. Default 4096.
    pub max_value: usize,
    /// Fields in one form submit. Default 200.
    pub max_fields: usize,
    /// Properties on one custom event. Default 64.
    pub max_props: usize,
    /// Days a hit's timestamp may lie in the past. Default 3650.
    pub max_past_days: i64,
    /// Hours a hit's timestamp may lie in the future. Default 24.
    pub max_future_hours: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_url: 8192,
            max_user_agent: 1024,
            max_id: 256,
            max_name: 512,
            max_value: 4096,
            max_fields: 200,
            max_props: 64,
            max_past_days: 3650,
            max_future_hours: 24,
        }
    }
}

/// Checks a domain name: lower-case ASCII host name rules, at most 253 bytes,
/// labels of 1 to 63 bytes of `a-z`, `0-9` and `-` not starting or ending
/// with `-`, and no label or run of labels that spells an IP address in any
/// form the scrubber knows ([`crate::text::contains_ip`]). Such a name can
/// never contain `/`, `\`, `..` or NUL, so its partition directory cannot
/// escape the data directory.
pub fn validate_domain_name(name: &str) -> Result<(), DomainNameError> {
    if name.is_empty() {
        return Err(DomainNameError::Empty);
    }
    if name.len() > 253 {
        return Err(DomainNameError::TooLong(name.len()));
    }
    if let Some(i) = name
        .bytes()
        .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'))
    {
        return Err(DomainNameError::InvalidChar(i));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err(DomainNameError::InvalidLabel);
        }
    }
    // Labels that spell an address in any form the scrubber knows (dotted
    // `203.0.113.9.nip.io`, dashed `c-73-22-11-5.example.net`, dashed IPv6
    // `2001-db8--1.example`) would become a directory name and a catalog
    // key: the one shared definition refuses them.
    if name.bytes().all(|b| b.is_ascii_digit() || b == b'.') || crate::text::contains_ip(name) {
        return Err(DomainNameError::IpLiteral);
    }
    Ok(())
}

fn check_len(field: HitField, s: &str, max: usize) -> Result<(), HitError> {
    if s.len() > max {
        Err(HitError::new(
            field,
            HitProblem::TooLong { len: s.len(), max },
        ))
    } else {
        Ok(())
    }
}

fn check_opt(field: HitField, s: Option<&String>, max: usize) -> Result<(), HitError> {
    s.map_or(Ok(()), |s| check_len(field, s, max))
}

fn check_count(field: HitField, len: usize, max: usize) -> Result<(), HitError> {
    if len > max {
        Err(HitError::new(field, HitProblem::TooMany { len, max }))
    } else {
        Ok(())
    }
}

impl Limits {
    /// Checks every size limit of a hit (not its domain name or timestamp).
    pub fn check(&self, hit: &Hit) -> Result<(), HitError> {
        check_len(HitField::Url, &hit.url, self.max_url)?;
        check_opt(
            HitField::UserAgent,
            hit.user_agent.as_ref(),
            self.max_user_agent,
        )?;
        check_opt(HitField::ClientId, hit.client_id.as_ref(), self.max_id)?;
        check_opt(HitField::SessionId, hit.session_id.as_ref(), self.max_id)?;
        check_opt(
            HitField::OptOutToken,
            hit.opt_out_token.as_ref(),
            self.max_id,
        )?;
        match &hit.kind {
            HitKind::PageView { referrer } => {
                check_opt(HitField::Referrer, referrer.as_ref(), self.max_url)?;
            }
            HitKind::Click { target, .. } => check_len(HitField::Target, target, self.max_name)?,
            HitKind::Scroll { depth } => {
                if *depth > 100 {
                    return Err(HitError::new(
                        HitField::Depth,
                        HitProblem::Invalid("a percentage from 0 to 100"),
                    ));
                }
            }
            HitKind::FormView { form } => check_len(HitField::Form, form, self.max_name)?,
            HitKind::FieldFocus { form, field }
            | HitKind::Keystroke { form, field, .. }
            | HitKind::FieldBlur { form, field } => {
                check_len(HitField::Form, form, self.max_name)?;
                check_len(HitField::Field, field, self.max_name)?;
            }
            HitKind::FormSubmit { form, fields } => {
                check_len(HitField::Form, form, self.max_name)?;
                check_count(HitField::Fields, fields.len(), self.max_fields)?;
                for (i, f) in fields.iter().enumerate() {
                    check_len(HitField::FieldName(i), &f.name, self.max_name)?;
                    check_len(HitField::FieldValue(i), &f.value, self.max_value)?;
                }
            }
            HitKind::Custom { name, props } => {
                check_len(HitField::Name, name, self.max_name)?;
                check_count(HitField::Props, props.len(), self.max_props)?;
                for (i, (k, v)) in props.iter().enumerate() {
                    check_len(HitField::PropKey(i), k, self.max_name)?;
                    match v {
                        HitProp::Text(t) => check_len(HitField::PropValue(i), t, self.max_value)?,
                        HitProp::Float(f) if !f.is_finite() => {
                            return Err(HitError::new(
                                HitField::PropValue(i),
                                HitProblem::Invalid("a finite number"),
                            ));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        for ok in [
            "shop.example",
            "a",
            "xn--bcher-kva.example",
            "a-b.c-d.e",
            "localhost",
        ] {
            assert_eq!(validate_domain_name(ok), Ok(()), "{ok}");
        }
        let long = format!("{}.example", "a".repeat(250));
        for (bad, want) in [
            ("", DomainNameError::Empty),
            ("../x", DomainNameError::InvalidChar(2)),
            ("a/b", DomainNameError::InvalidChar(1)),
            ("a\\b", DomainNameError::InvalidChar(1)),
            ("a\0b", DomainNameError::InvalidChar(1)),
            ("Shop.example", DomainNameError::InvalidChar(0)),
            ("a..b", DomainNameError::InvalidLabel),
            (".a", DomainNameError::InvalidLabel),
            ("-a.b", DomainNameError::InvalidLabel),
            ("192.168.1.1", DomainNameError::IpLiteral),
            ("203.0.113.9.nip.io", DomainNameError::IpLiteral),
            (long.as_str(), DomainNameError::TooLong(long.len())),
        ] {
            assert_eq!(validate_domain_name(bad), Err(want), "{bad:?}");
        }
        let label64 = format!("{}.example", "a".repeat(64));
        assert_eq!(
            validate_domain_name(&label64),
            Err(DomainNameError::InvalidLabel)
        );
    }

    #[test]
    fn domain_names_that_spell_an_address_are_refused() {
        for bad in [
            "203.0.113.9.nip.io",
            "app.203.0.113.9.sslip.io",
            "203-0-113-9.nip.io",
            "c-73-22-11-5.example.net",
            "ec2-203-0-113-9.compute-1.amazonaws.com",
            "ip-10-0-0-5.ec2.internal",
            "10-0-0-5",
            "2001-db8--1.example",
            "2001-db8-85a3--8a2e-370-7334.ipv6-literal.net",
            "fe80--1s4.ipv6-literal.net",
            "2001-0db8-0000-0000-0000-0000-0000-0001.example",
            "1.2.3.4",
            "010.001.002.003",
            "203.0.113.example",
        ] {
            let e = validate_domain_name(bad).unwrap_err();
            assert_eq!(e, DomainNameError::IpLiteral, "{bad}");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(bad), "the error echoes {bad}: {shown}");
            for part in bad.split(['.', '-']).filter(|p| p.len() > 1) {
                if part.bytes().all(|b| b.is_ascii_digit()) {
                    assert!(!shown.contains(part), "{part} echoed: {shown}");
                }
            }
        }
        for ok in [
            "shop.example",
            "route-66.example",
            "web-2.example",
            "a1-b2-c3.example",
            "2026-11-29.example",
            "cafe-babe.example",
            "v1-2-3.example",
            "xn--bcher-kva.example",
        ] {
            assert_eq!(validate_domain_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn limits_name_the_field() {
        let l = Limits::default();
        let hit = Hit::page_view("a.example", "x".repeat(9000));
        let e = l.check(&hit).unwrap_err();
        assert_eq!(e.field, HitField::Url);
        assert_eq!(
            e.problem,
            HitProblem::TooLong {
                len: 9000,
                max: 8192
            }
        );
        let hit = Hit::new(
            "a.example",
            "/",
            HitKind::Custom {
                name: "n".into(),
                props: (0..65)
                    .map(|i| (format!("k{i}"), HitProp::Int(i)))
                    .collect(),
            },
        );
        assert_eq!(l.check(&hit).unwrap_err().field, HitField::Props);
        let hit = Hit::new(
            "a.example",
            "/",
            HitKind::Custom {
                name: "n".into(),
                props: vec![("k".into(), HitProp::Float(f64::NAN))],
            },
        );
        assert_eq!(l.check(&hit).unwrap_err().field, HitField::PropValue(0));
        let hit = Hit::new("a.example", "/", HitKind::Scroll { depth: 101 });
        assert_eq!(l.check(&hit).unwrap_err().field, HitField::Depth);
        let msg = l
            .check(&Hit::page_view("a.example", "203.0.113.9".repeat(1000)))
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("203.0.113.9"), "{msg}");
    }
}
