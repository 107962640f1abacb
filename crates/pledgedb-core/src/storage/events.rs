//! Whole-segment decoding, for the writer's sealing and rewrites.

use crate::codec::BlockView;
use crate::error::StorageError;
use crate::event::Event;

/// Decodes every block of a segment into events (used by sealing and
/// rewrites).
pub(crate) fn segment_events(seg: &super::segment::Segment) -> Result<Vec<Event>, StorageError> {
    let mut events = Vec::new();
    let path = seg.path.clone();
    seg.for_each_block(|_, bytes| {
        let codec = |e| StorageError::Codec {
            path: path.clone(),
            source: e,
        };
        events.extend(
            BlockView::parse(bytes)
                .map_err(codec)?
                .events()
                .map_err(codec)?,
        );
        Ok(())
    })?;
    Ok(events)
}
