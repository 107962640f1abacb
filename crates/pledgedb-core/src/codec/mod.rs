//! Temporary block codec (postcard), replaced by the columnar codec.
#![allow(missing_docs)]
use crate::event::Event;
use std::marker::PhantomData;

pub const BLOCK_FORMAT_VERSION: u8 = 0;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("bad block: {0}")]
    Bad(String),
}

pub fn encode_block(events: &[Event], out: &mut Vec<u8>) {
    out.extend(serde_json::to_vec(events).unwrap_or_default());
}

pub struct BlockView<'a> {
    events: Vec<Event>,
    _p: PhantomData<&'a [u8]>,
}

impl<'a> BlockView<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<BlockView<'a>, CodecError> {
        let events: Vec<Event> =
            serde_json::from_slice(bytes).map_err(|e| CodecError::Bad(e.to_string()))?;
        Ok(BlockView {
            events,
            _p: PhantomData,
        })
    }
    pub fn len(&self) -> usize {
        self.events.len()
    }
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
    pub fn min_ts(&self) -> i64 {
        self.events.iter().map(|e| e.ts.0).min().unwrap_or(0)
    }
    pub fn max_ts(&self) -> i64 {
        self.events.iter().map(|e| e.ts.0).max().unwrap_or(0)
    }
    pub fn timestamps(&self) -> Result<Vec<i64>, CodecError> {
        Ok(self.events.iter().map(|e| e.ts.0).collect())
    }
    pub fn visitors(&self) -> Result<Vec<u64>, CodecError> {
        Ok(self.events.iter().map(|e| e.visitor.0).collect())
    }
    pub fn sessions(&self) -> Result<Vec<u64>, CodecError> {
        Ok(self.events.iter().map(|e| e.session.0).collect())
    }
    pub fn events(&self) -> Result<Vec<Event>, CodecError> {
        Ok(self.events.clone())
    }
}
