//! Promise P8 end to end: sensitive fields by name, sensitive values
//! whatever the name, in submits, custom properties and click targets, and
//! no keystroke events in sensitive fields. Everything goes through
//! `Db::ingest`; the stored events, the export, form analytics and every
//! byte of every file are checked.

mod common;

use common::{Env, start_time};
use pledgedb::{
    Consent, DayRange, DomainSettings, DropReason, EventKind, FormField, Hit, HitKind, HitProp,
    Ingested, KeyKind, PropValue, TimeRange, VisitorRef,
};

const DOMAIN: &str = "shop.example";

fn hit(kind: HitKind, client: &str, offset_ms: i64) -> Hit {
    Hit::new(DOMAIN, "https://shop.example/checkout", kind)
        .client_id(client)
        .session_id(format!("s-{client}"))
        .consent(Consent::Granted)
        .at(pledgedb::Timestamp(start_time().0 + offset_ms))
}

/// Field names that are sensitive although the field is a plain text input
/// without an autocomplete hint: the names of item 4 and variants from
/// Magento, WooCommerce, Stripe and Shopify checkouts, camelCase, kebab
/// case, brackets and other languages.
const SENSITIVE_NAMES: &[&str] = &[
    "payment[cc_number]",
    "payment[cc_cid]",
    "payment[cc_exp_month]",
    "payment[cc_exp_year]",
    "cc_number",
    "ccv",
    "securityCode",
    "confirmPwd",
    "pw",
    "kennwort",
    "userSSN",
    "userPin",
    "login[password]",
    "password_confirmation",
    "wc-stripe-card-number",
    "wc-stripe-card-expiry",
    "wc-stripe-card-cvc",
    "stripe_cc_number",
    "billing_credit_card",
    "cardNumber",
    "cardExpiry",
    "cardCvc",
    "checkout[credit_card][number]",
    "checkout[credit_card][verification_value]",
    "credit-card-number",
    "card-holder-name",
    "CVV2",
    "card_pin",
    "account_number",
    "routingNumber",
    "iban",
    "IBANField",
    "social_security_number",
    "tax-id",
    "otp_code",
    "one_time_code",
    "api_key",
    "resetToken",
    "client_secret",
    "Passwort",
    "contraseña",
    "senha",
    "mot_de_passe",
    "wachtwoord",
    "lösenord",
    "salasana",
    "hasło",
    "parola",
    "ＰＡＳＳＷＯＲＤ",
    "user.password.repeat",
    "new password",
    "пароль",
    "密码",
    "パスワード",
    "2fa_code",
    "securityAnswer",
    "Kreditkartennummer",
    "numero_tarjeta",
];

/// Names that look a little like the above and must keep their values.
const ORDINARY_NAMES: &[&str] = &[
    "shipping",
    "shipping_method",
    "company",
    "spinner",
    "experience",
    "capital",
    "email",
    "billing_first_name",
    "address[street]",
    "postcode",
    "phone",
    "order_comments",
    "passenger",
    "compass",
    "topping",
    "secretary",
    "description",
];

fn secret_marker(i: usize) -> String {
    format!("SECRETNAMEVALUE{i:03}X")
}

fn kept_marker(i: usize) -> String {
    format!("KEPTNAMEVALUE{i:03}X")
}

/// Ingests `kinds` for visitor `v1` of a domain with the configured pattern
/// `maiden`, closes the database, and returns the environment with it
/// reopened.
fn store(kinds: Vec<HitKind>) -> (Env, pledgedb::Db) {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain(DOMAIN).unwrap();
    d.set_settings(DomainSettings {
        sensitive_fields: vec!["maiden".into()],
        ..d.settings()
    })
    .unwrap();
    for (i, k) in kinds.into_iter().enumerate() {
        assert_eq!(db.ingest(hit(k, "v1", i as i64)).unwrap(), Ingested::Queued);
    }
    drop(d);
    db.close().unwrap();
    let db = env.open();
    (env, db)
}

fn assert_in_no_file(env: &Env, gone: &[String]) {
    let found = common::find_any(&env.data, gone);
    assert!(found.is_empty(), "stored: {found:?}");
}

/// The stored events of visitor `v1`, through the export.
fn exported(db: &pledgedb::Db) -> Vec<pledgedb::Event> {
    let d = db.domain(DOMAIN).unwrap();
    let events = d.events(TimeRange::all()).unwrap();
    let export = d
        .export_visitor(&VisitorRef::ClientId("v1".into()))
        .unwrap();
    assert_eq!(
        export.events.len(),
        events.len(),
        "the export holds every event"
    );
    export.events
}

fn submitted(events: &[pledgedb::Event]) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::FormSubmit { fields, .. } => Some(fields.clone()),
            _ => None,
        })
        .unwrap()
        .iter()
        .map(|f| (f.name.to_string(), f.value.to_string()))
        .collect();
    kept.sort();
    kept
}

/// Item 4: real field names (plain text inputs without an autocomplete
/// hint) are recognised by their tokens, and so are configured patterns,
/// input types and autocomplete hints; look-alike names keep their values.
#[test]
fn sensitive_field_names_never_reach_a_file_and_ordinary_names_stay() {
    let mut fields: Vec<FormField> = SENSITIVE_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| FormField::new(*n, secret_marker(i)).input_type("text"))
        .collect();
    fields.extend(
        ORDINARY_NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| FormField::new(*n, kept_marker(i)).input_type("text")),
    );
    fields.push(FormField::new("mothersMaidenName", "SECRETCONFIGURED").input_type("text"));
    fields.push(FormField::new("q", "SECRETINPUTTYPE").input_type("PASSWORD"));
    fields.push(FormField::new("blob", "SECRETHIDDEN").input_type("hidden"));
    fields.push(FormField::new("upload", "SECRETFILE").input_type("file"));
    for (i, hint) in [
        "section-pay billing cc-csc",
        "cc-number",
        "cc-exp",
        "one-time-code",
        "current-password",
        "new-password",
    ]
    .iter()
    .enumerate()
    {
        fields.push(FormField {
            autocomplete: Some((*hint).into()),
            ..FormField::new(format!("x{i}"), format!("SECRETAUTOCOMPLETE{i}"))
        });
    }
    let (env, db) = store(vec![HitKind::FormSubmit {
        form: "checkout".into(),
        fields,
    }]);
    let mut gone: Vec<String> = (0..SENSITIVE_NAMES.len()).map(secret_marker).collect();
    gone.extend(
        [
            "SECRETCONFIGURED",
            "SECRETINPUTTYPE",
            "SECRETHIDDEN",
            "SECRETFILE",
        ]
        .map(String::from),
    );
    gone.extend((0..6).map(|i| format!("SECRETAUTOCOMPLETE{i}")));
    assert_in_no_file(&env, &gone);
    let mut want: Vec<(String, String)> = ORDINARY_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| ((*n).to_string(), kept_marker(i)))
        .collect();
    want.sort();
    assert_eq!(submitted(&exported(&db)), want);
}

/// Item 5: card numbers, IBANs and SSNs are dropped whatever the field or
/// property is called, and redacted from click targets; look-alikes stay.
#[test]
fn sensitive_values_never_reach_a_file_whatever_the_name() {
    let secret_values = [
        "4111111111111111",
        "5555 5555 5555 4444",
        "3782-822463-10005",
        "my card: 6011 1111 1111 1117 thanks",
        "DE89370400440532013000",
        "gb82 west 1234 5698 7654 32",
        "078-05-1120",
        "ssn 219 09 9999",
    ];
    let mut fields: Vec<FormField> = secret_values
        .iter()
        .enumerate()
        .map(|(i, v)| FormField::new(format!("note{i}"), *v))
        .collect();
    fields.push(FormField::new("order_no", "4111111111111112"));
    fields.push(FormField::new("ref", "DE89370400440532013001"));
    fields.push(FormField::new("comment", "KEPTCOMMENT"));
    let kinds = vec![
        HitKind::FormSubmit {
            form: "contact".into(),
            fields,
        },
        HitKind::Custom {
            name: "purchase".into(),
            props: vec![
                (
                    "password".into(),
                    HitProp::Text("SECRETPROPPASSWORD".into()),
                ),
                ("cardNumber".into(), HitProp::Text("SECRETPROPCARD".into())),
                ("pin".into(), HitProp::Int(918_273)),
                ("note".into(), HitProp::Text("4242 4242 4242 4242".into())),
                (
                    "payer".into(),
                    HitProp::Text("FR14 2004 1010 0505 0001 3M02 606".into()),
                ),
                ("ref".into(), HitProp::Int(4_012_888_888_881_881)),
                ("plan".into(), HitProp::Text("KEPTPROPPLAN".into())),
                ("amount".into(), HitProp::Float(19.5)),
                ("items".into(), HitProp::Int(3)),
            ],
        },
        HitKind::Click {
            x: 10,
            y: 20,
            target: "button[data-card=4012888888881881].pay".into(),
        },
    ];
    let (env, db) = store(kinds);
    let gone: Vec<String> = [
        "SECRETPROPPASSWORD",
        "SECRETPROPCARD",
        "4111111111111111",
        "5555 5555 5555 4444",
        "3782-822463-10005",
        "6011 1111 1111 1117",
        "DE89370400440532013000",
        "gb82 west",
        "078-05-1120",
        "219 09 9999",
        "4242 4242 4242 4242",
        "FR14 2004",
        "4012888888881881",
    ]
    .map(String::from)
    .to_vec();
    assert_in_no_file(&env, &gone);
    let events = exported(&db);
    assert_eq!(
        submitted(&events),
        vec![
            ("comment".to_string(), "KEPTCOMMENT".to_string()),
            ("order_no".into(), "4111111111111112".into()),
            ("ref".into(), "DE89370400440532013001".into()),
        ]
    );
    let props = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Custom { props, .. } => Some(props.clone()),
            _ => None,
        })
        .unwrap();
    let names: Vec<&str> = props.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, vec!["plan", "amount", "items"]);
    assert!(matches!(&props[0].1, PropValue::Text(t) if t.as_str() == "KEPTPROPPLAN"));
    let target = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Click { target, .. } => Some(target.to_string()),
            _ => None,
        })
        .unwrap();
    assert_eq!(target, "button[data-card=[redacted]].pay");
}

/// Item 6: keystrokes in sensitive fields (or forms) are dropped before
/// anything is written and counted; focus, blur and time spent stay.
#[test]
fn keystrokes_in_sensitive_fields_are_dropped_and_counted_focus_and_blur_kept() {
    let env = Env::new();
    let db = env.open();
    let d = db.create_domain(DOMAIN).unwrap();
    d.set_settings(DomainSettings {
        sensitive_fields: vec!["geheim".into()],
        ..d.settings()
    })
    .unwrap();
    // (form, field, keystrokes are dropped)
    let cases: &[(&str, &str, bool)] = &[
        ("login", "password", true),
        ("login", "confirmPwd", true),
        ("checkout", "payment[cc_number]", true),
        ("checkout", "securityCode", true),
        ("checkout", "userPin", true),
        ("profile", "geheimfrage", true),
        ("credit-card", "number", true),
        ("login", "email", false),
        ("checkout", "shipping", false),
        ("checkout", "company", false),
    ];
    let mut t = 0;
    let mut dropped = 0u64;
    for (form, field, sensitive) in cases {
        t += 100;
        let focus = HitKind::FieldFocus {
            form: (*form).into(),
            field: (*field).into(),
        };
        assert_eq!(db.ingest(hit(focus, "v1", t)).unwrap(), Ingested::Queued);
        for key in [KeyKind::Character, KeyKind::Character, KeyKind::Delete] {
            t += 10;
            let k = HitKind::Keystroke {
                form: (*form).into(),
                field: (*field).into(),
                key,
            };
            let got = db.ingest(hit(k, "v1", t)).unwrap();
            if *sensitive {
                assert_eq!(got, Ingested::Dropped(DropReason::SensitiveKeystroke));
                dropped += 1;
            } else {
                assert_eq!(got, Ingested::Queued, "{form}/{field}");
            }
        }
        t += 1_000;
        let blur = HitKind::FieldBlur {
            form: (*form).into(),
            field: (*field).into(),
        };
        assert_eq!(db.ingest(hit(blur, "v1", t)).unwrap(), Ingested::Queued);
        t += 100;
    }
    db.flush().unwrap();
    let events = d.events(TimeRange::all()).unwrap();
    for (form, field, sensitive) in cases {
        let keys = events
            .iter()
            .filter(|e| {
                matches!(&e.kind, EventKind::Keystroke { form: fo, field: fi, .. }
                    if fo.as_str() == *form && fi.as_str() == *field)
            })
            .count();
        assert_eq!(keys, if *sensitive { 0 } else { 3 }, "{form}/{field}");
    }
    let days = DayRange::new(start_time().day(), start_time().day());
    let reports = d.form_analytics(days, None).unwrap();
    for (form, field, sensitive) in cases {
        let r = reports.iter().find(|r| r.form == *form).unwrap();
        let fr = r.fields.iter().find(|f| f.field == *field).unwrap();
        assert_eq!(fr.interactions, 1, "{form}/{field}: focus is counted");
        assert!(fr.time_spent_ms >= 1_000, "{form}/{field}: time spent");
        let want = if *sensitive { (0, 0) } else { (3, 1) };
        assert_eq!((fr.keystrokes, fr.corrections), want, "{form}/{field}");
    }
    let report = db.privacy_report().unwrap();
    let counted = report
        .hits_dropped
        .iter()
        .find(|(r, _)| *r == DropReason::SensitiveKeystroke)
        .map(|(_, n)| *n);
    assert_eq!(counted, Some(dropped));
    assert!(
        report
            .never_recorded
            .iter()
            .any(|s| s.contains("keystroke events in sensitive fields"))
    );
    assert_eq!(
        DropReason::SensitiveKeystroke.as_str(),
        "sensitive_keystroke"
    );
}
