//! Work on chunks on several threads while the consumer sees the results in input order, with
//! a bounded number of chunks in flight so that memory stays flat.

use super::chunk::{parse_chunk, Chunk, ParsedChunk};
use super::input::ReadError;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

/// Why a parallel run stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A thread could not be started (the OS error is part of the message, not also the
    /// error's `source()`).
    #[error("cannot start a thread: {0}")]
    Spawn(std::io::Error),
    /// The work on one item panicked (a bug); the items after it were not delivered.
    #[error("internal error: a worker thread panicked on item {index}")]
    WorkerPanicked {
        /// 0-based position of the item in the input.
        index: u64,
    },
}

/// The number of threads to use for `requested` (0 means one per available core).
pub fn worker_threads(requested: usize) -> usize {
    if requested > 0 {
        // Each thread holds chunks of a megabyte: a number past this is a mistake, not a
        // machine.
        requested.min(MAX_THREADS)
    } else {
        thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// The most worker threads `-j` takes (and [`worker_threads`] gives).
pub const MAX_THREADS: usize = 256;

/// Runs `work` on every item of `items` on `threads` threads (0: one per core) and hands the
/// results to `consume` on the calling thread, in the order of `items`.
///
/// `items` is pulled on a thread of its own (it may block on I/O) and at most `4 × threads`
/// items are between it and `consume` at any time. `consume` returns
/// [`ControlFlow::Break`] to stop early; the result is then `Ok(ControlFlow::Break(()))`.
/// `work` may borrow from the caller (a network model, say). With one thread everything runs
/// on the calling thread.
///
/// If `consume` stops early while `items` is blocked reading (standard input), that thread
/// ends when its read returns.
///
/// ```
/// use std::ops::ControlFlow;
/// use vpcreach::flow_log::run_ordered;
/// let mut seen = Vec::new();
/// run_ordered(0..100u32, 2, |n| n * 2, |n| {
///     seen.push(n);
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!(seen, (0..100).map(|n| n * 2).collect::<Vec<_>>());
/// ```
pub fn run_ordered<I, T, W, C>(
    items: I,
    threads: usize,
    work: W,
    mut consume: C,
) -> Result<ControlFlow<()>, PipelineError>
where
    I: Iterator + Send + 'static,
    I::Item: Send + 'static,
    T: Send,
    W: Fn(I::Item) -> T + Sync,
    C: FnMut(T) -> ControlFlow<()>,
{
    let threads = worker_threads(threads);
    if threads == 1 {
        for item in items {
            if consume(work(item)).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        return Ok(ControlFlow::Continue(()));
    }

    let in_flight = threads * 4;
    // A token per item allowed in flight: the reader takes one per item, the consumer gives it
    // back once the item is delivered.
    let (token_tx, token_rx) = mpsc::sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        // Cannot fail: the receiver is alive and the channel has room.
        let _ = token_tx.send(());
    }
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, I::Item)>(threads);
    thread::Builder::new()
        .name("flow-log-reader".into())
        .spawn(move || {
            let mut items = items;
            for index in 0u64.. {
                if token_rx.recv().is_err() {
                    return;
                }
                let Some(item) = items.next() else { return };
                if work_tx.send((index, item)).is_err() {
                    return;
                }
            }
        })
        .map_err(PipelineError::Spawn)?;

    let stop = AtomicBool::new(false);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, thread::Result<T>)>(in_flight);
    thread::scope(|scope| {
        for n in 0..threads {
            let done_tx = done_tx.clone();
            let (stop, work_rx, work) = (&stop, &work_rx, &work);
            let spawned = thread::Builder::new()
                .name(format!("flow-log-worker-{n}"))
                .spawn_scoped(scope, move || {
                    while !stop.load(Ordering::Relaxed) {
                        // Poisoning cannot happen (nothing panics while holding the lock).
                        let next = work_rx
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .recv_timeout(Duration::from_millis(50));
                        match next {
                            Ok((index, item)) => {
                                let result = catch_unwind(AssertUnwindSafe(|| work(item)));
                                if done_tx.send((index, result)).is_err() {
                                    return;
                                }
                            }
                            Err(RecvTimeoutError::Timeout) => {}
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                stop.store(true, Ordering::Relaxed);
                return Err(PipelineError::Spawn(e));
            }
        }
        drop(done_tx);

        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        let outcome = 'deliver: loop {
            let Ok((index, result)) = done_rx.recv() else {
                // Every worker is done, so every item was delivered.
                break Ok(ControlFlow::Continue(()));
            };
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                let _ = token_tx.send(());
                match result {
                    Ok(value) => {
                        if consume(value).is_break() {
                            break 'deliver Ok(ControlFlow::Break(()));
                        }
                    }
                    Err(_) => break 'deliver Err(PipelineError::WorkerPanicked { index: next }),
                }
                next += 1;
            }
        };
        stop.store(true, Ordering::Relaxed);
        drop(done_rx);
        outcome
    })
}

/// Parses chunks on `threads` threads (0: one per core) with [`parse_chunk`] and hands each
/// parsed chunk, or read error, to `consume` in input order. See [`run_ordered`].
///
/// ```
/// use std::ops::ControlFlow;
/// use vpcreach::flow_log::{parse_parallel, ChunkReader, Counts};
/// let dir = tempfile::tempdir().unwrap();
/// let line = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n";
/// std::fs::write(dir.path().join("a.log"), line.repeat(1000)).unwrap();
/// let reader = ChunkReader::new(vec![dir.path().into()], None).with_chunk_size(4096);
/// let mut counts = Counts::default();
/// parse_parallel(reader, 2, |parsed| {
///     counts += parsed.unwrap().counts;
///     ControlFlow::Continue(())
/// })
/// .unwrap();
/// assert_eq!(counts.parsed, 1000);
/// ```
pub fn parse_parallel<I, C>(
    chunks: I,
    threads: usize,
    consume: C,
) -> Result<ControlFlow<()>, PipelineError>
where
    I: Iterator<Item = Result<Chunk, ReadError>> + Send + 'static,
    C: FnMut(Result<ParsedChunk, ReadError>) -> ControlFlow<()>,
{
    run_ordered(
        chunks,
        threads,
        |item: Result<Chunk, ReadError>| item.map(|chunk| parse_chunk(&chunk)),
        consume,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn order_is_kept_when_work_takes_uneven_time() {
        let mut seen = Vec::new();
        let flow = run_ordered(
            0..200u64,
            3,
            |n| {
                thread::sleep(Duration::from_micros((n * 7919) % 500));
                n
            },
            |n| {
                seen.push(n);
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert_eq!(flow, ControlFlow::Continue(()));
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn stopping_early_stops_reading() {
        static PULLED: AtomicUsize = AtomicUsize::new(0);
        let items = (0..1_000_000u64).inspect(|_| {
            PULLED.fetch_add(1, Ordering::Relaxed);
        });
        let mut seen = 0;
        let flow = run_ordered(
            items,
            2,
            |n| n,
            |_| {
                seen += 1;
                if seen == 10 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap();
        assert_eq!(flow, ControlFlow::Break(()));
        assert_eq!(seen, 10);
        thread::sleep(Duration::from_millis(100));
        // Bounded: the reader never runs far ahead of the consumer.
        assert!(PULLED.load(Ordering::Relaxed) <= 10 + 2 * 4 + 2 + 1);
    }

    #[test]
    fn a_panic_is_an_error_not_a_hang() {
        let result = run_ordered(
            0..50u32,
            2,
            |n| {
                if n == 20 {
                    panic!("boom");
                }
                n
            },
            |_| ControlFlow::Continue(()),
        );
        assert!(matches!(
            result,
            Err(PipelineError::WorkerPanicked { index: 20 })
        ));
    }

    #[test]
    fn one_thread_runs_inline() {
        let caller = thread::current().id();
        let flow = run_ordered(
            0..3u8,
            1,
            |_| assert_eq!(thread::current().id(), caller),
            |_| ControlFlow::Continue(()),
        );
        assert_eq!(flow.unwrap(), ControlFlow::Continue(()));
    }
}
