//! Tests over the shared corpus: EVTX-ATTACK-SAMPLES and the SigmaHQ regression suite.
//!
//! The corpus is at `$BALUARTE_CORPUS`, else `../shared/data` beside the workspace. When it is absent
//! `baluarte_test_support::require` decides: a failure under CI, a skip (said on stderr) elsewhere.

use std::path::{Path, PathBuf};

use baluarte_events::{expand_inputs, from_bytes, open, Position, ReadOptions, SourceError};

fn corpus() -> Option<PathBuf> {
    baluarte_test_support::require::corpus("evtx")
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    expand_inputs(&[dir.to_path_buf()])
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension)))
        .collect()
}

#[test]
fn evtx_attack_samples_all_records_no_errors() -> Result<(), SourceError> {
    let Some(corpus) = corpus() else { return Ok(()) };
    let files = files_with_extension(&corpus.join("evtx/EVTX-ATTACK-SAMPLES"), "evtx");
    assert_eq!(files.len(), 277);
    let options = ReadOptions::default();
    let mut records = 0;
    for file in &files {
        for item in open(file, &options)? {
            let record = item?;
            assert!(record.json.starts_with("{\"Event\":{"), "{}", record.json);
            assert!(!record.json.contains('\n'));
            assert!(matches!(record.position, Position::Evtx { .. }));
            records += 1;
        }
    }
    assert_eq!(records, 8255);
    Ok(())
}

#[test]
fn evtx_attack_samples_jsonl_reads_whole() -> Result<(), SourceError> {
    let Some(corpus) = corpus() else { return Ok(()) };
    let records = open(&corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl"), &ReadOptions::default())?
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(records.len(), 8253);
    Ok(())
}

type Failure = Box<dyn std::error::Error>;

/// Each regression-suite `.evtx` renders as the events of its sibling `.json` (one pretty-printed
/// object, or an array of them), and the `.json` reads as the same events.
#[test]
fn regression_suite_evtx_equals_json() -> Result<(), Failure> {
    let Some(corpus) = corpus() else { return Ok(()) };
    let evtx_files = files_with_extension(&corpus.join("sigma/regression_data"), "evtx");
    assert_eq!(evtx_files.len(), 202);
    let options = ReadOptions::default();
    let mut mismatches = Vec::new();
    let mut events = 0;
    for evtx in &evtx_files {
        let json_path = evtx.with_extension("json");
        // One pretty-printed object, several one after another, or an array of them.
        let text = std::fs::read(&json_path)?;
        let mut expected = Vec::new();
        for value in serde_json::Deserializer::from_slice(&text).into_iter::<serde_json::Value>() {
            match value? {
                serde_json::Value::Array(items) => expected.extend(items),
                other => expected.push(other),
            }
        }
        let mut from_evtx = Vec::new();
        for item in open(evtx, &options)? {
            from_evtx.push(serde_json::from_str::<serde_json::Value>(&item?.json)?);
        }
        let mut from_json = Vec::new();
        for item in open(&json_path, &options)? {
            from_json.push(serde_json::from_str::<serde_json::Value>(&item?.json)?);
        }
        if from_json != expected {
            mismatches.push(format!("{}: the .json does not read as itself", json_path.display()));
        }
        // One .json was rendered by another tool than the others: it writes SystemTime with
        // nanoseconds, and a ParentCommandLine that the .evtx holds as `C:\Windows\Explorer.EXE` as
        // `…Explorer.exe`. Those two values are set to what the .evtx holds; the rest must be equal.
        if evtx.ends_with("ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx") {
            for event in &mut expected {
                if let Some(serde_json::Value::String(time)) =
                    event.pointer_mut("/Event/System/TimeCreated/#attributes/SystemTime")
                {
                    assert_eq!(time, "2026-03-20T08:31:26.751156500Z");
                    *time = "2026-03-20T08:31:26.751156Z".to_string();
                }
                if let Some(serde_json::Value::String(parent)) = event.pointer_mut("/Event/EventData/ParentCommandLine")
                {
                    assert_eq!(parent, "C:\\Windows\\Explorer.exe");
                    *parent = "C:\\Windows\\Explorer.EXE".to_string();
                }
            }
        }
        events += from_evtx.len();
        if from_evtx != expected {
            let first = from_evtx.iter().zip(&expected).position(|(a, b)| a != b);
            let detail = match first {
                Some(i) => format!(
                    "event {i}: {}",
                    difference(&from_evtx[i], &expected[i], "").unwrap_or_default()
                ),
                None => format!("{} events vs {}", from_evtx.len(), expected.len()),
            };
            mismatches.push(format!(
                "{}: the .evtx does not render as the .json: {detail}",
                evtx.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(events >= 202);
    Ok(())
}

/// Rendered with the values untrimmed and the attributes beside their elements, the samples' records
/// equal those of `EVTX-ATTACK-SAMPLES.jsonl` (which holds 8,253 of the 8,255), matched by computer,
/// channel, record ID and time.
#[test]
fn evtx_attack_samples_equal_their_jsonl_rendering() -> Result<(), Failure> {
    use std::collections::HashMap;
    let Some(corpus) = corpus() else { return Ok(()) };
    fn key(event: &serde_json::Value) -> String {
        let system = &event["Event"]["System"];
        format!(
            "{}|{}|{}|{}",
            system["Computer"],
            system["Channel"],
            system["EventRecordID"],
            system["TimeCreated_attributes"]["SystemTime"]
        )
    }
    let mut reference = HashMap::new();
    for item in open(&corpus.join("evtx/EVTX-ATTACK-SAMPLES.jsonl"), &ReadOptions::default())? {
        let event: serde_json::Value = serde_json::from_str(&item?.json)?;
        reference.insert(key(&event), event);
    }
    let options = ReadOptions {
        evtx_trim_trailing_spaces: false,
        evtx_separate_attributes: true,
        ..ReadOptions::default()
    };
    let (mut matched, mut unmatched, mut different) = (0, 0, Vec::new());
    for file in files_with_extension(&corpus.join("evtx/EVTX-ATTACK-SAMPLES"), "evtx") {
        for item in open(&file, &options)? {
            let event: serde_json::Value = serde_json::from_str(&item?.json)?;
            match reference.get(&key(&event)) {
                Some(expected) if *expected == event => matched += 1,
                Some(expected) => different.push(difference(&event, expected, "").unwrap_or_default()),
                None => unmatched += 1,
            }
        }
    }
    assert!(
        different.is_empty(),
        "{} differ, e.g. {:?}",
        different.len(),
        &different[..different.len().min(5)]
    );
    assert_eq!((matched, unmatched), (8253, 2));
    Ok(())
}

/// A copy of a sample cut in half: the records before the cut, then an error that names the file, where
/// it was cut and what was read before it.
#[test]
fn truncated_evtx_names_file_and_what_was_read() -> Result<(), Failure> {
    let Some(corpus) = corpus() else { return Ok(()) };
    let files = files_with_extension(&corpus.join("evtx/EVTX-ATTACK-SAMPLES"), "evtx");
    // The largest sample, so that the cut leaves whole chunks before it.
    let mut largest = None;
    for file in files {
        let len = std::fs::metadata(&file)?.len();
        if largest.as_ref().is_none_or(|(l, _)| len > *l) {
            largest = Some((len, file));
        }
    }
    let Some((len, source)) = largest else {
        return Err("no sample".into());
    };
    let data = std::fs::read(&source)?;
    let dir = tempfile::tempdir()?;
    let cut = dir.path().join("cut.evtx");
    std::fs::write(&cut, &data[..data.len() / 2])?;
    assert!(len / 2 > 4096 + 65536, "the sample is too small to keep a chunk");

    let full = open(&source, &ReadOptions::default())?.filter(Result::is_ok).count();
    let mut records = 0u64;
    let mut errors = Vec::new();
    for item in open(&cut, &ReadOptions::default())? {
        match item {
            Ok(_) => records += 1,
            Err(err) => errors.push(err),
        }
    }
    assert!(records > 0 && (records as usize) < full, "{records} of {full}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(message.starts_with(&cut.display().to_string()), "{message}");
    assert!(
        message.contains(&format!("{records} records read before it")),
        "{message}"
    );
    match &errors[0] {
        SourceError::TruncatedEvtx {
            records_before, offset, ..
        } => {
            assert_eq!(*records_before, records);
            assert!(*offset <= len / 2);
        }
        other => return Err(format!("unexpected error {other}").into()),
    }

    // Cut inside the file header: the file cannot be opened as EVTX at all.
    let error = from_bytes(Path::new("tiny.evtx"), data[..100].to_vec(), &ReadOptions::default()).err();
    assert!(matches!(error, Some(SourceError::BadEvtxHeader { .. })), "{error:?}");
    Ok(())
}

/// Where two JSON values first differ, as a JSON pointer and the two values there.
fn difference(ours: &serde_json::Value, theirs: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                match b.get(key) {
                    Some(other) => {
                        if let Some(found) = difference(value, other, &format!("{at}/{key}")) {
                            return Some(found);
                        }
                    }
                    None => return Some(format!("{at}/{key}: {value} vs (absent)")),
                }
            }
            b.keys()
                .find(|key| !a.contains_key(*key))
                .map(|key| format!("{at}/{key}: (absent) vs {}", b[key]))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| difference(x, y, &format!("{at}/{i}"))),
        _ => (ours != theirs).then(|| format!("{at}: {ours} vs {theirs}")),
    }
}

/// Copies of a sample with bytes overwritten here and there (a fixed pseudo-random sequence): reading
/// them reports errors but never panics, and every record it yields is a JSON object.
#[test]
fn damaged_evtx_copies_never_panic() -> Result<(), Failure> {
    let Some(corpus) = corpus() else { return Ok(()) };
    let files = files_with_extension(&corpus.join("evtx/EVTX-ATTACK-SAMPLES"), "evtx");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut records, mut errors) = (0, 0);
    for round in 0..60 {
        let file = &files[(next() % files.len() as u64) as usize];
        let mut data = std::fs::read(file)?;
        for _ in 0..(1 + round % 8) {
            let at = (next() % data.len() as u64) as usize;
            data[at] = next() as u8;
        }
        let Ok(items) = from_bytes(file, data, &ReadOptions::default()) else {
            continue;
        };
        for item in items {
            match item {
                Ok(record) => {
                    serde_json::from_str::<serde_json::Value>(&record.json)?;
                    records += 1;
                }
                Err(_) => errors += 1,
            }
        }
    }
    assert!(records > 0, "{records} records, {errors} errors");
    Ok(())
}
