//! VPC Flow Log records: reading every format version (2 to 8), from files, folders, gzip and
//! stdin.
//!
//! A flow log is read as a stream of [`Chunk`]s (about a megabyte of whole lines each, see
//! [`ChunkReader`]), each parsed on its own ([`parse_chunk`]) into [`FlowRecord`]s and
//! [`Malformed`] lines, so that large inputs can be parsed on every core
//! ([`parse_parallel`], [`run_ordered`]) while records are still seen in input order and
//! memory does not grow with the input.
//!
//! ```
//! use std::ops::ControlFlow;
//! use vpcreach::flow_log::{parse_parallel, Action, ChunkReader, Counts};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(
//!     dir.path().join("flows.log"),
//!     "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
//!      2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n",
//! )
//! .unwrap();
//! let mut rejected = Vec::new();
//! let mut counts = Counts::default();
//! parse_parallel(ChunkReader::new(vec![dir.path().into()], None), 0, |parsed| {
//!     let parsed = parsed.unwrap();
//!     counts += parsed.counts;
//!     for record in &parsed.records {
//!         if record.action == Some(Action::Reject) {
//!             rejected.push((record.line, record.dstport));
//!         }
//!     }
//!     ControlFlow::Continue(())
//! })
//! .unwrap();
//! assert_eq!(rejected, [(2, Some(3389))]);
//! assert_eq!((counts.read, counts.headers), (1, 1));
//! ```

mod chunk;
mod community_id;
mod envelope;
mod field;
mod format;
mod input;
mod line;
mod parallel;
mod parquet;
mod record;
mod scan;

pub use chunk::{parse_chunk, Chunk, Counts, Dropped, Entry, ParsedChunk, Piece, PieceKind};
pub use community_id::community_id;
pub use field::{suggest_field, Field};
pub use format::{Format, FormatError, FormatOrigin, Slot};
pub use input::{
    is_log_name, ChunkReader, ReadError, DEFAULT_CHUNK_SIZE, MAX_LINE_BYTES, NEAR_BYTES, STDIN_NAME,
};
pub use line::{parse_line, Malformed, Problem};
pub use parallel::{parse_parallel, run_ordered, worker_threads, PipelineError, MAX_THREADS};
pub use parquet::{parquet_row_groups, Rows};
pub use record::{Action, EcsFields, FieldValue, FlowDirection, FlowRecord, LogStatus, Text};
pub use scan::{LineAt, Lite, Scanned, Scanner};

#[cfg(test)]
mod tests;
