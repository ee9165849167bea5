//! Walking a folder of inputs: flow logs, snapshots and policies are all found this way, so that
//! what is read, and what is passed by and why, does not depend on the command.
//!
//! - Only regular files are read. A FIFO, socket or device is passed by with a warning: opening
//!   one can block forever, and nothing in it is a saved file.
//! - Symbolic links are followed (folders of regions and days are often laid out with them), and
//!   every folder and file is read once: a link back to a folder being walked (a loop), or a
//!   second way to a folder or file already read, is passed by with a warning naming both.
//! - A link to nothing is passed by with a warning; a folder that cannot be listed is an error.
//! - Files come in path order (component by component), whatever order the system lists them in.
//! - Regular files of another kind than the caller reads are listed in [`Walk::passed`]. A flow-log
//!   folder names each with a warning (a README or a policy among logs is a surprise there);
//!   snapshot and policy folders hold READMEs and schemas by design and pass them by quietly.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// What a walk found: the files to read, and what it passed by.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files that `wanted` accepted, in path order, each named by its path under the
    /// root (links are not resolved in the name).
    pub files: Vec<PathBuf>,
    /// Entries passed by, each with why, in path order. Never silent: callers print them.
    pub skipped: Vec<Skipped>,
    /// Folders (or entries) that could not be read: callers report them as errors.
    pub errors: Vec<(PathBuf, io::Error)>,
    /// Regular files that `wanted` did not accept (a README beside flow logs), in path order.
    /// A caller for whom such a file is a surprise names each ([`Skipped::NotWanted`]).
    pub passed: Vec<PathBuf>,
}

/// An entry of a folder that a walk passed by.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skipped {
    /// A FIFO, socket, device or other file that is not a regular file.
    #[error("skipped `{}`: not a regular file ({kind})", path.display())]
    NotRegular {
        /// The entry.
        path: PathBuf,
        /// What it is: `FIFO`, `socket`, `character device`, …
        kind: &'static str,
    },
    /// A link to a folder that is being walked: following it would never end.
    #[error("skipped `{}`: a symbolic link loop back to `{}`", path.display(), target.display())]
    Loop {
        /// The link.
        path: PathBuf,
        /// The folder it leads back to.
        target: PathBuf,
    },
    /// A second way (a link) to a folder or file already read.
    #[error("skipped `{}`: the same as `{}`, already read", path.display(), first.display())]
    Again {
        /// The second way.
        path: PathBuf,
        /// The first way it was read by.
        first: PathBuf,
    },
    /// A link that leads nowhere.
    #[error("skipped `{}`: a broken symbolic link", path.display())]
    Broken {
        /// The link.
        path: PathBuf,
    },
    /// A regular file whose name is not of the kind the folder is read for.
    #[error("skipped `{}`: not {expected}", path.display())]
    NotWanted {
        /// The file.
        path: PathBuf,
        /// What is read, in words (`a flow-log file (.log, .gz, .txt, .json)`).
        expected: &'static str,
    },
}

impl Skipped {
    /// The entry passed by.
    pub fn path(&self) -> &Path {
        match self {
            Skipped::NotRegular { path, .. }
            | Skipped::Loop { path, .. }
            | Skipped::Again { path, .. }
            | Skipped::Broken { path }
            | Skipped::NotWanted { path, .. } => path,
        }
    }
}

/// Walks the folder `root`: every regular file below it whose path `wanted` accepts (see the
/// module documentation for links and other files). Only an unreadable `root` is an `Err`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::create_dir(dir.path().join("b")).unwrap();
/// std::fs::write(dir.path().join("b/x.json"), "{}").unwrap();
/// std::fs::write(dir.path().join("a.json"), "{}").unwrap();
/// std::fs::write(dir.path().join("notes.md"), "").unwrap();
/// let walk = vpcreach::walk::walk(dir.path(), |p| p.extension().is_some_and(|e| e == "json")).unwrap();
/// assert_eq!(walk.files, [dir.path().join("a.json"), dir.path().join("b/x.json")]);
/// assert!(walk.skipped.is_empty());
/// ```
pub fn walk(root: &Path, wanted: impl Fn(&Path) -> bool) -> io::Result<Walk> {
    let canonical = std::fs::canonicalize(root)?;
    let mut walker = Walker {
        wanted: &wanted,
        out: Walk::default(),
        folders: HashMap::new(),
        files: HashMap::new(),
        open: Vec::new(),
    };
    // The root itself must be listable: that is the caller's error to report.
    let entries = list(root)?;
    walker.folders.insert(canonical.clone(), root.to_path_buf());
    walker.open.push((canonical, root.to_path_buf()));
    walker.entries(entries);
    Ok(walker.out)
}

struct Walker<'a, F> {
    wanted: &'a F,
    out: Walk,
    /// Canonical paths of the folders walked so far, with the path they were walked by.
    folders: HashMap<PathBuf, PathBuf>,
    /// Canonical paths of the files taken so far, with the path they were taken by.
    files: HashMap<PathBuf, PathBuf>,
    /// The folders being walked, root first: canonical path and path as named.
    open: Vec<(PathBuf, PathBuf)>,
}

/// The entries of a folder, sorted by name.
fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        paths.push(entry?.path());
    }
    paths.sort();
    Ok(paths)
}

impl<F: Fn(&Path) -> bool> Walker<'_, F> {
    fn entries(&mut self, entries: Vec<PathBuf>) {
        for path in entries {
            self.entry(path);
        }
    }

    fn entry(&mut self, path: PathBuf) {
        let link = match std::fs::symlink_metadata(&path) {
            Ok(m) => m.file_type().is_symlink(),
            Err(e) => return self.out.errors.push((path, e)),
        };
        // What the entry is, links followed.
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if link && e.kind() == io::ErrorKind::NotFound => {
                return self.out.skipped.push(Skipped::Broken { path });
            }
            Err(e) if link && e.raw_os_error() == Some(libc::ELOOP) => {
                return self.out.skipped.push(Skipped::Broken { path });
            }
            Err(e) => return self.out.errors.push((path, e)),
        };
        if meta.is_dir() {
            self.folder(path, link);
        } else if meta.is_file() {
            if !(self.wanted)(&path) {
                return self.out.passed.push(path);
            }
            let canonical = match self.open.last() {
                Some((dir, _)) if !link => path.file_name().map(|n| dir.join(n)),
                _ => std::fs::canonicalize(&path).ok(),
            };
            let canonical = canonical.unwrap_or_else(|| path.clone());
            if let Some(first) = self.files.get(&canonical) {
                let first = first.clone();
                return self.out.skipped.push(Skipped::Again { path, first });
            }
            self.files.insert(canonical, path.clone());
            self.out.files.push(path);
        } else {
            let kind = kind_of(&meta.file_type());
            self.out.skipped.push(Skipped::NotRegular { path, kind });
        }
    }

    fn folder(&mut self, path: PathBuf, link: bool) {
        let canonical = match self.open.last() {
            Some((dir, _)) if !link => match path.file_name() {
                Some(n) => dir.join(n),
                None => return,
            },
            _ => match std::fs::canonicalize(&path) {
                Ok(c) => c,
                Err(e) => return self.out.errors.push((path, e)),
            },
        };
        if let Some((_, named)) = self.open.iter().find(|(c, _)| *c == canonical) {
            let target = named.clone();
            return self.out.skipped.push(Skipped::Loop { path, target });
        }
        if let Some(first) = self.folders.get(&canonical) {
            let first = first.clone();
            return self.out.skipped.push(Skipped::Again { path, first });
        }
        self.folders.insert(canonical.clone(), path.clone());
        let entries = match list(&path) {
            Ok(e) => e,
            Err(e) => return self.out.errors.push((path, e)),
        };
        self.open.push((canonical, path));
        self.entries(entries);
        self.open.pop();
    }
}

/// A name for a file type that is neither a folder nor a regular file.
fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
    }
    let _ = file_type;
    "special file"
}

/// Reads a small regular file whole, at most `max` bytes: `Ok(None)` when `path` is missing or
/// not a regular file (a FIFO would block), an error when it is longer than `max`.
pub fn read_small(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("longer than {max} bytes"),
        ));
    }
    Ok(Some(bytes))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn json(p: &Path) -> bool {
        p.extension().is_some_and(|e| e == "json")
    }

    #[test]
    fn links_are_followed_once_and_loops_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("s")).unwrap();
        std::fs::create_dir_all(dir.path().join("days/d1")).unwrap();
        std::fs::write(root.join("s/a.json"), "{}").unwrap();
        std::fs::write(dir.path().join("days/d1/b.json"), "{}").unwrap();
        symlink("..", root.join("s/up")).unwrap();
        symlink(dir.path().join("days"), root.join("days")).unwrap();
        symlink(dir.path().join("days"), root.join("days2")).unwrap();
        symlink("nowhere", root.join("gone.json")).unwrap();
        symlink("s/a.json", root.join("a-again.json")).unwrap();
        let w = walk(&root, json).unwrap();
        // In path order: the link to `s/a.json` comes first and is read; the file is not
        // read a second time.
        assert_eq!(
            w.files,
            [root.join("a-again.json"), root.join("days/d1/b.json")]
        );
        assert_eq!(
            w.skipped,
            [
                Skipped::Again {
                    path: root.join("days2"),
                    first: root.join("days")
                },
                Skipped::Broken {
                    path: root.join("gone.json")
                },
                Skipped::Again {
                    path: root.join("s/a.json"),
                    first: root.join("a-again.json")
                },
                Skipped::Loop {
                    path: root.join("s/up"),
                    target: root.clone()
                },
            ]
        );
        assert!(w.errors.is_empty());
    }

    #[test]
    fn fifos_are_named_and_passed_by() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo touches no memory of ours.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let w = walk(dir.path(), json).unwrap();
        assert!(w.files.is_empty());
        assert_eq!(
            w.skipped,
            [Skipped::NotRegular {
                path: fifo,
                kind: "FIFO"
            }]
        );
        assert_eq!(read_small(&dir.path().join("x.json"), 10).unwrap(), None);
    }
}
