//! The policy parser: any text as a policy file. No panic; every mistake has a place in the
//! file (a line and column within it, or line 0 for the whole file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match vpcreach::policy::PolicyFile::parse(Path::new("p.toml"), text) {
        Ok(file) => {
            let _ = file.statements.len();
        }
        Err(errors) => {
            let lines = text.lines().count().max(1);
            for e in &errors.errors {
                assert!(e.location.line <= lines + 1, "{e} ({lines} lines)");
                let _ = e.to_string();
            }
        }
    }
});
