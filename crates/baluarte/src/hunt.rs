//! `baluarte hunt`: run Sigma rules over event files (EVTX, JSON lines, syslog) and print one detection
//! per (rule, event) as a JSON line, then a per-rule summary.
//!
//! With one thread everything (reading, parsing, matching) runs on the calling thread, so the figures
//! are single-core figures. With more, a reader thread cuts the input into batches, workers match them,
//! and this thread puts the results back in input order before writing them and feeding correlations.

use anyhow::{Context, Result};
use baluarte_events::{Position, ReadOptions, Record, SourceError};
use baluarte_sigma::{
    CorrelationDetection, CorrelationMatch, Correlator, Detection, Engine, EngineBuilder, Match, Summary,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Extensions read when a directory is given (a file named explicitly is always read).
const EVENT_EXTENSIONS: &[&str] = &["evtx", "json", "jsonl", "ndjson", "log", "syslog", "txt"];
const BATCH: usize = 512;

#[derive(Debug, Clone)]
pub struct HuntOptions {
    pub rules: Vec<PathBuf>,
    pub inputs: Vec<PathBuf>,
    pub read: ReadOptions,
    /// Where detections go (standard output when None).
    pub output: Option<PathBuf>,
    /// Count only: write no detections.
    pub quiet: bool,
    pub threads: usize,
    pub progress: bool,
    /// Read the inputs this many times (benchmarks).
    pub repeat: u32,
    /// Write the per-rule summary as JSON here.
    pub summary_json: Option<PathBuf>,
}

/// What a hunt did, for the closing lines and for benchmarks.
#[derive(Debug, Clone, Serialize)]
pub struct HuntReport {
    pub rules_loaded: usize,
    pub rules_failed: usize,
    pub correlations: usize,
    pub load_seconds: f64,
    pub files: usize,
    pub events: u64,
    pub input_errors: u64,
    pub detections: u64,
    pub correlation_detections: u64,
    pub seconds: f64,
    pub events_per_second: f64,
    pub threads: usize,
}

#[derive(Serialize)]
struct Source<'a> {
    path: &'a Path,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<u64>,
}

impl<'a> Source<'a> {
    fn of(r: &'a Record) -> Self {
        match r.position {
            Position::Text { offset, line } => Source {
                path: &r.path,
                line: Some(line),
                offset: Some(offset),
                record: None,
            },
            Position::Evtx { record, .. } => Source {
                path: &r.path,
                line: None,
                offset: None,
                record: Some(record),
            },
        }
    }
}

#[derive(Serialize)]
struct Out<'a> {
    #[serde(flatten)]
    detection: Detection<'a>,
    source: Source<'a>,
}

/// Files to read: each input file as given, and the event files found under each directory.
pub fn input_files(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(
                baluarte_events::expand_inputs(std::slice::from_ref(input))
                    .into_iter()
                    .filter(|p| {
                        p.extension()
                            .and_then(|e| e.to_str())
                            .is_none_or(|e| EVENT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                    }),
            );
        } else {
            files.push(input.clone());
        }
    }
    files
}

pub fn load_engine(rules: &[PathBuf]) -> (Engine, baluarte_sigma::LoadReport, Duration) {
    let started = Instant::now();
    let mut builder = EngineBuilder::new();
    for r in rules {
        builder.add_path(r);
    }
    let (engine, report) = builder.build();
    (engine, report, started.elapsed())
}

enum Item {
    Event(Record),
    Failed(SourceError),
}

/// Everything that runs on the ordered side: output, correlations, summary, progress.
struct Sink<'e> {
    engine: &'e Engine,
    correlator: Option<Correlator<'e>>,
    summary: Summary,
    out: Option<Box<dyn Write>>,
    progress: ProgressBar,
    events: u64,
    errors: u64,
    detections: u64,
    correlation_detections: u64,
    consumed_before: u64,
    file_consumed: u64,
    corr: Vec<CorrelationMatch>,
}

impl<'e> Sink<'e> {
    fn event(&mut self, record: &Record, matches: &[Match]) -> Result<()> {
        self.events += 1;
        self.summary.events += 1;
        self.file_consumed = record.consumed;
        if self.events.is_multiple_of(1024) {
            self.progress.set_position(self.consumed_before + self.file_consumed);
        }
        if matches.is_empty() {
            // Correlations keep time even on quiet events only when they have state; a later matching
            // event moves their clock forward, so quiet events need not be parsed here.
            return Ok(());
        }
        for m in matches {
            self.summary.add(m);
        }
        if let Some(out) = self.out.as_mut() {
            for m in matches.iter().filter(|m| m.standalone) {
                if let Some(detection) = Detection::new(self.engine, m, &record.json) {
                    serde_json::to_writer(
                        &mut *out,
                        &Out {
                            detection,
                            source: Source::of(record),
                        },
                    )?;
                    out.write_all(b"\n")?;
                }
            }
        }
        self.detections += matches.iter().filter(|m| m.standalone).count() as u64;
        if let Some(correlator) = self.correlator.as_mut() {
            if let Ok(ev) = self.engine.parse_event(&record.json) {
                self.corr.clear();
                correlator.process(&ev, matches, &mut self.corr);
                for c in &self.corr {
                    self.summary.add_correlation(c);
                    if !c.standalone {
                        continue;
                    }
                    self.correlation_detections += 1;
                    if let (Some(out), Some(d)) = (self.out.as_mut(), CorrelationDetection::new(self.engine, c)) {
                        serde_json::to_writer(&mut *out, &d)?;
                        out.write_all(b"\n")?;
                    }
                }
            }
        }
        Ok(())
    }

    fn failed(&mut self, e: &SourceError) {
        self.errors += 1;
        self.progress.suspend(|| eprintln!("hunt: skipped: {e}"));
    }

    fn end_file(&mut self, size: u64) {
        self.consumed_before += size;
        self.file_consumed = 0;
        self.progress.set_position(self.consumed_before);
    }
}

pub fn run(opts: &HuntOptions) -> Result<HuntReport> {
    let (engine, report, load) = load_engine(&opts.rules);
    eprintln!(
        "hunt: {} rules loaded ({} filters, {} correlations) in {:.2} s; {} could not load",
        report.loaded,
        report.filters,
        report.correlations,
        load.as_secs_f64(),
        report.failures.len()
    );
    for f in &report.failures {
        eprintln!("hunt: rule not loaded: {f}");
    }
    let files = input_files(&opts.inputs);
    anyhow::ensure!(!files.is_empty(), "no event files found in {:?}", opts.inputs);
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .collect();
    let total = sizes.iter().sum::<u64>() * u64::from(opts.repeat.max(1));
    let progress = if opts.progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let out: Option<Box<dyn Write>> = match (&opts.output, opts.quiet) {
        (_, true) => None,
        (Some(path), false) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))),
        (None, false) => Some(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    };
    let mut sink = Sink {
        engine: &engine,
        correlator: (engine.correlation_count() > 0).then(|| Correlator::new(&engine)),
        summary: Summary::new(&engine),
        out,
        progress,
        events: 0,
        errors: 0,
        detections: 0,
        correlation_detections: 0,
        consumed_before: 0,
        file_consumed: 0,
        corr: Vec::new(),
    };
    let started = Instant::now();
    if opts.threads <= 1 {
        hunt_inline(&engine, &files, &sizes, opts, &mut sink)?;
    } else {
        hunt_parallel(&engine, &files, &sizes, opts, &mut sink)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    sink.progress.finish_and_clear();
    if let Some(out) = sink.out.as_mut() {
        out.flush()?;
    }
    let rows = sink.summary.rows(&engine);
    if let Some(path) = &opts.summary_json {
        std::fs::write(path, serde_json::to_vec_pretty(&rows)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let report = HuntReport {
        rules_loaded: report.loaded,
        rules_failed: report.failures.len(),
        correlations: report.correlations,
        load_seconds: load.as_secs_f64(),
        files: files.len(),
        events: sink.events,
        input_errors: sink.errors,
        detections: sink.detections,
        correlation_detections: sink.correlation_detections,
        seconds,
        events_per_second: sink.events as f64 / seconds.max(1e-9),
        threads: opts.threads.max(1),
    };
    print_summary(&report, &rows);
    Ok(report)
}

fn hunt_inline(engine: &Engine, files: &[PathBuf], sizes: &[u64], opts: &HuntOptions, sink: &mut Sink) -> Result<()> {
    let mut matches = Vec::new();
    for _ in 0..opts.repeat.max(1) {
        for (file, size) in files.iter().zip(sizes) {
            let records = match baluarte_events::open(file, &opts.read) {
                Ok(r) => r,
                Err(e) => {
                    sink.failed(&e);
                    sink.end_file(*size);
                    continue;
                }
            };
            for item in records {
                match item {
                    Ok(record) => {
                        matches.clear();
                        match engine.evaluate_json(&record.json, &mut matches) {
                            Ok(()) => sink.event(&record, &matches)?,
                            Err(e) => {
                                sink.errors += 1;
                                sink.progress.suspend(|| {
                                    eprintln!("hunt: skipped: {}: {}: {e}", record.path.display(), record.position)
                                });
                            }
                        }
                    }
                    Err(e) => sink.failed(&e),
                }
            }
            sink.end_file(*size);
        }
    }
    Ok(())
}

type Batch = (u64, Vec<Item>);
/// One batch's results: per item, its matches or why it could not be evaluated.
type Results = Vec<Result<Vec<Match>, String>>;
type Done = (u64, Vec<Item>, Results);

fn hunt_parallel(engine: &Engine, files: &[PathBuf], sizes: &[u64], opts: &HuntOptions, sink: &mut Sink) -> Result<()> {
    let threads = opts.threads;
    std::thread::scope(|scope| -> Result<()> {
        let (work_tx, work_rx) = mpsc::sync_channel::<Batch>(threads * 2);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::sync_channel::<Done>(threads * 2);
        // Reader: cuts the input into numbered batches; a file's end is marked by an empty batch
        // carrying its index, so that progress advances in order.
        scope.spawn(move || {
            let mut seq = 0u64;
            let mut batch = Vec::with_capacity(BATCH);
            for _ in 0..opts.repeat.max(1) {
                for file in files {
                    match baluarte_events::open(file, &opts.read) {
                        Ok(records) => {
                            for item in records {
                                batch.push(match item {
                                    Ok(r) => Item::Event(r),
                                    Err(e) => Item::Failed(e),
                                });
                                if batch.len() == BATCH {
                                    let _ =
                                        work_tx.send((seq, std::mem::replace(&mut batch, Vec::with_capacity(BATCH))));
                                    seq += 1;
                                }
                            }
                        }
                        Err(e) => batch.push(Item::Failed(e)),
                    }
                }
            }
            let _ = work_tx.send((seq, batch));
        });
        for _ in 0..threads {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || loop {
                let next = rx.lock().map(|r| r.recv());
                let Ok(Ok((seq, items))) = next else { break };
                let results = items
                    .iter()
                    .map(|item| match item {
                        Item::Event(r) => {
                            let mut m = Vec::new();
                            engine
                                .evaluate_json(&r.json, &mut m)
                                .map(|()| m)
                                .map_err(|e| e.to_string())
                        }
                        Item::Failed(_) => Ok(Vec::new()),
                    })
                    .collect();
                if tx.send((seq, items, results)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // Put batches back in order. Progress is counted per file from the records' consumed bytes.
        let mut pending: BTreeMap<u64, (Vec<Item>, Results)> = BTreeMap::new();
        let mut next = 0u64;
        let mut file_index = 0usize;
        let mut current: Option<std::sync::Arc<Path>> = None;
        for (seq, items, results) in done_rx {
            pending.insert(seq, (items, results));
            while let Some((items, results)) = pending.remove(&next) {
                for (item, result) in items.iter().zip(results) {
                    match item {
                        Item::Event(r) => {
                            if current.as_deref() != Some(&*r.path) {
                                if current.is_some() {
                                    sink.end_file(sizes.get(file_index % sizes.len().max(1)).copied().unwrap_or(0));
                                    file_index += 1;
                                }
                                current = Some(r.path.clone());
                            }
                            match result {
                                Ok(m) => sink.event(r, &m)?,
                                Err(e) => {
                                    sink.errors += 1;
                                    sink.progress.suspend(|| {
                                        eprintln!("hunt: skipped: {}: {}: {e}", r.path.display(), r.position)
                                    });
                                }
                            }
                        }
                        Item::Failed(e) => sink.failed(e),
                    }
                }
                next += 1;
            }
        }
        Ok(())
    })
}

fn print_summary(r: &HuntReport, rows: &[baluarte_sigma::RuleSummary]) {
    eprintln!(
        "hunt: {} events from {} files in {:.2} s ({:.0} events/s, {} thread{}); {} detections by {} rules; {} correlation alerts; {} inputs skipped",
        r.events,
        r.files,
        r.seconds,
        r.events_per_second,
        r.threads,
        if r.threads == 1 { "" } else { "s" },
        r.detections,
        rows.iter().filter(|x| !x.correlation).count(),
        r.correlation_detections,
        r.input_errors
    );
    if rows.is_empty() {
        return;
    }
    eprintln!("hunt: rules by matches:");
    for row in rows.iter().take(25) {
        eprintln!(
            "  {:>7}  {:<8}  {}{}",
            row.matches,
            row.level.as_deref().unwrap_or("-"),
            row.title,
            if row.correlation { " (correlation)" } else { "" }
        );
    }
    if rows.len() > 25 {
        eprintln!("  … and {} more rules (--summary-json FILE lists all)", rows.len() - 25);
    }
}
