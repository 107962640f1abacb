//! stub
#![allow(missing_docs)]
pub const REDACTED_IP: &str = "[ip]";
pub fn redact_ips(input: &str) -> std::borrow::Cow<'_, str> {
    std::borrow::Cow::Borrowed(input)
}
pub fn contains_ip(_input: &str) -> bool {
    false
}
