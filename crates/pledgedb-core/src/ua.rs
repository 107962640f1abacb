//! stub
#![allow(missing_docs)]
use crate::event::Device;
pub struct UaInfo {
    pub device: Device,
    pub browser: String,
}
pub fn classify(_ua: &str) -> UaInfo {
    UaInfo {
        device: Device::Unknown,
        browser: "unknown".into(),
    }
}
