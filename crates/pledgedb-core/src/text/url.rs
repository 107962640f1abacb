//! stub
#![allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReducedUrl {
    pub path: String,
    pub utm: String,
}
pub fn reduce_url(url: &str) -> ReducedUrl {
    ReducedUrl {
        path: url.split('?').next().unwrap_or("/").to_string(),
        utm: String::new(),
    }
}
pub fn referrer_host(url: &str) -> String {
    url.to_string()
}
