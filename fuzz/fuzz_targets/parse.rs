//! Fuzzes the KQL lexer and parser: no input may panic, overflow the stack or hang.
//!
//! ```sh
//! cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run parse -- -max_total_time=600
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = kql_syntax::parse(text);
    for diagnostic in &parsed.diagnostics {
        assert!(diagnostic.span.start <= diagnostic.span.end);
        assert!(diagnostic.span.end <= text.len());
        let _ = diagnostic.render(text);
    }
    let _ = kql_syntax::sexpr::script(&parsed.script);
});
