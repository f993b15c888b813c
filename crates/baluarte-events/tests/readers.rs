//! The readers on small inputs written here: good records around bad ones, documents, limits, formats.

use std::path::{Path, PathBuf};

use baluarte_events::{from_bytes, open, Format, Position, ReadOptions, Record, SourceError};

type Failure = Box<dyn std::error::Error>;

fn read(name: &str, data: &[u8], options: &ReadOptions) -> Result<Vec<Result<Record, SourceError>>, SourceError> {
    Ok(from_bytes(Path::new(name), data.to_vec(), options)?.collect())
}

fn jsons(items: &[Result<Record, SourceError>]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .map(|record| record.json.as_str())
        .collect()
}

fn errors(items: &[Result<Record, SourceError>]) -> Vec<String> {
    items
        .iter()
        .filter_map(|item| item.as_ref().err())
        .map(ToString::to_string)
        .collect()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<PathBuf, std::io::Error> {
    let path = dir.join(name);
    std::fs::write(&path, data)?;
    Ok(path)
}

#[test]
fn jsonl_bad_line_in_the_middle_yields_records_before_and_after() -> Result<(), Failure> {
    let dir = tempfile::tempdir()?;
    let data = b"{\"n\":1}\n{\"n\":2}\n\n{\"n\": 3, oops}\r\n{\"n\":4}\n{\"n\":5}";
    let path = write(dir.path(), "events.jsonl", data)?;
    let items: Vec<_> = open(&path, &ReadOptions::default())?.collect();
    assert_eq!(jsons(&items), ["{\"n\":1}", "{\"n\":2}", "{\"n\":4}", "{\"n\":5}"]);
    let errs: Vec<_> = items.iter().filter_map(|item| item.as_ref().err()).collect();
    assert_eq!(errs.len(), 1);
    match errs[0] {
        SourceError::MalformedJson {
            path: p,
            offset,
            line,
            reason,
        } => {
            assert_eq!((&**p, *offset, *line), (path.as_path(), 17, 4));
            assert!(reason.contains("key must be a string"), "{reason}");
        }
        other => return Err(format!("unexpected {other}").into()),
    }
    assert!(errs[0]
        .to_string()
        .starts_with(&format!("{}: line 4 (byte 17): malformed JSON", path.display())));
    // Positions and progress.
    let records: Vec<&Record> = items.iter().filter_map(|item| item.as_ref().ok()).collect();
    assert_eq!(records[0].position, Position::Text { offset: 0, line: 1 });
    assert_eq!(records[2].position, Position::Text { offset: 33, line: 5 });
    assert_eq!(records[3].consumed, data.len() as u64);
    assert!(records.iter().all(|r| *r.path == *path));
    Ok(())
}

#[test]
fn jsonl_rejects_non_objects_invalid_utf8_and_oversized_lines() -> Result<(), Failure> {
    let options = ReadOptions {
        max_record_bytes: 20,
        ..ReadOptions::default()
    };
    let data = b"{\"a\":1}\n[1,2]\n\"text\"\n{\"a\":\"\xff\"}\n{\"long\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}\n{\"b\":2}\n{\"a\":1} {\"b\":2}\n";
    let items = read("x.jsonl", data, &options)?;
    assert_eq!(jsons(&items), ["{\"a\":1}", "{\"b\":2}"]);
    let errs = errors(&items);
    assert_eq!(errs.len(), 5, "{errs:#?}");
    assert!(
        errs[0].contains("line 2") && errs[0].contains("expected a JSON object"),
        "{}",
        errs[0]
    );
    assert!(errs[1].contains("line 3"), "{}", errs[1]);
    assert!(
        errs[2].contains("line 4") && errs[2].contains("invalid UTF-8"),
        "{}",
        errs[2]
    );
    assert!(
        errs[3].contains("line 5") && errs[3].contains("larger than 20 bytes"),
        "{}",
        errs[3]
    );
    assert!(
        errs[4].contains("line 7") && errs[4].contains("trailing characters"),
        "{}",
        errs[4]
    );
    Ok(())
}

#[test]
fn json_documents_pretty_array_and_concatenated() -> Result<(), Failure> {
    let options = ReadOptions::default();
    let pretty = b"{\n  \"Event\": {\n    \"System\": { \"EventID\": 1, \"Computer\": \"a b \" },\n    \"EventData\": null\n  }\n}\n";
    let items = read("one.json", pretty, &options)?;
    assert_eq!(
        jsons(&items),
        [r#"{"Event":{"System":{"EventID":1,"Computer":"a b "},"EventData":null}}"#]
    );
    assert_eq!(
        items[0].as_ref().map(|r| r.position).ok(),
        Some(Position::Text { offset: 0, line: 1 })
    );

    let array = b"\xEF\xBB\xBF[\n  {\"a\": 1},\n  {\"b\": [1, {\"c\": \"]}\\\"\"}]},\n  {\"d\": 3}\n]\n";
    let items = read("array.json", array, &options)?;
    assert_eq!(jsons(&items), [r#"{"a":1}"#, r#"{"b":[1,{"c":"]}\""}]}"#, r#"{"d":3}"#]);
    assert!(errors(&items).is_empty());

    let several = b"{\n \"a\": 1\n}\n{\n \"b\": 2\n}\n[{\"c\": 3}]";
    assert_eq!(
        jsons(&read("several.json", several, &options)?),
        [r#"{"a":1}"#, r#"{"b":2}"#, r#"{"c":3}"#]
    );
    Ok(())
}

#[test]
fn json_documents_report_bad_elements_and_go_on() -> Result<(), Failure> {
    let options = ReadOptions {
        max_record_bytes: 40,
        ..ReadOptions::default()
    };
    let data = b"[\n  {\"ok\": 1},\n  42,\n  {\"bad\": tru},\n  {\"big\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\n  {\"ok\": 2}\n]\n{\"open\": [1,\n";
    let items = read("doc.json", data, &options)?;
    assert_eq!(jsons(&items), [r#"{"ok":1}"#, r#"{"ok":2}"#]);
    let errs = errors(&items);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    assert!(
        errs[0].contains("line 3") && errs[0].contains("expected a JSON object"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].contains("line 4") && errs[1].contains("malformed JSON"),
        "{}",
        errs[1]
    );
    assert!(
        errs[2].contains("line 5") && errs[2].contains("larger than 40 bytes"),
        "{}",
        errs[2]
    );
    assert!(
        errs[3].contains("line 8") && errs[3].contains("ends inside this element"),
        "{}",
        errs[3]
    );
    Ok(())
}

#[test]
fn syslog_file_with_a_bad_line() -> Result<(), Failure> {
    let options = ReadOptions {
        syslog_year: Some(2024),
        ..ReadOptions::default()
    };
    let data = "<34>1 2024-01-02T03:04:05Z host app 1 ID - \u{feff}hello\n<200>Jan  1 00:00:00 h t: x\nJan  2 00:00:00 h sshd[9]: bye\n";
    let items = read("auth.log", data.as_bytes(), &options)?;
    let good = jsons(&items);
    assert_eq!(good.len(), 2);
    assert!(good[0].contains(r#""message":"hello""#), "{}", good[0]);
    assert!(good[1].contains(r#""procid":"9""#), "{}", good[1]);
    let errs = errors(&items);
    assert_eq!(
        errs,
        ["auth.log: line 2 (byte 52): malformed syslog: priority 200 out of range (0 to 191)"]
    );
    Ok(())
}

#[test]
fn format_detection_override_and_binary_files() -> Result<(), Failure> {
    let options = ReadOptions::default();
    // JSON read as syslog when told so.
    let forced = ReadOptions {
        format: Some(Format::Syslog),
        ..ReadOptions::default()
    };
    let items = read("x", b"{\"a\":1}\n", &forced)?;
    assert_eq!(jsons(&items), [r#"{"format":"rfc3164","message":"{\"a\":1}"}"#]);
    // A binary file is not read as syslog.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let error = from_bytes(Path::new("a.png"), png.to_vec(), &options).err();
    assert!(matches!(error, Some(SourceError::UnknownFormat { .. })), "{error:?}");
    // Not EVTX, told it is.
    let evtx = ReadOptions {
        format: Some(Format::Evtx),
        ..ReadOptions::default()
    };
    let error = from_bytes(Path::new("a.evtx"), b"{}".to_vec(), &evtx).err();
    assert!(matches!(error, Some(SourceError::BadEvtxHeader { .. })), "{error:?}");
    // A missing file.
    let error = open(Path::new("/nonexistent/events.jsonl"), &options).err();
    assert!(matches!(error, Some(SourceError::Io { .. })), "{error:?}");
    // An empty file holds no events.
    assert!(read("empty", b"", &options)?.is_empty());
    Ok(())
}

/// An EVTX file made here: a header and one chunk of garbage, then a cut. Reports the corrupt chunk and
/// the truncation, and nothing else.
#[test]
fn corrupt_and_truncated_evtx_chunks() -> Result<(), Failure> {
    let mut data = vec![0u8; 4096];
    data[..8].copy_from_slice(b"ElfFile\0");
    data[32..36].copy_from_slice(&128u32.to_le_bytes());
    data[38..40].copy_from_slice(&3u16.to_le_bytes());
    data[40..42].copy_from_slice(&4096u16.to_le_bytes());
    data[42..44].copy_from_slice(&3u16.to_le_bytes());
    data.extend(std::iter::repeat_n(0xAB, 65536));
    data.extend(std::iter::repeat_n(0xCD, 1000));
    let items = read("bad.evtx", &data, &ReadOptions::default())?;
    let errs = errors(&items);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("bad.evtx: EVTX chunk 0 (byte 4096) is corrupt"),
        "{}",
        errs[0]
    );
    assert!(
        errs[1].starts_with("bad.evtx: EVTX file truncated at byte 69632"),
        "{}",
        errs[1]
    );
    assert!(errs[1].contains("0 records read before it"), "{}", errs[1]);
    Ok(())
}

/// Inputs the fuzzers found. Each must end, with a bounded number of records and errors.
#[test]
fn fuzz_regressions_end() {
    let cases: &[&[u8]] = &[b"[\x01\x00}"];
    for data in cases {
        let options = ReadOptions {
            format: Some(baluarte_events::Format::Json),
            max_record_bytes: 4096,
            ..ReadOptions::default()
        };
        let Ok(records) = baluarte_events::from_bytes(std::path::Path::new("fuzz.json"), data.to_vec(), &options)
        else {
            panic!("{data:?} could not be opened");
        };
        let n = records.take(1000).count();
        assert!(n < 1000, "{data:?} does not end: {n} items");
    }
}
