//! Quick throughput check: `cargo run --release -p baluarte-sigma --example bench -- RULES_DIR EVENTS.jsonl [REPEAT]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use baluarte_sigma::{Engine, EngineBuilder, Match};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rules = args.get(1).map(String::as_str).unwrap_or("../shared/data/sigma/rules");
    let events = args
        .get(2)
        .map(String::as_str)
        .unwrap_or("../shared/data/evtx/EVTX-ATTACK-SAMPLES.jsonl");
    let repeat: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(12);
    let t0 = Instant::now();
    let mut b = EngineBuilder::new();
    b.add_path(std::path::Path::new(rules));
    let (engine, report) = b.build();
    let load = t0.elapsed();
    println!(
        "rules: {} loaded, {} failed, load {:.3}s",
        report.loaded,
        report.failures.len(),
        load.as_secs_f64()
    );
    println!("{:?}", engine.stats());
    let text = std::fs::read_to_string(events).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let total = lines.len() * repeat;
    let mut out: Vec<Match> = Vec::new();
    let mut matches = 0usize;
    let mut errors = 0usize;
    let t1 = Instant::now();
    for _ in 0..repeat {
        for l in &lines {
            out.clear();
            if engine.evaluate_json(l, &mut out).is_err() {
                errors += 1;
            }
            matches += out.len();
        }
    }
    let el = t1.elapsed().as_secs_f64();
    println!(
        "1 thread: {total} events, {matches} matches, {errors} errors, {:.3}s, {:.0} events/s",
        el,
        total as f64 / el
    );
    let c = Engine::take_thread_counters();
    let per = |n: u64| n as f64 / c.events.max(1) as f64;
    println!(
        "per event: {:.0} bytes scanned, {:.1} rules marked by the prefilter, {:.1} rules evaluated",
        per(c.bytes_scanned),
        per(c.rules_marked),
        per(c.rules_evaluated)
    );
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let t2 = Instant::now();
    let per: Vec<usize> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|k| {
                let engine = &engine;
                let lines = &lines;
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut n = 0;
                    for r in 0..repeat {
                        for (i, l) in lines.iter().enumerate() {
                            if (r * lines.len() + i) % threads != k {
                                continue;
                            }
                            out.clear();
                            let _ = engine.evaluate_json(l, &mut out);
                            n += out.len();
                        }
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let el2 = t2.elapsed().as_secs_f64();
    println!(
        "{threads} threads: {} matches, {:.3}s, {:.0} events/s",
        per.iter().sum::<usize>(),
        el2,
        total as f64 / el2
    );
}
