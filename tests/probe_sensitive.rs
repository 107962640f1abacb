//! Hostile probes of promise P8 through the public API: sensitive field
//! names in many spellings, input types, autocomplete tokens, sensitive
//! values whatever the name (in every stored place and every property
//! type), and keystrokes of sensitive fields. Every case carries a unique
//! marker; after a close, no file of the data directory may hold one.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Consent, DropReason, FormField, Hit, HitKind, HitProp, Ingested, KeyKind, Timestamp,
};

const DOMAIN: &str = "probe.example";

fn at(i: usize) -> Timestamp {
    Timestamp(start_time().0 + i as i64)
}

fn hit(kind: HitKind, i: usize) -> Hit {
    Hit::new(DOMAIN, "https://probe.example/form", kind)
        .client_id("visitor-1")
        .session_id("s-1")
        .consent(Consent::Granted)
        .at(at(i))
}

/// A marker of letters only (so it is no sensitive value itself).
fn marker(tag: &str, i: usize) -> String {
    let mut n = i;
    let mut s = String::new();
    for _ in 0..4 {
        s.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
    }
    format!("QZMARK{tag}{s}QZ")
}

/// Sensitive names in spellings a first review did not list.
const NAMES: &[&str] = &[
    "billing_cc_number_confirm",
    "x-card-num",
    "pwd2",
    "newPassword",
    "user[password_confirmation]",
    "user%5Bpassword%5D",
    "user%5Bpwd%5D",
    "%70assword",
    "p&#97;ssword",
    "&#112;&#119;&#100;",
    "pass&#119;ord",
    "p&#x61;ssword",
    "p\u{200b}wd",
    "p\u{200c}w\u{200d}d",
    "c\u{00ad}v\u{00ad}v",
    "s\u{2060}s\u{feff}n",
    "ＰＷＤ",
    "ｃｃ＿ｎｕｍｂｅｒ",
    "Ｃｖｖ",
    "PASSWORD_CONFIRM",
    "Password Again",
    "confirm-password",
    "passwordConfirm",
    "PWDConfirm",
    "userPWD",
    "CVVcode",
    "cvc2",
    "card.number",
    "card number",
    "cc.exp",
    "CC_EXP",
    "ccExpYear",
    "iban_nr",
    "IBAN",
    "Kennwort2",
    "contraseña_nueva",
    "CONTRASEÑA",
    "Mot de passe",
    "mot-de-passe",
    "senha_atual",
    "Пароль",
    "пароль2",
    "密码确认",
    "ssn-last-4",
    "SSN",
    "social-security-no",
    "otp",
    "OTP_Code",
    "pin_code",
    "PIN",
    "secret_answer",
    "api-key",
    "x_api_key",
    "cardholder",
    "security_code",
    "SecurityCode",
    "expirationDate",
    "exp-month",
    "wc-stripe-card-cvc",
    "payment[card][cvc]",
    "data[User][password]",
    "form.fields.password",
    "__password__",
    "password:",
    "[password]",
    " password ",
    "\tpwd\n",
    "p\u{0430}ssword",
    "\u{0441}\u{0441}-number",
    "\u{0440}wd",
    "user_\u{03a1}IN",
];

/// Field names that must keep their values.
const ORDINARY: &[&str] = &[
    "email",
    "company",
    "shipping",
    "passenger",
    "compass",
    "spinner",
    "experience",
    "topping",
    "capital",
    "message",
];

#[test]
fn probe_sensitive_field_names_never_reach_a_file_but_ordinary_names_do() {
    let env = Env::new();
    let db = env.open();
    db.create_domain(DOMAIN).unwrap();
    let mut gone = Vec::new();
    let mut fields = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        let m = marker("N", i);
        fields.push(FormField::new(*n, m.clone()).input_type("text"));
        gone.push(m);
    }
    let mut kept = Vec::new();
    for (i, n) in ORDINARY.iter().enumerate() {
        let m = marker("K", i);
        fields.push(FormField::new(*n, m.clone()).input_type("text"));
        kept.push(m);
    }
    let submit = HitKind::FormSubmit {
        form: "checkout".into(),
        fields,
    };
    assert_eq!(db.ingest(hit(submit, 0)).unwrap(), Ingested::Queued);
    // The same names as custom-event property keys, text and integer.
    for (i, n) in NAMES.iter().enumerate() {
        let m = marker("P", i);
        let custom = HitKind::Custom {
            name: "signup".into(),
            props: vec![
                ((*n).to_string(), HitProp::Text(m.clone())),
                ("plain".into(), HitProp::Bool(true)),
            ],
        };
        let _ = db.ingest(hit(custom, 1 + i)).unwrap();
        gone.push(m);
    }
    db.close().unwrap();
    let found = common::find_any(&env.data, &gone);
    let mut leaked: Vec<&str> = found
        .iter()
        .filter_map(|(_, m)| {
            let i = gone.iter().position(|g| g == m)?;
            Some(NAMES[i % NAMES.len()])
        })
        .collect();
    leaked.sort_unstable();
    leaked.dedup();
    assert!(
        leaked.is_empty(),
        "values of sensitive names kept: {leaked:?}"
    );
    for m in &kept {
        assert!(
            !common::files_containing(&env.data, m.as_bytes()).is_empty(),
            "an ordinary field lost its value"
        );
    }
}

#[test]
fn probe_sensitive_input_types_and_autocomplete_tokens() {
    let env = Env::new();
    let db = env.open();
    let mut gone = Vec::new();
    let mut fields = Vec::new();
    for (i, t) in [
        "password",
        "Password",
        " PASSWORD ",
        "hidden",
        "file",
        "ｐａｓｓｗｏｒｄ",
        "pass\u{200b}word",
    ]
    .iter()
    .enumerate()
    {
        let m = marker("T", i);
        fields.push(FormField::new("field", m.clone()).input_type(*t));
        gone.push(m);
    }
    for (i, a) in [
        "cc-number",
        "CC-NUMBER",
        "Cc-Csc",
        "section-x billing cc-csc",
        "section-x\tshipping\ncc-exp",
        "new-password",
        "NEW-PASSWORD",
        "current-password webauthn",
        "one-time-code",
        "ONE-TIME-CODE",
        "cc-exp-month",
        "cc-given-name",
        "  cc-number  ",
        "ｃｃ－ｎｕｍｂｅｒ",
        "cc\u{200b}-csc",
        "section-a\u{3000}one-time-code",
    ]
    .iter()
    .enumerate()
    {
        let m = marker("A", i);
        fields.push(FormField {
            name: "field".into(),
            value: m.clone(),
            input_type: Some("text".into()),
            autocomplete: Some((*a).into()),
            sensitive: false,
        });
        gone.push(m);
    }
    let submit = HitKind::FormSubmit {
        form: "f".into(),
        fields,
    };
    assert_eq!(db.ingest(hit(submit, 0)).unwrap(), Ingested::Queued);
    db.close().unwrap();
    let found = common::find_any(&env.data, &gone);
    assert!(found.is_empty(), "kept: {found:?}");
}

/// Luhn-valid numbers of 12 to 19 digits, each with a unique payload.
fn cards() -> Vec<String> {
    let mut out = Vec::new();
    for len in 12..=19usize {
        let mut d: Vec<u32> = (0..len - 1)
            .map(|k| ((k * 7 + len * 3 + 1) % 10) as u32)
            .collect();
        d[0] = 4;
        let mut sum = 0;
        for (i, x) in d.iter().rev().enumerate() {
            let mut x = *x;
            if i % 2 == 0 {
                x *= 2;
                if x > 9 {
                    x -= 9;
                }
            }
            sum += x;
        }
        d.push((10 - sum % 10) % 10);
        out.push(
            d.iter()
                .map(|x| char::from_digit(*x, 10).unwrap())
                .collect(),
        );
    }
    out
}

fn grouped(digits: &str, sep: &str) -> String {
    digits
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(sep)
}

/// Sensitive values as written, with the digit run that must not survive.
fn values() -> Vec<(String, String)> {
    let mut v = Vec::new();
    for c in cards() {
        for sep in ["", " ", "-", ".", " - ", "+", "\u{a0}", "\u{2011}"] {
            v.push((grouped(&c, sep), c.clone()));
        }
    }
    for (iban, core) in [
        ("DE89 3704 0044 0532 0130 00", "370400440532013000"),
        ("de89370400440532013000", "370400440532013000"),
        ("de89 3704 0044 0532 0130 00", "370400440532013000"),
        ("GB82 WEST 1234 5698 7654 32", "12345698765432"),
        ("gb82west12345698765432", "12345698765432"),
        ("FR14 2004 1010 0505 0001 3M02 606", "20041010050500013"),
        ("DE89.3704.0044.0532.0130.00", "370400440532013000"),
    ] {
        v.push((iban.to_string(), core.to_string()));
    }
    for (ssn, core) in [
        ("078-05-1120", "078-05-1120"),
        ("219 09 9999", "219 09 9999"),
        ("SSN 123-45-6789.", "123-45-6789"),
    ] {
        v.push((ssn.to_string(), core.to_string()));
    }
    v
}

#[test]
fn probe_sensitive_values_in_every_place_never_reach_a_file() {
    let env = Env::new();
    let db = env.open();
    let mut needles = Vec::new();
    let mut i = 0;
    for (value, core) in values() {
        let kinds = vec![
            HitKind::FormSubmit {
                form: "f".into(),
                fields: vec![FormField::new("note", value.clone())],
            },
            HitKind::Custom {
                name: "c".into(),
                props: vec![("note".into(), HitProp::Text(value.clone()))],
            },
            HitKind::Custom {
                name: format!("ev {value}"),
                props: vec![(format!("k {value}"), HitProp::Bool(true))],
            },
            HitKind::Click {
                x: 1,
                y: 1,
                target: format!("#btn[data-v='{value}']"),
            },
            HitKind::FieldFocus {
                form: format!("form {value}"),
                field: format!("field {value}"),
            },
        ];
        for k in kinds {
            i += 1;
            let _ = db.ingest(hit(k, i)).unwrap();
        }
        let enc = value.replace(' ', "%20");
        for url in [
            format!("https://probe.example/pay/{enc}"),
            format!("https://probe.example/p?utm_term={enc}&utm_source=x"),
            format!("https://probe.example/p?utm_source={enc}"),
            format!("https://probe.example/p?utm_campaign={enc}"),
            format!(
                "https://probe.example/p?utm_content={}",
                value.replace(' ', "+").replace('-', "%2D")
            ),
        ] {
            i += 1;
            let h = Hit::new(DOMAIN, url, HitKind::PageView { referrer: None })
                .client_id("visitor-1")
                .consent(Consent::Granted)
                .at(at(i));
            let _ = db.ingest(h).unwrap();
        }
        needles.push(core);
        needles.push(value.clone());
        needles.push(enc);
    }
    needles.sort();
    needles.dedup();
    db.close().unwrap();
    let found = common::find_any(&env.data, &needles);
    let mut leaked: Vec<String> = found.into_iter().map(|(_, m)| m).collect();
    leaked.sort();
    leaked.dedup();
    assert!(leaked.is_empty(), "sensitive values kept: {leaked:?}");
}

#[test]
fn probe_card_numbers_as_numbers_in_properties() {
    let env = Env::new();
    let db = env.open();
    let mut needles = Vec::new();
    for (i, c) in cards().iter().enumerate() {
        let mut props = vec![("amount".into(), HitProp::Int(12))];
        if let Ok(n) = c.parse::<i64>() {
            props.push(("n".into(), HitProp::Int(n)));
            props.push(("neg".into(), HitProp::Int(-n)));
        }
        let f: f64 = c.parse().unwrap();
        // Only numbers an f64 holds exactly can be probed by their digits.
        if f < 9.0e15 {
            props.push(("f".into(), HitProp::Float(f)));
            needles.push(c.clone());
        } else if c.parse::<i64>().is_ok() {
            needles.push(c.clone());
        }
        let k = HitKind::Custom {
            name: "pay".into(),
            props,
        };
        assert_eq!(db.ingest(hit(k, i)).unwrap(), Ingested::Queued);
    }
    db.flush().unwrap();
    let d = db.domain(DOMAIN).unwrap();
    let mut kept = Vec::new();
    for e in d.events(pledgedb::TimeRange::all()).unwrap() {
        if let pledgedb::EventKind::Custom { props, .. } = &e.kind {
            for (k, v) in props {
                let digits = match v {
                    pledgedb::PropValue::Int(n) => n.unsigned_abs().to_string(),
                    pledgedb::PropValue::Float(f) => format!("{}", f.abs()),
                    _ => continue,
                };
                if needles.contains(&digits) {
                    kept.push(format!("{k}={digits}"));
                }
            }
        }
    }
    assert!(kept.is_empty(), "card numbers kept as numbers: {kept:?}");
}

#[test]
fn probe_keystrokes_of_sensitive_fields_are_dropped_focus_and_blur_kept() {
    let env = Env::new();
    let db = env.open();
    let mut kept_keys = Vec::new();
    for (i, n) in NAMES.iter().enumerate() {
        for key in [KeyKind::Character, KeyKind::Delete, KeyKind::Other] {
            let k = HitKind::Keystroke {
                form: "login".into(),
                field: (*n).into(),
                key,
            };
            let got = db.ingest(hit(k, i)).unwrap();
            if got != Ingested::Dropped(DropReason::SensitiveKeystroke) {
                kept_keys.push(*n);
            }
        }
        let focus = HitKind::FieldFocus {
            form: "login".into(),
            field: (*n).into(),
        };
        assert_eq!(db.ingest(hit(focus, i)).unwrap(), Ingested::Queued);
        let blur = HitKind::FieldBlur {
            form: "login".into(),
            field: (*n).into(),
        };
        assert_eq!(db.ingest(hit(blur, i)).unwrap(), Ingested::Queued);
    }
    kept_keys.dedup();
    assert!(kept_keys.is_empty(), "keystrokes kept for {kept_keys:?}");
    // A keystroke in an ordinary field of an ordinary form is kept.
    let k = HitKind::Keystroke {
        form: "contact".into(),
        field: "message".into(),
        key: KeyKind::Character,
    };
    assert_eq!(db.ingest(hit(k, 0)).unwrap(), Ingested::Queued);
}

#[test]
fn probe_utm_parameters_named_like_sensitive_fields_are_not_stored() {
    let env = Env::new();
    let db = env.open();
    let mut gone = Vec::new();
    for (i, n) in [
        "password",
        "cc_number",
        "PWD",
        "ssn",
        "iban",
        "%70assword",
        "card-cvc",
    ]
    .iter()
    .enumerate()
    {
        let m = marker("U", i);
        let url = format!("https://probe.example/p?utm_source=news&utm_{n}={m}&utm_medium=mail");
        let h = Hit::new(DOMAIN, url, HitKind::PageView { referrer: None })
            .client_id("visitor-1")
            .consent(Consent::Granted)
            .at(at(i));
        assert_eq!(db.ingest(h).unwrap(), Ingested::Queued);
        gone.push(m);
    }
    db.close().unwrap();
    let found = common::find_any(&env.data, &gone);
    assert!(found.is_empty(), "kept: {found:?}");
    assert!(!common::files_containing(&env.data, b"utm_source=news").is_empty());
}

#[test]
fn probe_a_sensitive_form_keeps_no_field_of_its_submit() {
    let env = Env::new();
    let db = env.open();
    let mut gone = Vec::new();
    for (i, form) in [
        "credit-card",
        "payment[card]",
        "cvvForm",
        "user%5Bpwd%5D-reset",
    ]
    .iter()
    .enumerate()
    {
        let m = marker("F", i);
        let k = HitKind::FormSubmit {
            form: (*form).into(),
            fields: vec![
                FormField::new("code", m.clone()),
                FormField::new("holder", m.clone()),
            ],
        };
        assert_eq!(db.ingest(hit(k, i)).unwrap(), Ingested::Queued);
        gone.push(m);
    }
    db.close().unwrap();
    let found = common::find_any(&env.data, &gone);
    assert!(found.is_empty(), "kept: {found:?}");
}
