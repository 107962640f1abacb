//! Sensitive field names, input types and autocomplete hints.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Whole tokens of a field name that make it sensitive: payment cards,
/// bank accounts, national ids, PINs and one-time codes, secrets, and the
/// word for password in the languages trackers meet most.
pub const SENSITIVE_TOKENS: &[&str] = &[
    // Payment cards.
    "card",
    "cc",
    "ccn",
    "cvv",
    "cvc",
    "ccv",
    "cvn",
    "cid",
    "csc",
    "exp",
    "expiry",
    "expiration",
    "pan",
    // Bank accounts.
    "iban",
    "bic",
    "swift",
    "routing",
    "aba",
    // National and tax ids.
    "ssn",
    "sin",
    "nino",
    "taxid",
    "tin",
    "itin",
    // PINs, one-time codes, secrets.
    "pin",
    "otp",
    "totp",
    "hotp",
    "mfa",
    "token",
    "secret",
    "passcode",
    // Passwords.
    "pass",
    "pwd",
    "pw",
    "passwd",
    "password",
    "passphrase",
    "passwort",
    "kennwort",
    "contrasena",
    "senha",
    "motdepasse",
    "parola",
    "wachtwoord",
    "losenord",
    "salasana",
    "haslo",
    "heslo",
    "jelszo",
    "sifre",
    "passord",
    "adgangskode",
    "lozinka",
    "geslo",
    "parool",
    "clave",
    // Card, account and id words in other languages.
    "tarjeta",
    "cartao",
    "bsn",
    "pesel",
    "dni",
    "nif",
    "cpf",
    "aadhaar",
    "bsb",
    "ifsc",
    "jwt",
    "bearer",
    // Birth dates and security answers.
    "dob",
    "birthdate",
    "birthday",
    "maiden",
];

/// Runs of consecutive tokens that make a name sensitive.
pub const SENSITIVE_PHRASES: &[&[&str]] = &[
    &["security", "code"],
    &["security", "number"],
    &["card", "number"],
    &["credit", "card"],
    &["debit", "card"],
    &["account", "number"],
    &["account", "no"],
    &["account", "nr"],
    &["bank", "account"],
    &["sort", "code"],
    &["social", "security"],
    &["tax", "id"],
    &["tax", "number"],
    &["tax", "no"],
    &["verification", "code"],
    &["verification", "value"],
    &["one", "time", "code"],
    &["auth", "code"],
    &["api", "key"],
    &["private", "key"],
    &["secret", "key"],
    &["access", "key"],
    &["mot", "de", "passe"],
    &["date", "of", "birth"],
    &["security", "answer"],
    &["security", "question"],
    &["two", "factor"],
    &["2", "fa"],
    &["numero", "carta"],
    &["numero", "de", "carte"],
    &["numero", "carte"],
    &["sec", "code"],
    &["sms", "code"],
    &["ni", "number"],
    &["national", "insurance"],
    &["national", "id"],
    &["passport", "number"],
    &["passport", "no"],
    &["acct", "number"],
    &["acct", "no"],
    &["driver", "license"],
    &["drivers", "license"],
    &["driving", "licence"],
];

/// Long, unambiguous words that make a name sensitive wherever they occur in
/// it once separators are removed and case is folded (`ccNumber`,
/// `user-password2`, `billingCreditCardNo`).
pub const SENSITIVE_SUBSTRINGS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "passcode",
    "passphrase",
    "kennwort",
    "contrasena",
    "motdepasse",
    "wachtwoord",
    "losenord",
    "salasana",
    "creditcard",
    "debitcard",
    "cardnumber",
    "cardnum",
    "cardno",
    "ccnumber",
    "ccnum",
    "ccexp",
    "cardexp",
    "cardcode",
    "cardcvc",
    "cardcvv",
    "cardholder",
    "cardverification",
    "securitycode",
    "cvv",
    "cvc",
    "socialsecurity",
    "accountnumber",
    "routingnumber",
    "bankaccount",
    "sortcode",
    "onetimecode",
    "onetimepassword",
    "apikey",
    "privatekey",
    "secretkey",
    "accesstoken",
    "authtoken",
    "refreshtoken",
    "sessiontoken",
    "dateofbirth",
    "birthdate",
    "securityanswer",
    "twofactor",
    "2fa",
    "authcode",
    "kreditkarte",
    "kartennummer",
    "kartenummer",
    "kortnummer",
    "sicherheitscode",
    "prufziffer",
    "pruefziffer",
    "cryptogramme",
    "codigodeseguridad",
    "kontonummer",
    "rekeningnummer",
    "bankleitzahl",
    "numerodecompte",
    "sozialversicherung",
    "steuerid",
    "steuernummer",
    "personnummer",
    "henkilotunnus",
    "codicefiscale",
    "seccode",
    "smscode",
    "nationalinsurance",
    "nationalid",
    "passportnumber",
    "passportno",
    "acctnumber",
    "taxpayer",
    "driverslicense",
    "driverlicense",
    "drivinglicence",
];

/// Words for password (and PIN) in scripts without Latin letters, matched
/// anywhere in the name in NFKC form, lower case.
pub const SENSITIVE_WORDS_OTHER_SCRIPTS: &[&str] = &[
    "пароль",
    "парола",
    "лозинка",
    "密码",
    "密碼",
    "口令",
    "パスワード",
    "暗証番号",
    "비밀번호",
    "암호",
    "סיסמה",
    "كلمة المرور",
    "كلمة السر",
    "पासवर्ड",
    "รหัสผ่าน",
    "κωδικός",
    "συνθηματικό",
];

/// Endings of a single token that make it sensitive (`userpwd`,
/// `confirmpw`, `userssn`): words that end so are not common English.
pub const SENSITIVE_SUFFIXES: &[&str] = &["pwd", "pw", "ssn", "cvv", "cvc", "ccv", "iban"];

/// Beginnings of a single token that make it sensitive (`pwdconfirm`,
/// `ibannr`).
pub const SENSITIVE_PREFIXES: &[&str] = &["pwd", "passw", "iban", "cvv", "cvc"];

/// How many layers of percent-encoding and HTML character references
/// [`decode`] takes off (`%2570` is `%70` is `p`).
const MAX_DECODE_ROUNDS: usize = 3;

/// The name as a browser or server would read it: percent-encoding
/// (`user%5Bpwd%5D`) and HTML character references (`p&#97;ssword`,
/// `&amp;`) decoded, a few layers deep, and invisible characters (zero-width
/// spaces and joiners, soft hyphens, word joiners, byte-order marks, bidi
/// controls, variation selectors: [`is_invisible`]) removed, so that none of
/// them can split a sensitive word into harmless pieces.
#[must_use]
pub fn decode(name: &str) -> String {
    let mut s = name.to_owned();
    for _ in 0..MAX_DECODE_ROUNDS {
        let mut next = s.clone();
        if next.contains('%') {
            next = percent_encoding::percent_decode_str(&next)
                .decode_utf8_lossy()
                .into_owned();
        }
        if next.contains('&') {
            next = html_escape::decode_html_entities(&next).into_owned();
        }
        if next == s {
            break;
        }
        s = next;
    }
    if s.chars().any(is_invisible) {
        s.retain(|c| !is_invisible(c));
    }
    s
}

/// Characters that render as nothing (Unicode default-ignorable code
/// points and format characters): a name with them reads as the name
/// without them.
#[must_use]
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The name [`decode`]d, with compatibility forms decomposed (NFKD),
/// combining marks removed and the few letters NFKD leaves whole spelled in
/// ASCII (`ł`, `ø`, `ß`, `æ`, ...). Case is kept, so camelCase boundaries
/// survive.
#[must_use]
pub fn fold(name: &str) -> String {
    let name = &decode(name);
    if name.is_ascii() {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for c in name.nfkd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'ı' => out.push('i'),
            'þ' => out.push_str("th"),
            _ => out.push(c),
        }
    }
    unmix(out)
}

/// A name that mixes Latin letters with letters of another script that
/// look like Latin ones (`pаssword` with a Cyrillic `а`, `ΡIN` with a Greek
/// `Ρ`) is read with those letters as the Latin letters they imitate (their
/// Unicode confusable skeleton, [`unicode_security::skeleton`]). A name
/// wholly in one other script is left alone: its words are matched as
/// written ([`SENSITIVE_WORDS_OTHER_SCRIPTS`]).
fn unmix(name: String) -> String {
    let latin = name.chars().any(|c| c.is_ascii_alphabetic());
    let other = name.chars().any(|c| !c.is_ascii() && c.is_alphabetic());
    if !(latin && other) {
        return name;
    }
    let mut out = String::with_capacity(name.len());
    let mut one = [0u8; 4];
    for c in name.chars() {
        if c.is_ascii() || !c.is_alphabetic() {
            out.push(c);
            continue;
        }
        let sk: String = unicode_security::skeleton(c.encode_utf8(&mut one)).collect();
        if !sk.is_empty() && sk.chars().all(|k| k.is_ascii_alphanumeric()) {
            out.push_str(&sk);
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Lower,
    Upper,
    Digit,
    Sep,
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() || c.is_numeric() {
        Class::Digit
    } else if c.is_uppercase() {
        Class::Upper
    } else if c.is_alphabetic() {
        Class::Lower
    } else {
        Class::Sep
    }
}

/// The lower-case tokens of a field name: split on every character that is
/// not a letter or digit (brackets, `_`, `-`, `.`, spaces, ...), between a
/// lower-case and an upper-case letter (`confirmPwd`), before the last
/// capital of a run followed by a lower-case letter (`SSNNumber`), and
/// between letters and digits (`cvv2`); case and diacritics folded.
#[must_use]
pub fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = fold(name).chars().collect();
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let k = class(c);
        if k == Class::Sep {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&p) = i.checked_sub(1).and_then(|j| chars.get(j)) {
            let pk = class(p);
            let next_lower = chars.get(i + 1).is_some_and(|n| class(*n) == Class::Lower);
            let boundary = match (pk, k) {
                (Class::Sep, _) => false,
                (Class::Digit, Class::Digit) => false,
                (Class::Digit, _) | (_, Class::Digit) => true,
                (Class::Lower, Class::Upper) => true,
                (Class::Upper, Class::Upper) => next_lower,
                _ => false,
            };
            if boundary && !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// Names up to this length have their verdict cached per thread.
const CACHE_MAX_LEN: usize = 128;
/// Cached verdicts per thread before the cache starts over.
const CACHE_MAX_ENTRIES: usize = 4_096;

thread_local! {
    /// Verdicts of recently seen names: ingest sees the same form, field and
    /// property names again and again (every keystroke hit asks twice).
    static VERDICTS: std::cell::RefCell<std::collections::HashMap<Box<str>, bool>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Whether a field (or property) name is sensitive by the default rules.
#[must_use]
pub fn is_sensitive_name(name: &str) -> bool {
    if name.len() > CACHE_MAX_LEN {
        return judge(name);
    }
    VERDICTS.with(|cache| {
        if let Some(v) = cache.borrow().get(name) {
            return *v;
        }
        let v = judge(name);
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(name.into(), v);
        v
    })
}

fn judge(name: &str) -> bool {
    let tokens = name_tokens(name);
    if tokens.iter().any(|t| {
        SENSITIVE_TOKENS.contains(&t.as_str())
            || (t.len() > 4
                && (SENSITIVE_SUFFIXES.iter().any(|s| t.ends_with(s))
                    || SENSITIVE_PREFIXES.iter().any(|s| t.starts_with(s))))
    }) {
        return true;
    }
    if SENSITIVE_PHRASES.iter().any(|phrase| {
        tokens
            .windows(phrase.len())
            .any(|w| w.iter().zip(phrase.iter()).all(|(a, b)| a == b))
    }) {
        return true;
    }
    let joined: String = tokens.concat();
    if SENSITIVE_SUBSTRINGS.iter().any(|s| joined.contains(s)) {
        return true;
    }
    let decoded = decode(name);
    !decoded.is_ascii() && {
        let n: String = decoded.nfkc().flat_map(char::to_lowercase).collect();
        SENSITIVE_WORDS_OTHER_SCRIPTS.iter().any(|w| n.contains(w))
    }
}

/// Whether an HTML input type hides what it holds: `password`, `hidden`,
/// `file` (any case, surrounding space ignored).
#[must_use]
pub fn is_sensitive_input_type(t: &str) -> bool {
    let t = fold(t);
    let t = t.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    ["password", "hidden", "file"]
        .iter()
        .any(|x| t.eq_ignore_ascii_case(x))
}

/// Whether an HTML `autocomplete` attribute holds a sensitive token: any
/// `cc-*` (card) token, `new-password`, `current-password` (any token that
/// names a password), `one-time-code`, `transaction-amount`,
/// `transaction-currency`, and the birth-date tokens `bday*`.
#[must_use]
pub fn is_sensitive_autocomplete(a: &str) -> bool {
    fold(a).split_whitespace().any(|tok| {
        let tok = tok.to_ascii_lowercase();
        tok.starts_with("cc-")
            || tok.contains("password")
            || tok == "one-time-code"
            || tok.starts_with("transaction-")
            || tok.starts_with("bday")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_split_on_every_boundary() {
        for (name, want) in [
            ("payment[cc_number]", &["payment", "cc", "number"][..]),
            ("confirmPwd", &["confirm", "pwd"]),
            ("userSSN", &["user", "ssn"]),
            ("SSNNumber", &["ssn", "number"]),
            ("cvv2", &["cvv", "2"]),
            ("card-number.v2 x", &["card", "number", "v", "2", "x"]),
            ("Contraseña", &["contrasena"]),
            ("Hasło", &["haslo"]),
            ("lösenord", &["losenord"]),
            ("ＰＡＳＳＷＯＲＤ", &["password"]),
            ("", &[]),
            ("[]", &[]),
        ] {
            assert_eq!(name_tokens(name), want, "{name}");
        }
    }

    #[test]
    fn listed_names_are_sensitive() {
        for name in [
            "payment[cc_number]",
            "payment[cc_cid]",
            "payment[cc_exp_month]",
            "payment[cc_exp_year]",
            "payment[cc_type]",
            "cc_number",
            "ccv",
            "securityCode",
            "confirmPwd",
            "pw",
            "kennwort",
            "userSSN",
            "userPin",
            "password",
            "Password",
            "user_password",
            "login[password]",
            "password_confirmation",
            "new-password",
            "passwd",
            "userpwd",
            "pwdConfirm",
            "wc-stripe-card-number",
            "stripe_cc_number",
            "wc-authorize-net-cim-credit-card-account-number",
            "cardNumber",
            "CardNumber",
            "card_number",
            "card-expiry",
            "cardExpiry",
            "cardCvc",
            "credit_card",
            "creditcardnumber",
            "ccnum",
            "CCNumber",
            "ccExpMonth",
            "exp_date",
            "expiry",
            "verification_value",
            "checkout[credit_card][verification_value]",
            "cvv2",
            "CVV",
            "csc",
            "card_pin",
            "iban",
            "IBANNumber",
            "ibanNr",
            "bic",
            "swift_code",
            "routing_number",
            "account_number",
            "accountNumber",
            "bank-account",
            "sort_code",
            "ssn",
            "social_security_number",
            "socialSecurityNo",
            "tax_id",
            "taxId",
            "taxid",
            "sin",
            "nino",
            "otp",
            "otp_code",
            "totp",
            "one-time-code",
            "api_key",
            "apiKey",
            "auth_token",
            "csrfToken",
            "client_secret",
            "passphrase",
            "Passwort",
            "passwort_wiederholen",
            "Kennwort",
            "contraseña",
            "Contrasena",
            "senha",
            "mot_de_passe",
            "motDePasse",
            "motdepasse",
            "parola",
            "wachtwoord",
            "lösenord",
            "salasana",
            "hasło",
            "haslo",
            "date_of_birth",
            "dob",
            "birthdate",
            "PASSWORD",
            "ＰＡＳＳＷＯＲＤ",
            "пароль",
            "Пароль",
            "密码",
            "パスワード",
            "비밀번호",
            "passw",
            "2fa_code",
            "twoFactorCode",
            "securityAnswer",
            "mothers_maiden_name",
            "numero_tarjeta",
            "Kreditkartennummer",
            "Kontonummer",
            "numéro_de_carte",
            "codigo_de_seguridad",
            "Prüfziffer",
            "Sozialversicherungsnummer",
            "cc-number",
            "ccNum",
            "cardNo",
            "card[cvc]",
            "expMonth",
            "user[pass]",
            "pass_word",
            "p\u{200b}assword",
            "security_code",
            "ssn_last4",
            "bankAccountNumber",
            "sec_code",
            "smsCode",
            "national_insurance_number",
            "nationalId",
            "passportNumber",
            "acct_no",
            "taxpayer_id",
            "driversLicense",
            "txtPassword",
            "tbPwd",
            "password2",
            "pass1",
            "CreditCardNumber",
            "cardExpirationDate",
            "billing[cc_exp]",
            "pinNumber",
            "access_token",
        ] {
            assert!(is_sensitive_name(name), "{name} should be sensitive");
        }
    }

    #[test]
    fn ordinary_names_are_not_sensitive() {
        for name in [
            "shipping",
            "shipping_address",
            "company",
            "spinner",
            "experience",
            "capital",
            "email",
            "name",
            "first_name",
            "address",
            "zip",
            "postcode",
            "phone",
            "comment",
            "message",
            "subscription",
            "description",
            "passenger",
            "compass",
            "topping",
            "happiness",
            "panel",
            "pineapple",
            "tokyo",
            "expand",
            "export",
            "basic",
            "accept",
            "occupation",
            "classname",
            "decide",
            "cidade",
            "quantity",
            "country",
            "newsletter",
            "search",
            "q",
            "coupon",
            "secretary",
            "account_type",
            "tax_rate",
            "",
        ] {
            assert!(!is_sensitive_name(name), "{name} should not be sensitive");
        }
    }

    #[test]
    fn input_types_and_autocomplete_tokens() {
        for t in ["password", "PASSWORD", " hidden ", "file"] {
            assert!(is_sensitive_input_type(t), "{t}");
        }
        for t in ["text", "email", "tel", "number", ""] {
            assert!(!is_sensitive_input_type(t), "{t}");
        }
        for a in [
            "cc-number",
            "billing cc-exp",
            "cc-csc",
            "cc-name",
            "CC-EXP-MONTH",
            "new-password",
            "current-password",
            "section-login current-password webauthn",
            "one-time-code",
            "transaction-amount",
            "bday",
            "bday-year",
        ] {
            assert!(is_sensitive_autocomplete(a), "{a}");
        }
        // Spelled with full-width letters, invisible characters, entities.
        for t in [
            "ｐａｓｓｗｏｒｄ",
            "pass\u{200b}word",
            "password\0",
            "&#112;assword",
        ] {
            assert!(is_sensitive_input_type(t), "{t:?}");
        }
        for a in [
            "ｃｃ－ｎｕｍｂｅｒ",
            "cc\u{200b}-number",
            "section-x\u{3000}cc-csc",
            "one-time-code\u{feff}",
            "cc&#45;exp",
        ] {
            assert!(is_sensitive_autocomplete(a), "{a:?}");
        }
        for a in ["email", "shipping street-address", "name", "tel", "off", ""] {
            assert!(!is_sensitive_autocomplete(a), "{a}");
        }
    }

    #[test]
    fn look_alike_letters_of_other_scripts_in_a_latin_name_are_read_as_latin() {
        for name in [
            "p\u{0430}ssword",
            "\u{0440}wd",
            "user_\u{0440}in",
            "\u{0441}\u{0441}_number",
            "ib\u{0430}n",
            "\u{03a1}IN",
            "\u{0455}\u{0455}n",
            "cv\u{03bd}",
            "pass\u{0461}ord",
        ] {
            assert!(is_sensitive_name(name), "{name:?} should be sensitive");
        }
        // Wholly other-script words keep their own reading.
        for name in ["\u{0441}\u{0441}", "город", "имя", "адрес", "Ιστορία"] {
            assert!(!is_sensitive_name(name), "{name:?} should not be sensitive");
        }
    }

    #[test]
    fn encoded_and_invisible_spellings_are_read_as_written_by_a_browser() {
        for name in [
            "user%5Bpwd%5D",
            "%70assword",
            "%2570assword",
            "p&#97;ssword",
            "p&#x61;ssword",
            "&#112;&#119;&#100;",
            "p&amp;#97;ssword",
            "%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C",
            "p\u{200b}wd",
            "p\u{200c}w\u{200d}d",
            "s\u{2060}s\u{feff}n",
            "c\u{034f}v\u{180e}c",
            "i\u{202e}ban",
            "p\u{fe0f}in",
        ] {
            assert!(is_sensitive_name(name), "{name:?} should be sensitive");
        }
        for name in ["email%5B%5D", "q&amp;a", "100%", "&", "%zz", "%ff%fe"] {
            assert!(!is_sensitive_name(name), "{name:?} should not be sensitive");
        }
    }

    proptest! {
        #[test]
        fn an_invisible_character_anywhere_never_hides_a_word(
            word in prop::sample::select(vec!["pwd", "ssn", "pin", "cvv", "iban", "otp", "password"]),
            at in 0usize..8,
            c in prop::sample::select(vec!['\u{ad}', '\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{180e}']),
        ) {
            let mut s: Vec<char> = word.chars().collect();
            s.insert(at.min(s.len()), c);
            let name: String = s.into_iter().collect();
            prop_assert!(is_sensitive_name(&name), "{:?}", name);
        }

        #[test]
        fn tokenizer_never_panics_and_folds_case(s in "\\PC{0,40}") {
            let tokens = name_tokens(&s);
            for t in &tokens {
                prop_assert!(!t.is_empty());
                prop_assert_eq!(t.to_lowercase(), t.clone());
            }
            let _ = is_sensitive_name(&s);
        }

        #[test]
        fn a_sensitive_word_is_found_whatever_wraps_it(
            pre in "[a-z]{0,6}",
            word in prop::sample::select(vec!["password", "creditCard", "cc_number", "securityCode", "Pwd", "SSN", "Iban", "Cvv"]),
            sep in prop::sample::select(vec!["_", "-", ".", " ", "[", "]["]),
            post in "[a-z]{0,6}",
        ) {
            let name = format!("{pre}{sep}{word}{sep}{post}");
            prop_assert!(is_sensitive_name(&name), "{}", name);
        }
    }
}
