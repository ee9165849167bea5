//! The flow-log reader: any bytes, read as a file at several chunk sizes and as one chunk, by the
//! full parser and the fast scanner. No panic, and every reading gives the same counts, which
//! add up (read = parsed + NODATA + SKIPDATA + malformed); read again with a small line bound
//! (long CloudWatch Logs envelopes read event by event), the counts still add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Write;
use vpcreach::flow_log::{parse_chunk, Chunk, ChunkReader, Counts, Format, Scanned, Scanner};

fn adds_up(c: &Counts) -> bool {
    c.read == c.parsed + c.nodata + c.skipdata + c.malformed
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, data)) = data.split_first() else {
        return;
    };
    let format = match choice % 3 {
        0 => Format::default(),
        1 => Format::all_fields(8),
        _ => Format::parse("interface-id srcaddr dstaddr srcport dstport protocol action").unwrap(),
    };
    // One chunk: the full parser and the scanner agree.
    let chunk = Chunk::new("f.log", data.to_vec(), format.clone());
    let whole = parse_chunk(&chunk);
    assert!(adds_up(&whole.counts));
    let mut scanner = Scanner::new(&chunk);
    let mut records = 0u64;
    let mut malformed = 0u64;
    let counts = scanner.scan(|s, _| match s {
        Scanned::Record(_) => records += 1,
        Scanned::Malformed(_) => malformed += 1,
    });
    assert_eq!(counts, whole.counts);
    assert_eq!(records + malformed, counts.read);

    // Through the reader, from a file, at a small chunk size: the same counts.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(data).unwrap();
    file.flush().unwrap();
    // A file that starts as gzip is read as gzip, one that starts as Parquet as Parquet: it may
    // be corrupt (an error), and is not the text read above (no comparison).
    let gzip = data.starts_with(&[0x1f, 0x8b]) || data.starts_with(b"PAR1");
    for size in [1 + usize::from(choice) % 64, 1 << 20] {
        let mut total = Counts::default();
        let mut failed = false;
        for item in ChunkReader::new(vec![file.path().to_path_buf()], Some(format.clone()))
            .with_chunk_size(size)
        {
            match item {
                Ok(chunk) => total += parse_chunk(&chunk).counts,
                // A header field that is no flow-log field: said, and read on.
                Err(e) if e.is_warning() => {}
                Err(e) => {
                    assert!(gzip, "{e}");
                    failed = true;
                }
            }
        }
        assert!(adds_up(&total));
        if !gzip && !failed {
            assert_eq!(total, whole.counts, "chunk size {size}");
        }
    }

    // With a small line bound: long lines are skipped and long CloudWatch Logs envelopes read
    // event by event. The counts still add up, and the scanner agrees with the full parser on
    // every chunk (pieces of events, events passed by).
    let mut total = Counts::default();
    for item in ChunkReader::new(vec![file.path().to_path_buf()], Some(format.clone()))
        .with_chunk_size(1 + usize::from(choice) % 64)
        .with_max_line_bytes(64 + usize::from(choice))
    {
        let chunk = match item {
            Ok(chunk) => chunk,
            Err(e) => {
                assert!(gzip || e.is_warning(), "{e}");
                continue;
            }
        };
        let parsed = parse_chunk(&chunk);
        assert!(adds_up(&parsed.counts));
        let mut scanner = Scanner::new(&chunk);
        assert_eq!(scanner.scan(|_, _| {}), parsed.counts);
        total += parsed.counts;
    }
    assert!(adds_up(&total));
});
