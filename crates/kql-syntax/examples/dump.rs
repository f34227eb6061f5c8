//! Prints the tokens or the AST of a KQL query read from stdin, with its diagnostics.
//!
//! ```sh
//! echo 'T | where x > 1' | cargo run -p kql-syntax --example dump
//! echo 'T | where x > 1' | cargo run -p kql-syntax --example dump -- --tokens
//! echo 'T | where x > 1' | cargo run -p kql-syntax --example dump -- --debug
//! ```

use std::io::Read;

fn main() {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("cannot read stdin: {e}");
        std::process::exit(2);
    }
    if std::env::args().any(|a| a == "--tokens") {
        let (tokens, diagnostics) = kql_syntax::lex(&text);
        for token in tokens {
            println!("{:?} {}..{}", token.kind, token.span.start, token.span.end);
        }
        for d in diagnostics {
            print!("{}", d.render(&text));
        }
        return;
    }
    let parsed = kql_syntax::parse(&text);
    if std::env::args().any(|a| a == "--debug") {
        println!("{:#?}", parsed.script);
    } else {
        println!("{}", kql_syntax::sexpr::script(&parsed.script));
    }
    for d in &parsed.diagnostics {
        print!("{}", d.render(&text));
    }
}
