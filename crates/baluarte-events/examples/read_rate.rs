//! Reads events and reports how fast: `cargo run --release -p baluarte-events --example read_rate -- PATH…`
//! (files or directories; `--repeat N` reads them N times; `--errors` prints each error).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use baluarte_events::{expand_inputs, open, ReadOptions};

fn main() {
    let mut repeat = 1usize;
    let mut show_errors = false;
    let mut dump = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--errors" => show_errors = true,
            "--dump" => dump = true,
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let files = expand_inputs(&paths);
    let options = ReadOptions::default();
    let (mut records, mut errors, mut bytes, mut json_bytes) = (0u64, 0u64, 0u64, 0u64);
    let start = Instant::now();
    for _ in 0..repeat {
        for file in &files {
            bytes += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            let iter = match open(file, &options) {
                Ok(iter) => iter,
                Err(err) => {
                    errors += 1;
                    if show_errors {
                        println!("error: {err}");
                    }
                    continue;
                }
            };
            for item in iter {
                match item {
                    Ok(record) => {
                        records += 1;
                        if dump {
                            println!("{}", record.json);
                        }
                        json_bytes += record.json.len() as u64;
                    }
                    Err(err) => {
                        errors += 1;
                        if show_errors {
                            println!("error: {err}");
                        }
                    }
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} files x{repeat}: {records} records, {errors} errors, {:.1} MB read, {:.1} MB JSON in {secs:.3} s: {:.0} records/s, {:.1} MB/s in",
        files.len(),
        bytes as f64 / 1e6,
        json_bytes as f64 / 1e6,
        records as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
