//! Running the binary as hostile-input tests need: killed after a wall-clock limit, optionally
//! under a memory limit (RLIMIT_DATA), its output read on threads.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Runs the binary with `args` (and `stdin`), killed after `limit`; with `memory_mb`, under
/// that limit of its writable private memory (RLIMIT_DATA: the heap, the allocator's committed
/// memory and the threads' stacks). Not the address space (RLIMIT_AS): that counts the
/// binary's code too (a debug build maps over 100 MB of it, and more with every feature) and
/// the allocator's reserved but unused ranges, so a fixed limit of it failed or passed with
/// the build and with how far the reader ran ahead of the workers. Panics (failing the test)
/// when the limit is reached.
pub fn run_limited(args: &[&std::ffi::OsStr], limit: Duration, memory_mb: Option<u64>) -> Run {
    run_env(args, &[], limit, memory_mb)
}

/// [`run_limited`] with environment changes (`None` removes a variable).
pub fn run_env(
    args: &[&std::ffi::OsStr],
    env: &[(String, Option<String>)],
    limit: Duration,
    memory_mb: Option<u64>,
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(mb) = memory_mb {
        let bytes = mb * 1024 * 1024;
        // SAFETY: setrlimit is async-signal-safe and touches only the given struct.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_DATA, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    // Read the pipes on threads, so a child writing much cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).unwrap();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).unwrap();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`vpcreach {args:?}` still running after {limit:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = start.elapsed();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out_thread.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned(),
        took,
    }
}

pub fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Runs with the default limits: 60 s, no memory limit.
pub fn run(args: &[&std::ffi::OsStr]) -> Run {
    run_limited(args, Duration::from_secs(60), None)
}

/// Writes `text` to `path`, creating its folder.
pub fn write(path: &Path, text: &str) -> PathBuf {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}
