//! Hostile and broken input (issue #13), through the real binary on real files: no hang (a
//! wall-clock limit that kills the child), bounded memory (the child runs under a limit of its
//! writable private memory, RLIMIT_DATA), nothing skipped silently, nothing from outside reaching the terminal raw.
#![cfg(unix)]

mod common;
mod hostile_support;

use common::{base, snapshot_dir};
use hostile_support::*;
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const WEB_IN: &str =
    "2 111122223333 eni-web 203.0.113.9 10.0.1.10 50000 443 6 5 500 1700000000 1700000060 ACCEPT OK";

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// The fixture with an ENI `eni-web` (10.0.1.10) in sg-web (443 from anywhere).
fn snapshot() -> tempfile::TempDir {
    let mut v = base();
    v["NetworkInterfaces"] = serde_json::json!([common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        None,
        None
    )]);
    snapshot_dir(&v)
}

// 1. A FIFO in a flow, snapshot or policy folder does not block: it is passed by with a
//    warning naming it, and the other files are read.

#[test]
fn a_fifo_in_a_flow_folder_is_named_and_the_other_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    mkfifo(&dir.path().join("b.log"));
    write(&dir.path().join("c.log"), &format!("{V2}\n{WEB_IN}\n"));
    let r = run_limited(
        &[os("parse"), dir.path().as_os_str()],
        Duration::from_secs(20),
        None,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout.lines().count(), 2, "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "warning: skipped `{}`: not a regular file (FIFO)",
            dir.path().join("b.log").display()
        )),
        "{}",
        r.stderr
    );
}

// The same FIFO through `audit --flows`: a warning, and the report stays complete (a passed-by
// entry is not an unreadable input).
#[test]
fn a_fifo_in_a_flow_folder_leaves_the_audit_complete() {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    write(&flows.join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    mkfifo(&flows.join("b.log"));
    let p = dir.path().join("P");
    write(&p.join("a.toml"), POLICY);
    let snap = snapshot();
    let r = run_limited(
        &[
            os("audit"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--policies"),
            p.as_os_str(),
            os("--output"),
            os("json"),
            os("--flows"),
            flows.as_os_str(),
        ],
        Duration::from_secs(30),
        None,
    );
    assert!(r.code == Some(0) || r.code == Some(1), "{r:?}");
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["complete"], true, "{doc:#}");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "{doc:#}");
    let warnings = doc["warnings"].to_string();
    assert!(warnings.contains("not a regular file (FIFO)"), "{warnings}");
    assert!(
        r.stderr.contains("warning: skipped") && r.stderr.contains("b.log"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_fifo_in_a_snapshot_folder_is_named_and_the_snapshot_is_read() {
    let snap = snapshot();
    mkfifo(&snap.path().join("us-east-1/zz.json"));
    let flows = tempfile::tempdir().unwrap();
    let f = write(&flows.path().join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    let r = run_limited(
        &[
            os("explain"),
            os("--output"),
            os("jsonl"),
            os("--snapshot"),
            snap.path().as_os_str(),
            f.as_os_str(),
        ],
        Duration::from_secs(20),
        None,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("zz.json`: not a regular file (FIFO)"),
        "{}",
        r.stderr
    );
    let v: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "consistent", "{v}");
}

const POLICY: &str = "[[statement]]\nid = \"no-ssh\"\ndescription = \"d\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n";

#[test]
fn a_fifo_in_a_policy_folder_is_named_and_the_policies_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.toml"), POLICY);
    mkfifo(&dir.path().join("b.toml"));
    let r = run_limited(
        &[os("policy"), os("check"), dir.path().as_os_str()],
        Duration::from_secs(20),
        None,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("ok: 1 file(s), 1 statement(s)"), "{r:?}");
    assert!(
        r.stderr
            .contains("b.toml: warning: skipped: not a regular file (FIFO)"),
        "{}",
        r.stderr
    );
}

// 2. Folder walks follow links once, detect loops, and never skip silently.

#[test]
fn a_symlink_loop_in_a_policy_folder_ends_fast_and_reads_each_policy_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("P");
    write(&p.join("s/a.toml"), POLICY);
    symlink("..", p.join("s/a")).unwrap();
    let r = run_limited(
        &[os("policy"), os("check"), p.as_os_str()],
        Duration::from_secs(20),
        Some(512),
    );
    // Read once: no "duplicate statement id" from reading it twice.
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("ok: 1 file(s), 1 statement(s)"), "{r:?}");
    assert!(
        r.stderr
            .contains("warning: skipped: a symbolic link loop back to"),
        "{}",
        r.stderr
    );
    // The same folder through `audit`.
    let snap = snapshot();
    let r = run_limited(
        &[
            os("audit"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--policies"),
            p.as_os_str(),
        ],
        Duration::from_secs(20),
        Some(512),
    );
    assert!(r.code == Some(0) || r.code == Some(1), "{r:?}");
    assert!(r.stderr.contains("symbolic link loop"), "{}", r.stderr);
}

#[test]
fn a_linked_day_folder_in_a_flow_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let days = dir.path().join("days");
    write(&days.join("d1/a.log"), &format!("{V2}\n{WEB_IN}\n"));
    let root = dir.path().join("flows");
    std::fs::create_dir(&root).unwrap();
    symlink(&days, root.join("2024")).unwrap();
    // And a loop, reported, not followed.
    symlink(&root, root.join("2024-loop")).unwrap();
    let r = run_limited(
        &[os("parse"), root.as_os_str()],
        Duration::from_secs(20),
        None,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
    assert!(
        r.stderr.contains("1 records read: 1 parsed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("2024-loop`: a symbolic link loop back to"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_linked_region_folder_in_a_snapshot_is_read() {
    let real = snapshot();
    let dir = tempfile::tempdir().unwrap();
    symlink(real.path().join("us-east-1"), dir.path().join("us-east-1")).unwrap();
    let flows = tempfile::tempdir().unwrap();
    let f = write(&flows.path().join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    let r = run(&[
        os("explain"),
        os("--output"),
        os("jsonl"),
        os("--snapshot"),
        dir.path().as_os_str(),
        f.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "consistent", "{v}");
}

// 10. Nothing from outside reaches the terminal raw.

#[test]
fn escape_sequences_in_snapshot_keys_and_file_names_do_not_reach_the_terminal() {
    let snap = snapshot();
    write(
        &snap.path().join("us-east-1/evil.json"),
        r#"{"LoadBalancers\u001b]0;pwned\u0007\u001b[2J\r\nerror: forged\u202e\u2028": []}"#,
    );
    let flows = tempfile::tempdir().unwrap();
    let f = write(
        &flows.path().join("x\u{1b}[2J\r\nerror: forged\u{202e}.log"),
        &format!("{V2}\n{WEB_IN}\nnot a record\n"),
    );
    let r = run(&[
        os("explain"),
        os("--snapshot"),
        snap.path().as_os_str(),
        f.as_os_str(),
    ]);
    for text in [&r.stdout, &r.stderr] {
        for bad in ['\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{2028}'] {
            assert!(!text.contains(bad), "{bad:?} in {text:?}");
        }
        assert!(
            !text.lines().any(|l| l.starts_with("error: forged")),
            "{text}"
        );
    }
    assert!(r.stderr.contains("note: not modelled"), "{}", r.stderr);
    assert!(
        r.stdout.contains("x?[2J??error: forged?.log:2"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("x?[2J??error: forged?.log:3"),
        "{}",
        r.stderr
    );
    // `parse` warnings too.
    let r = run(&[os("parse"), f.as_os_str()]);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\r'),
        "{:?}",
        r.stderr
    );
    assert!(
        r.stderr.contains("x?[2J??error: forged?.log:3"),
        "{}",
        r.stderr
    );
}

// 5. `-j` takes 1 to 256 threads, with a clear error otherwise.

#[test]
fn thread_counts_out_of_range_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir.path().join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    for n in ["18446744073709551615", "4294967295", "0", "257", "x"] {
        let r = run_limited(
            &[os("parse"), os("-j"), os(n), f.as_os_str()],
            Duration::from_secs(20),
            Some(200),
        );
        assert_eq!(r.code, Some(2), "{n}: {r:?}");
        assert!(
            r.stderr
                .contains("expected a number of threads from 1 to 256"),
            "{n}: {}",
            r.stderr
        );
    }
    let snap = snapshot();
    for n in ["1", "256"] {
        let r = run_limited(
            &[
                os("explain"),
                os("-j"),
                os(n),
                os("--snapshot"),
                snap.path().as_os_str(),
                f.as_os_str(),
            ],
            Duration::from_secs(20),
            None,
        );
        assert_eq!(r.code, Some(0), "{n}: {r:?}");
    }
}

// 4. Memory stays bounded whatever a line holds: a longer line than the documented maximum is
//    one malformed line, and reading resumes at the next line end.

fn gzip_of(parts: &mut dyn FnMut(&mut dyn Write)) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    parts(&mut enc);
    enc.finish().unwrap()
}

#[test]
fn a_line_without_a_newline_is_malformed_and_memory_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // 150 MB on one line, then a record: under a 200 MB memory limit.
    let data = gzip_of(&mut |w| {
        w.write_all(b"2 ").unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..150 {
            w.write_all(&block).unwrap();
        }
        w.write_all(format!("\n{V2}\n{WEB_IN}\n").as_bytes())
            .unwrap();
    });
    let f = dir.path().join("long.log.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[os("parse"), os("-j"), os("2"), f.as_os_str()],
        Duration::from_secs(120),
        Some(200),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "{}:1: the line is longer than 16777216 bytes, the most a line or JSON value may hold: skipped to the next line",
            f.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("2 records read: 1 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 1 malformed; 1 header line"), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1);
    let v: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(v["line"], 3);
    // Explained too, through the fast scanner, totals adding up.
    let snap = snapshot();
    let r = run_limited(
        &[
            os("explain"),
            os("--output"),
            os("jsonl"),
            os("--only"),
            os("malformed,consistent"),
            os("--snapshot"),
            snap.path().as_os_str(),
            f.as_os_str(),
        ],
        Duration::from_secs(120),
        Some(200),
    );
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{r:?}");
    assert_eq!(lines[0]["status"], "malformed");
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[1]["status"], "consistent");
}

#[test]
fn a_gzip_bomb_of_zeros_is_one_malformed_line_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB of zero bytes (about 1 MB of gzip), then a record.
    let data = gzip_of(&mut |w| {
        let block = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            w.write_all(&block).unwrap();
        }
        w.write_all(format!("\n{V2}\n{WEB_IN}\n").as_bytes())
            .unwrap();
    });
    let f = dir.path().join("zeros.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[os("parse"), f.as_os_str()],
        Duration::from_secs(300),
        Some(200),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("zeros.gz:1: the line is longer than"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("2 records read: 1 parsed"),
        "{}",
        r.stderr
    );
}

/// The start of a CloudWatch Logs data message, as AWS writes it (`messageType` first).
const ENVELOPE_HEAD: &[u8] = br#"{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":["#;

/// A log event of `WEB_IN` from `10.0.{i / 256 % 256}.{i % 256}`: each record can be told apart.
fn web_event(i: usize) -> String {
    format!(
        r#"{{"id":"36431000000000000000000000000000000000000000000000","timestamp":1700000000000,"message":"{}"}}"#,
        WEB_IN.replace(
            "203.0.113.9",
            &format!("10.0.{}.{}", i / 256 % 256, i % 256)
        )
    )
}

#[test]
fn a_huge_cloudwatch_envelope_is_read_event_by_event_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // One envelope of 600k events (about 100 MB) on one line, then a small one.
    let data = gzip_of(&mut |w| {
        w.write_all(ENVELOPE_HEAD).unwrap();
        for i in 0..600_000 {
            if i > 0 {
                w.write_all(b",").unwrap();
            }
            w.write_all(web_event(i).as_bytes()).unwrap();
        }
        w.write_all(b"]}\n").unwrap();
        w.write_all(
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
                web_event(7)
            )
            .as_bytes(),
        )
        .unwrap();
        w.write_all(b"\n").unwrap();
    });
    let f = dir.path().join("firehose.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[os("parse"), f.as_os_str()],
        Duration::from_secs(240),
        Some(200),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains(
            "600001 records read: 600001 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 0 malformed"
        ),
        "{}",
        r.stderr
    );
    // Every event, in order, numbered as in its envelope.
    let mut n = 0;
    for (i, line) in r.stdout.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let want = if i < 600_000 {
            (
                1,
                i as u64 + 1,
                format!("10.0.{}.{}", i / 256 % 256, i % 256),
            )
        } else {
            (2, 1, "10.0.0.7".to_string())
        };
        assert_eq!(
            (
                v["line"].as_u64().unwrap(),
                v["event"].as_u64().unwrap(),
                v["srcaddr"].as_str().unwrap().to_string()
            ),
            want
        );
        n += 1;
    }
    assert_eq!(n, 600_001);
}

#[test]
fn a_log_event_over_the_bound_in_a_huge_envelope_is_one_malformed_event() {
    let dir = tempfile::tempdir().unwrap();
    // 200k events with one of 20 MB (its `id`) as the 100001st, then a small envelope.
    let data = gzip_of(&mut |w| {
        w.write_all(ENVELOPE_HEAD).unwrap();
        for i in 0..200_000 {
            if i > 0 {
                w.write_all(b",").unwrap();
            }
            if i == 100_000 {
                w.write_all(br#"{"id":""#).unwrap();
                let block = vec![b'7'; 1 << 20];
                for _ in 0..20 {
                    w.write_all(&block).unwrap();
                }
                w.write_all(format!(r#"","message":"{WEB_IN}"}}"#).as_bytes())
                    .unwrap();
            } else {
                w.write_all(web_event(i).as_bytes()).unwrap();
            }
        }
        w.write_all(b"]}\n").unwrap();
        w.write_all(
            format!(
                r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
                web_event(7)
            )
            .as_bytes(),
        )
        .unwrap();
        w.write_all(b"\n").unwrap();
    });
    let f = dir.path().join("firehose.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[os("parse"), f.as_os_str()],
        Duration::from_secs(240),
        Some(200),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("firehose.gz:1: log event 100001: the log event is longer than 16777216 bytes, the most a line or JSON value may hold: skipped to the next log event"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "200001 records read: 200000 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 1 malformed"
        ),
        "{}",
        r.stderr
    );
    let events: Vec<(u64, u64)> = r
        .stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["line"].as_u64().unwrap(), v["event"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(events.len(), 200_000);
    assert_eq!(events[99_999..100_001], [(1, 100_000), (1, 100_002)]);
    assert_eq!(events[199_999], (2, 1));
}

#[test]
fn an_envelope_read_in_pieces_parses_as_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    // The same envelope (with a control message and an event that is no record around it),
    // then a line of text: once as is, once with 17 MB of white space between two of its
    // events, so that it is past the bound and read event by event.
    let file = |pad: usize, name: &str| {
        let data = gzip_of(&mut |w| {
            w.write_all(br#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#).unwrap();
            w.write_all(ENVELOPE_HEAD).unwrap();
            for i in 0..2_000 {
                if i > 0 {
                    w.write_all(b",").unwrap();
                }
                if i == 1_000 {
                    w.write_all(&vec![b' '; pad]).unwrap();
                }
                if i == 1_500 {
                    w.write_all(br#"{"id":"1","message":"not a record"}"#)
                        .unwrap();
                } else {
                    w.write_all(web_event(i).as_bytes()).unwrap();
                }
            }
            w.write_all(format!("]}}\n{V2}\n{WEB_IN}\n").as_bytes())
                .unwrap();
        });
        let f = dir.path().join(name);
        std::fs::write(&f, data).unwrap();
        f
    };
    let small = file(0, "f.gz");
    let padded = file(17 << 20, "f.gz.padded");
    let whole = run_limited(
        &[os("parse"), small.as_os_str()],
        Duration::from_secs(60),
        Some(200),
    );
    let pieces = run_limited(
        &[os("parse"), padded.as_os_str()],
        Duration::from_secs(60),
        Some(200),
    );
    assert_eq!(whole.code, Some(0), "{whole:?}");
    assert_eq!(pieces.code, Some(0), "{pieces:?}");
    // The same records, events numbered the same, and the same malformed event.
    let same = |text: &str, path: &Path| text.replace(path.to_str().unwrap(), "F");
    assert_eq!(whole.stdout.lines().count(), 2_000);
    assert!(
        same(&whole.stdout, &small) == same(&pieces.stdout, &padded),
        "the records differ"
    );
    assert!(
        whole
            .stderr
            .contains("f.gz:1: log event 1501: expected 14 fields"),
        "{}",
        whole.stderr
    );
    assert_eq!(same(&whole.stderr, &small), same(&pieces.stderr, &padded));
    // `explain` (its fast scanner) judges them the same too.
    let snap = snapshot();
    let explain = |f: &Path| {
        let r = run_limited(
            &[
                os("explain"),
                os("--output"),
                os("jsonl"),
                os("--snapshot"),
                snap.path().as_os_str(),
                f.as_os_str(),
            ],
            Duration::from_secs(60),
            Some(400),
        );
        assert_eq!(r.code, Some(0), "{r:?}");
        (same(&r.stdout, f), same(&r.stderr, f))
    };
    let (whole, pieces) = (explain(&small), explain(&padded));
    assert_eq!(whole.0.lines().count(), 2_000);
    assert!(whole.0.contains(r#""status":"consistent""#));
    assert!(whole == pieces, "the explanations differ");
}

#[test]
fn many_envelopes_on_one_long_line_are_read_event_by_event_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 60 envelopes of 10k events each (about 75 MB) on one line, as Firehose concatenates
    // them: the line is far past the bound, each envelope within it.
    let event = format!(r#"{{"id":"1","timestamp":1700000000000,"message":"{WEB_IN}"}}"#);
    let data = gzip_of(&mut |w| {
        for _ in 0..60 {
            w.write_all(br#"{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":["#).unwrap();
            for i in 0..10_000 {
                if i > 0 {
                    w.write_all(b",").unwrap();
                }
                w.write_all(event.as_bytes()).unwrap();
            }
            w.write_all(b"]}").unwrap();
        }
        w.write_all(b"\n").unwrap();
    });
    let f = dir.path().join("firehose.gz");
    std::fs::write(&f, data).unwrap();
    // Writable private memory, not resident memory: the threads' stacks and what the allocator
    // committed count too. Peak resident memory measured on this input: 126 to 140 MB; at 300 MB
    // of address space (the limit these tests used before, which counts the binary's code) an
    // allocation failed on a 2-core machine.
    let r = run_limited(
        &[os("parse"), f.as_os_str()],
        Duration::from_secs(240),
        Some(512),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains(
            "600000 records read: 600000 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 0 malformed"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout.lines().count(), 600_000);
}

// 8. An invalid header makes the records after it malformed until the next valid header; no
//    JSON key is written twice.

#[test]
fn records_after_an_invalid_header_are_malformed_until_a_valid_one() {
    let dir = tempfile::tempdir().unwrap();
    // The second header repeats `srcaddr`: read with the first header, the record below it
    // would have source and destination swapped.
    let text = "version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\nversion dstaddr srcaddr srcaddr\n2 10.0.0.3 10.0.0.4 10.0.0.5\n2 10.0.0.6 10.0.0.7\nversion dstaddr srcaddr\n2 10.0.0.8 10.0.0.9\n";
    let f = write(&dir.path().join("h.log"), text);
    {
        let r = run(&[os("parse"), f.as_os_str()]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let records: Vec<Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let lines: Vec<u64> = records
            .iter()
            .map(|v| v["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [2, 7], "{}", r.stdout);
        assert_eq!(records[1]["srcaddr"], "10.0.0.9");
        assert!(
            r.stderr
                .contains("h.log:3: invalid header: field `srcaddr` appears twice in the format"),
            "{}",
            r.stderr
        );
        for line in [4, 5] {
            assert!(
                r.stderr.contains(&format!(
                    "h.log:{line}: no valid header: the header at line 3 is invalid"
                )),
                "{}",
                r.stderr
            );
        }
        assert!(r.stderr.contains("5 records read: 2 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 3 malformed; 2 header lines"), "{}", r.stderr);
    }
    // Explain agrees (the fast scanner), and across chunk edges of the reader.
    let snap = snapshot();
    let r = run(&[
        os("explain"),
        os("--output"),
        os("jsonl"),
        os("--only"),
        os("malformed,unknown"),
        os("--snapshot"),
        snap.path().as_os_str(),
        f.as_os_str(),
    ]);
    let statuses: Vec<(u64, String)> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["line"].as_u64().unwrap(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let malformed: Vec<u64> = statuses
        .iter()
        .filter(|(_, s)| s == "malformed")
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(malformed, [3, 4, 5], "{statuses:?}");
}

#[test]
fn header_fields_named_like_vpcreach_keys_do_not_repeat_json_keys() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir.path().join("k.log"),
        "version file line event community-id srcaddr\n2 a b c d 10.0.0.1\n",
    );
    let r = run(&[os("parse"), f.as_os_str()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let line = r.stdout.lines().next().unwrap();
    // Every key once: a map of the keys has as many entries as the object has members.
    let keys: Vec<&str> = line
        .match_indices("\":")
        .map(|(i, _)| {
            let start = line[..i].rfind('"').unwrap();
            &line[start + 1..i]
        })
        .collect();
    let unique: std::collections::HashSet<&&str> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{line}");
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["file"], f.to_str().unwrap());
    assert_eq!(v["line"], 2);
    assert_eq!(v["extra_file"], "a");
    assert_eq!(v["extra_line"], "b");
    assert_eq!(v["extra_event"], "c");
    assert_eq!(v["extra_community_id"], "d");
}

// 9. CloudWatch control messages hold no records; repeated keys and broken envelopes are
//    malformed, each on its own, and reading resynchronises at the next envelope.

const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

fn envelope(messages: &[&str]) -> String {
    let events: Vec<String> = messages
        .iter()
        .map(|m| format!(r#"{{"id":"1","timestamp":1700000000000,"message":"{m}"}}"#))
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events.join(",")
    )
}

#[test]
fn cloudwatch_control_messages_hold_no_records_even_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir.path().join("cw.json"),
        &format!("{CONTROL}\n{}{CONTROL}\n", envelope(&[WEB_IN])),
    );
    let r = run(&[os("parse"), os("--strict"), f.as_os_str()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
    assert!(
        r.stderr
            .contains("1 records read: 1 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 0 malformed"),
        "{}",
        r.stderr
    );
}

#[test]
fn repeated_message_keys_and_broken_envelopes_are_malformed_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let other = WEB_IN.replace("50000", "50001");
    // Line 1: `message` twice (the first record would be lost silently).
    // Line 2: an envelope with an unclosed `[` between two good ones, back to back.
    // Line 3: an event with `message` twice among good ones.
    let broken = r#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","message":"x"}}"#;
    let dup_event = r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"a","message":"b"},{"message":"MSG"}]}"#
        .replace("MSG", &other);
    let text = format!(
        "{{\"message\":\"{WEB_IN}\",\"message\":\"{other}\"}}\n{}{broken}{}\n{dup_event}\n",
        envelope(&[WEB_IN]),
        envelope(&[&other]),
    );
    let f = write(&dir.path().join("fh.json"), &text);
    let r = run(&[os("parse"), f.as_os_str()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let records: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let places: Vec<(u64, Option<u64>)> = records
        .iter()
        .map(|v| (v["line"].as_u64().unwrap(), v["event"].as_u64()))
        .collect();
    assert_eq!(
        places,
        [(2, Some(1)), (2, Some(3)), (3, Some(2))],
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("fh.json:1: the key `message` appears twice in a JSON object"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("fh.json:2: log event 2: invalid JSON"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("fh.json:3: log event 1: the key `message` appears twice in a JSON object"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("6 records read: 3 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 3 malformed"),
        "{}",
        r.stderr
    );
}

#[test]
fn bidi_overrides_and_line_separators_do_not_reach_human_markdown_or_dot_output() {
    let mut v = base();
    v["NetworkInterfaces"] = serde_json::json!([common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        Some("54.0.0.10"),
        None
    )]);
    let evil = "web\u{202e}lmth.exe\u{2028}error: forged\u{1b}[2J";
    v["SecurityGroups"][0]["GroupName"] = Value::from(evil);
    v["SecurityGroups"][0]["Description"] = Value::from(evil);
    v["SecurityGroups"][0]["Tags"] = serde_json::json!([{"Key": "Name", "Value": evil}]);
    let snap = snapshot_dir(&v);
    let check = |r: &Run| {
        for text in [&r.stdout, &r.stderr] {
            for bad in ['\u{202e}', '\u{2028}', '\u{1b}'] {
                assert!(!text.contains(bad), "{bad:?} in {text}");
            }
        }
    };
    for output in ["human", "dot"] {
        let r = run(&[
            os("query"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--from"),
            os("203.0.113.9"),
            os("--to"),
            os("54.0.0.10"),
            os("--port"),
            os("443"),
            os("--output"),
            os(output),
        ]);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert!(r.stdout.contains("sg-web"), "{}", r.stdout);
        check(&r);
    }
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        &dir.path().join("p.toml"),
        "[[statement]]\nid = \"no-https\"\ndescription = \"no HTTPS from the internet\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/443\"\n",
    );
    for output in ["markdown", "human"] {
        let r = run(&[
            os("audit"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--policies"),
            policy.as_os_str(),
            os("--output"),
            os(output),
        ]);
        assert_eq!(r.code, Some(1), "{r:?}");
        assert!(r.stdout.contains("no-https"), "{}", r.stdout);
        check(&r);
    }
}

// 11. Smaller ones.

#[test]
fn strict_json_output_stays_valid_json() {
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir.path().join("a.log"),
        &format!("{V2}\n{WEB_IN}\nnot a record\n{WEB_IN}\n"),
    );
    let r = run(&[
        os("explain"),
        os("--strict"),
        os("--output"),
        os("json"),
        os("--snapshot"),
        snap.path().as_os_str(),
        f.as_os_str(),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    let doc: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    assert!(doc["error"].as_str().unwrap().contains("a.log:3"), "{doc}");
    assert!(doc["records"].is_array());
}

#[test]
fn a_closed_pipe_keeps_the_exit_code_of_contradictions() {
    use std::io::{BufRead, BufReader};
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    // Accepted by the security group, observed rejected: a contradiction, 50,000 times.
    let rejected = WEB_IN.replace("ACCEPT", "REJECT");
    let text: String = std::iter::once(format!("{V2}\n"))
        .chain(std::iter::repeat_n(format!("{rejected}\n"), 50_000))
        .collect();
    let f = write(&dir.path().join("a.log"), &text);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vpcreach"))
        .args([
            os("explain"),
            os("--snapshot"),
            snap.path().as_os_str(),
            f.as_os_str(),
        ])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("CONTRADICTION"), "{first}");
    // The reading end is dropped here, as `| head -1` does.
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn records_that_cannot_be_are_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let reversed = "2 111122223333 eni-web 203.0.113.9 10.0.1.10 50000 443 6 5 500 1700000060 1700000000 ACCEPT OK";
    let far = "2 111122223333 eni-web 203.0.113.9 10.0.1.10 50000 443 6 5 500 1700000000 9223372036854775808 ACCEPT OK";
    let f = write(
        &dir.path().join("a.log"),
        &format!(
            "{V2}\n{reversed}\n{far}\n{}\n{}\n",
            r#"{"version": 2, "srcaddr": "10.0.0.1", "dstaddr": "10.0.0.2", "dstport": -0.0}"#,
            r#"{"version": 2, "interface-id": ["eni-1", "eni-2"], "srcaddr": "10.0.0.1"}"#,
        ),
    );
    let r = run(&[os("parse"), f.as_os_str()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout, "", "{}", r.stdout);
    for (line, message) in [
        (2, "`start` 1700000060 is after `end` 1700000000"),
        (3, "`9223372036854775808` is not a valid `end`: expected a time in seconds since 1970, up to the end of year 9999"),
        (4, "`-0.0` is not a valid `dstport`"),
        (5, "is not a valid `interface-id`: expected a string or a number"),
    ] {
        assert!(
            r.stderr.contains(&format!("a.log:{line}")) && r.stderr.contains(message),
            "{line}: {message}\n{}",
            r.stderr
        );
    }
    assert!(
        r.stderr
            .contains("4 records read: 0 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 4 malformed"),
        "{}",
        r.stderr
    );
    // A snapshot time before 1970 is refused.
    let snap = snapshot();
    let r = run(&[
        os("explain"),
        os("--snapshot-time"),
        os("0000-01-01"),
        os("--snapshot"),
        snap.path().as_os_str(),
        f.as_os_str(),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr
            .contains("`0000-01-01` is not an RFC 3339 date or date-time from 1970 to 9999"),
        "{}",
        r.stderr
    );
}

#[test]
fn small_messages_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // `tcp/-1`: the port is named.
    let p = write(
        &dir.path().join("p/a.toml"),
        &POLICY.replace("tcp/22", "tcp/-1"),
    );
    let r = run(&[os("policy"), os("check"), p.as_os_str()]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains("`tcp/-1`: `-1` is not a port"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("`` is not a port"), "{}", r.stderr);
    // An empty baseline.
    let snap = snapshot();
    let good = write(&dir.path().join("q/a.toml"), POLICY);
    let baseline = write(&dir.path().join("baseline.json"), "");
    let r = run(&[
        os("audit"),
        os("--snapshot"),
        snap.path().as_os_str(),
        os("--policies"),
        good.as_os_str(),
        os("--baseline"),
        baseline.as_os_str(),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains("baseline.json:1:1: the file is empty"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(":1:0"), "{}", r.stderr);
    // A selector that selects nothing is named in words, not as Rust debug text.
    let tagged = write(
        &dir.path().join("t/a.toml"),
        &format!(
            "[groups.nobody]\ntags = [\"Team=nobody\"]\n\n{}",
            POLICY.replace("to = \"any\"", "to = \"nobody\"")
        ),
    );
    let r = run(&[
        os("audit"),
        os("--snapshot"),
        snap.path().as_os_str(),
        os("--policies"),
        tagged.as_os_str(),
    ]);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("selector tag `Team=nobody` of group `nobody` selects nothing"),
        "{all}"
    );
    assert!(!all.contains("Tag {"), "{all}");
    // A 100,000-character `--from` is not echoed whole.
    let long = "a".repeat(100_000);
    let r = run(&[
        os("query"),
        os("--snapshot"),
        snap.path().as_os_str(),
        os("--from"),
        os(&long),
        os("--to"),
        os("eni-web"),
        os("--port"),
        os("443"),
    ]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.contains("is too long for an ENI id"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.len() < 1000, "{}", r.stderr.len());
    // `parse --strict` counts the header it read.
    let f = write(&dir.path().join("s.log"), &format!("{V2}\n{WEB_IN}\nbad\n"));
    let r = run(&[os("parse"), os("--strict"), f.as_os_str()]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("1 header line"), "{}", r.stderr);
}

// 7. Inconsistent snapshots: a warning naming the file and the resource, and `unknown` where
//    the answer would depend on the choice, whatever the file names.

/// Explains `WEB_IN` against `snap`: its status and stderr.
fn explain_web_in(snap: &Path) -> (String, String) {
    let (status, _, stderr) = explain_web_in_said(snap);
    (status, stderr)
}

/// Explains `WEB_IN` against `snap`: its status, its message and stderr.
fn explain_web_in_said(snap: &Path) -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let f = write(&dir.path().join("a.log"), &format!("{V2}\n{WEB_IN}\n"));
    let r = run(&[
        os("explain"),
        os("--output"),
        os("jsonl"),
        os("--snapshot"),
        snap.as_os_str(),
        f.as_os_str(),
    ]);
    assert!(r.code == Some(0) || r.code == Some(1), "{r:?}");
    let v: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    (
        v["status"].as_str().unwrap().to_string(),
        v["message"].as_str().unwrap().to_string(),
        r.stderr,
    )
}

#[test]
fn a_group_defined_twice_differently_is_unknown_whatever_the_file_order() {
    for (first, second) in [("a.json", "b.json"), ("b.json", "a.json")] {
        let snap = snapshot();
        let region = snap.path().join("us-east-1");
        let mut open = base()["SecurityGroups"][0].clone();
        open["IpPermissions"] = serde_json::json!([]);
        // The group as the fixture has it, and again without its rule, in another file.
        std::fs::rename(region.join("SecurityGroups.json"), region.join(first)).unwrap();
        write(
            &region.join(second),
            &serde_json::json!({ "SecurityGroups": [open] }).to_string(),
        );
        let (status, message, stderr) = explain_web_in_said(snap.path());
        assert_eq!(status, "unknown", "{first} {second}: {stderr}");
        assert!(
            message.contains("left out of the model")
                && message.contains("its security group `sg-web` is left out"),
            "{message}"
        );
        // `query` names the cause too.
        let r = run(&[
            os("query"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--from"),
            os("203.0.113.9"),
            os("--to"),
            os("eni-web"),
            os("--port"),
            os("443"),
        ]);
        assert_eq!(r.code, Some(2), "{r:?}");
        assert!(
            r.stderr.contains("`eni-web` is left out of the model")
                && r.stderr.contains("security group `sg-web`"),
            "{}",
            r.stderr
        );
        // Its address names it too: not an address outside the snapshot.
        for (from, to) in [
            ("10.0.2.20", "10.0.1.10"),
            ("203.0.113.9", "::ffff:10.0.1.10"),
        ] {
            let r = run(&[
                os("query"),
                os("--snapshot"),
                snap.path().as_os_str(),
                os("--from"),
                os(from),
                os("--to"),
                os(to),
                os("--port"),
                os("443"),
            ]);
            assert_eq!(r.code, Some(2), "{to}: {r:?}");
            assert!(
                r.stderr
                    .contains(&format!("`{to}` is left out of the model:"))
                    && r.stderr.contains("it names `eni-web`")
                    && r.stderr.contains("security group `sg-web`"),
                "{to}: {}",
                r.stderr
            );
        }
        assert!(
            stderr.contains("security group `sg-web` is defined again, differently from")
                && stderr.contains("a.json")
                && stderr.contains("b.json"),
            "{stderr}"
        );
    }
    // The same definition twice is read once, with a warning, and decides as before.
    let snap = snapshot();
    let region = snap.path().join("us-east-1");
    std::fs::copy(region.join("SecurityGroups.json"), region.join("Copy.json")).unwrap();
    let (status, stderr) = explain_web_in(snap.path());
    assert_eq!(status, "consistent", "{stderr}");
    assert!(
        stderr.contains("security group `sg-web` is defined again, the same as in"),
        "{stderr}"
    );
}

#[test]
fn rules_that_cannot_be_read_make_their_resource_unknown() {
    let nacl_deny = |entry: Value| {
        let mut v = base();
        v["NetworkInterfaces"] = serde_json::json!([common::eni(
            "eni-web",
            "subnet-pub",
            "10.0.1.10",
            &["sg-web"],
            None,
            None
        )]);
        let entries = v["NetworkAcls"][0]["Entries"].as_array_mut().unwrap();
        entries.insert(0, entry);
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        // A deny of 443 written as a reversed range: read as nothing, it would fail open.
        (
            nacl_deny(serde_json::json!({"RuleNumber": 10, "Protocol": "6", "RuleAction": "deny", "Egress": false,
                "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 500, "To": 400}})),
            "network ACL `acl-default` has rule 10 that cannot be read (the port range `500`-`400` is reversed)",
        ),
        (
            nacl_deny(serde_json::json!({"RuleNumber": 99999999999i64, "Protocol": "-1", "RuleAction": "deny", "Egress": false,
                "CidrBlock": "0.0.0.0/0"})),
            "rule number 99999999999 is not within 1 to 32768",
        ),
        (
            nacl_deny(serde_json::json!({"RuleNumber": 100, "Protocol": "6", "RuleAction": "deny", "Egress": false,
                "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}})),
            "network ACL `acl-default` has two inbound rules numbered 100",
        ),
    ];
    let mut cases = cases;
    let mut wide = base();
    wide["NetworkInterfaces"] = serde_json::json!([common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        None,
        None
    )]);
    wide["SecurityGroups"][0]["IpPermissions"][0]["ToPort"] = Value::from(70000);
    cases.push((wide, "security group `sg-web` has an inbound rule that cannot be read (ports `443`-`70000` are not within 0 to 65535)"));
    let mut family = base();
    family["NetworkInterfaces"] = serde_json::json!([common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        None,
        None
    )]);
    family["SecurityGroups"][0]["IpPermissions"][0]["IpRanges"] =
        serde_json::json!([{"CidrIp": "::/0"}]);
    cases.push((family, "`CidrIp` `::/0` is not an IPv4 CIDR"));
    let mut two_tables = base();
    two_tables["NetworkInterfaces"] = serde_json::json!([common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        None,
        None
    )]);
    two_tables["RouteTables"][1]["Associations"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"SubnetId": "subnet-pub", "Main": false}));
    cases.push((
        two_tables,
        "subnet `subnet-pub` is associated with two route tables: `rtb-pub`",
    ));
    let mut two_enis = base();
    let web = common::eni(
        "eni-web",
        "subnet-pub",
        "10.0.1.10",
        &["sg-web"],
        None,
        None,
    );
    let other = common::eni(
        "eni-web",
        "subnet-app",
        "10.0.2.10",
        &["sg-app"],
        None,
        None,
    );
    two_enis["NetworkInterfaces"] = serde_json::json!([web, other]);
    cases.push((two_enis, "ENI `eni-web` is defined again, differently from"));
    for (v, warning) in cases {
        let snap = snapshot_dir(&v);
        let (status, message, stderr) = explain_web_in_said(snap.path());
        assert_eq!(status, "unknown", "{warning}: {stderr}");
        // The record itself says why, not only a warning on stderr.
        assert!(
            message.contains("interface eni-web is left out of the model")
                && (message.contains(warning)
                    || message.contains("its security group `sg-web` is left out")
                    || message.contains("its subnet `subnet-pub` is left out")),
            "{warning}: {message}"
        );
        assert!(stderr.contains(warning), "{warning}: {stderr}");
        assert!(
            stderr.contains(".json: ") || stderr.contains("subnet `"),
            "{stderr}"
        );
    }
}

// Issue 13 item 4, for history files (issue 15): a CloudTrail file is read record by record.
#[test]
fn a_large_trail_file_is_read_record_by_record_in_bounded_memory() {
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    // 150,000 read-only calls (about 100 MB unpacked) and one change, in one gzipped trail file.
    let record = |i: usize| {
        format!(
            r#"{{"eventVersion":"1.10","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/reader","accountId":"111122223333"}},"eventTime":"2024-10-14T12:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.5 exe/x86_64 prompt/off command/ec2.describe-instances","requestParameters":{{"instancesSet":{{}},"filterSet":{{"items":[{{"name":"instance-state-name","valueSet":{{"items":[{{"value":"running"}}]}}}}]}}}},"responseElements":null,"requestID":"req-{i}","eventID":"00000000-0000-4000-9000-{i:012}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
        )
    };
    let authorize = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cloudtrail/authorize-ingress.json"),
    )
    .unwrap();
    let authorize: Value = serde_json::from_str(&authorize).unwrap();
    let change = authorize["Records"][0].to_string();
    let data = gzip_of(&mut |w| {
        w.write_all(br#"{"Records":["#).unwrap();
        for i in 0..150_000 {
            w.write_all(record(i).as_bytes()).unwrap();
            w.write_all(b",").unwrap();
        }
        w.write_all(change.as_bytes()).unwrap();
        w.write_all(b"]}").unwrap();
    });
    let f = dir.path().join("trail.json.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[
            os("changes"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--snapshot-time"),
            os("2024-10-14T15:00:00Z"),
            os("--history"),
            f.as_os_str(),
        ],
        Duration::from_secs(240),
        Some(400),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("history: 1 file(s), 150001 record(s): 1 change(s) kept, 0 duplicate(s), 0 failed call(s) (0 dry run(s)) that changed nothing, 150000 other call(s), 0 unreadable"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("AuthorizeSecurityGroupIngress"),
        "{}",
        r.stdout
    );
}

// A trail file cut short keeps the records before the cut, and names the file.
#[test]
fn a_trail_file_cut_short_keeps_its_records_and_names_the_file() {
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    let authorize = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cloudtrail/authorize-ingress.json"),
    )
    .unwrap();
    let authorize: Value = serde_json::from_str(&authorize).unwrap();
    let text = format!(
        r#"{{"Records":[{},{{"eventVersion":"1.10","eventTi"#,
        authorize["Records"][0]
    );
    let f = dir.path().join("cut.json");
    std::fs::write(&f, text).unwrap();
    let r = run(&[
        os("changes"),
        os("--snapshot"),
        snap.path().as_os_str(),
        os("--snapshot-time"),
        os("2024-10-14T15:00:00Z"),
        os("--history"),
        f.as_os_str(),
    ]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("cut.json: after record 0:")
            && r.stderr.contains("the records before it are kept"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1 change(s) kept"), "{}", r.stderr);
    assert!(
        r.stdout.contains("AuthorizeSecurityGroupIngress"),
        "{}",
        r.stdout
    );
}

// Issue 15: an AWS Config file is read item by item too (bounded memory), items of types that
// do not matter are passed by, counted.
#[test]
fn a_large_config_file_is_read_item_by_item_in_bounded_memory() {
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    // 150,000 VPC items (about 90 MB unpacked) and one security-group item, in one gzipped
    // ConfigHistory file.
    let vpc = |i: usize| {
        format!(
            r#"{{"configurationItemVersion":"1.3","configurationItemCaptureTime":"2024-10-14T12:00:00.000Z","configurationStateId":{i},"awsAccountId":"111122223333","configurationItemStatus":"OK","resourceType":"AWS::EC2::VPC","resourceId":"vpc-{i:08x}","ARN":"arn:aws:ec2:us-east-1:111122223333:vpc/vpc-{i:08x}","awsRegion":"us-east-1","availabilityZone":"Multiple Availability Zones","configurationStateMd5Hash":"","relatedEvents":[],"relationships":[],"configuration":{{"vpcId":"vpc-{i:08x}","cidrBlock":"10.0.0.0/16","state":"available","isDefault":false,"instanceTenancy":"default","dhcpOptionsId":"dopt-0123456789abcdef0"}},"supplementaryConfiguration":{{}},"tags":{{}}}}"#
        )
    };
    let sg = r#"{"configurationItemVersion":"1.3","configurationItemCaptureTime":"2024-10-14T13:00:00.000Z","configurationStateId":1,"awsAccountId":"111122223333","configurationItemStatus":"OK","resourceType":"AWS::EC2::SecurityGroup","resourceId":"sg-web","awsRegion":"us-east-1","configuration":{"groupId":"sg-web","groupName":"web","vpcId":"vpc-a","ipPermissions":[],"ipPermissionsEgress":[]}}"#;
    let data = gzip_of(&mut |w| {
        w.write_all(br#"{"fileVersion":"1.0","configurationItems":["#)
            .unwrap();
        for i in 0..150_000 {
            w.write_all(vpc(i).as_bytes()).unwrap();
            w.write_all(b",").unwrap();
        }
        w.write_all(sg.as_bytes()).unwrap();
        w.write_all(b"]}").unwrap();
    });
    let f = dir.path().join("config.json.gz");
    std::fs::write(&f, data).unwrap();
    let r = run_limited(
        &[
            os("changes"),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--snapshot-time"),
            os("2024-10-14T15:00:00Z"),
            os("--history"),
            f.as_os_str(),
        ],
        Duration::from_secs(240),
        Some(400),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr.contains("history: 1 file(s), 150001 record(s): 1 change(s) kept, 0 duplicate(s), 0 failed call(s) (0 dry run(s)) that changed nothing, 0 other call(s), 0 unreadable, 150000 passed by"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("config item sg-web@1"), "{}", r.stdout);
}

// Issue 15: ids and statuses from AWS Config items are untrusted text.
#[test]
fn escape_sequences_in_config_items_do_not_reach_the_terminal() {
    let snap = snapshot();
    let dir = tempfile::tempdir().unwrap();
    let id = "sg-x\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nerror: forged\u{202e}";
    let item = serde_json::json!({
        "configurationItemCaptureTime": "2024-10-14T13:00:00.000Z",
        "configurationStateId": "7\u{1b}[31m",
        "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
        "configuration": {"groupId": id, "ipPermissions": []}
    });
    let bad = serde_json::json!({
        "configurationItemCaptureTime": "2024-10-14T13:00:00.000Z",
        "configurationItemStatus": "Odd\u{1b}[2J",
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": id,
    });
    let f = dir.path().join("config.json");
    std::fs::write(
        &f,
        serde_json::to_vec(&serde_json::json!({"configurationItems": [item, bad]})).unwrap(),
    )
    .unwrap();
    for output in ["human", "markdown"] {
        let r = run(&[
            os("changes"),
            os("--output"),
            os(output),
            os("--snapshot"),
            snap.path().as_os_str(),
            os("--snapshot-time"),
            os("2024-10-14T15:00:00Z"),
            os("--history"),
            f.as_os_str(),
        ]);
        assert_eq!(r.code, Some(0), "{r:?}");
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("sg-x"), "{all}");
        assert!(
            !all.contains('\u{1b}') && !all.contains('\u{7}') && !all.contains('\u{202e}'),
            "{all:?}"
        );
        assert!(!all.contains("\nerror: forged"), "{all:?}");
        assert!(r.stderr.contains("configuration item 1"), "{}", r.stderr);
    }
}
