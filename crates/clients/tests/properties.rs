//! Property tests (proptest) of the parsers that read bytes from outside: the E2B execution
//! stream, `Retry-After`, and the model file reader of `NeuralCircuitBreaker::load`. Each must
//! give an answer or an error for any input, never panic, and not depend on how the input is cut.

use std::io::Cursor;
use std::time::{Duration, SystemTime};

use neural_trader_clients::e2b::ExecutionParser;
use neural_trader_clients::http::classify::parse_retry_after;
use neural_trader_clients::neural::builtin::model_file::{
    body_length, read_model_bytes, MAX_HEADER_BYTES,
};
use proptest::prelude::*;

/// Feeds `bytes` to a parser cut at `cuts` (positions taken modulo the length), then finishes.
fn parse_in_chunks(bytes: &[u8], cuts: &[usize]) -> Result<String, String> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut parser = ExecutionParser::new();
    let mut from = 0;
    for to in points.into_iter().chain([bytes.len()]) {
        parser
            .feed(&bytes[from..to])
            .map_err(|e| e.code().to_string())?;
        from = to;
    }
    parser
        .finish()
        .map(|e| e.to_json())
        .map_err(|e| e.code().to_string())
}

/// One line of a stream: a known event, or something else.
fn stream_line() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|t| serde_json::json!({"type": "stdout", "text": t}).to_string()),
        any::<String>().prop_map(|t| serde_json::json!({"type": "stderr", "text": t}).to_string()),
        any::<u32>().prop_map(|n| {
            serde_json::json!({"type": "number_of_executions", "execution_count": n}).to_string()
        }),
        Just(r#"{"type":"keepalive"}"#.to_string()),
        Just(r#"{"type":"end_of_execution"}"#.to_string()),
        "[ -~]{0,40}",
    ]
}

proptest! {
    #[test]
    fn execution_stream_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                     cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let _ = parse_in_chunks(&bytes, &cuts);
    }

    #[test]
    fn execution_stream_does_not_depend_on_chunks(
        lines in proptest::collection::vec(stream_line(), 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let text = lines.join("\n");
        let whole = parse_in_chunks(text.as_bytes(), &[]);
        prop_assert_eq!(whole, parse_in_chunks(text.as_bytes(), &cuts));
    }

    #[test]
    fn retry_after_is_none_or_capped(value in any::<String>(), max_s in 0_u64..100_000) {
        let max = Duration::from_secs(max_s);
        if let Some(wait) = parse_retry_after(&value, SystemTime::now(), max) {
            prop_assert!(wait <= max);
        }
    }

    #[test]
    fn retry_after_reads_delta_seconds(seconds in any::<u64>(), pad in "[ \t]{0,3}") {
        let max = Duration::from_secs(3600);
        let value = format!("{pad}{seconds}{pad}");
        let expected = Duration::from_secs(seconds).min(max);
        prop_assert_eq!(parse_retry_after(&value, SystemTime::now(), max), Some(expected));
    }

    #[test]
    fn model_file_reader_refuses_or_reads_within_bounds(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        claimed in any::<u64>(),
    ) {
        // Whatever the bytes and the file's claimed length: an answer, no panic, and a file
        // read only when it is exactly as long as claimed; a refused header is all that is read.
        let mut reader = Cursor::new(&bytes);
        let result = read_model_bytes(&mut reader, claimed);
        if bytes.len() >= 8 {
            let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
            if n > MAX_HEADER_BYTES {
                prop_assert!(reader.position() <= 8);
            }
        }
        if let Ok(read) = result {
            prop_assert_eq!(read.len() as u64, claimed);
        }
    }

    #[test]
    fn model_file_reader_reads_well_formed_files(
        dims in proptest::collection::vec(1_usize..6, 1..4),
        f64s in any::<bool>(),
        junk in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        // A header in the layout `persist.rs` writes: tensors one after the other.
        let size = if f64s { 8 } else { 4 };
        let mut header = serde_json::Map::new();
        let mut offset = 0;
        for (i, d) in dims.iter().enumerate() {
            let bytes = d * d * size;
            header.insert(format!("layer{i}.weight"), serde_json::json!({
                "dtype": if f64s { "F64" } else { "F32" },
                "shape": [d, d],
                "data_offsets": [offset, offset + bytes],
            }));
            offset += bytes;
        }
        let header = serde_json::Value::Object(header).to_string().into_bytes();
        prop_assert_eq!(body_length(&header).ok(), Some(offset as u64));
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(&header);
        file.extend(std::iter::repeat_n(7_u8, offset));
        let len = file.len() as u64;
        prop_assert_eq!(read_model_bytes(&mut Cursor::new(&file), len).ok(), Some(file.clone()));
        // A file longer or shorter than its header says is refused before its body is read.
        let mut longer = file.clone();
        longer.extend_from_slice(&junk);
        let mut reader = Cursor::new(&longer);
        prop_assert!(read_model_bytes(&mut reader, longer.len() as u64).is_err());
        prop_assert!(reader.position() <= 8 + header.len() as u64);
        prop_assert!(read_model_bytes(&mut Cursor::new(&file[..file.len() - 1]), len - 1).is_err());
    }
}

#[test]
fn model_file_header_lists_only_model_tensors() {
    let header = br#"{"weights":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    assert_eq!(
        body_length(header).unwrap_err().code(),
        "ERR_MODEL_FILE",
        "a tensor of another model"
    );
    let header = br#"{"layer0.weight":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#;
    assert!(
        body_length(header).is_err(),
        "a dtype this library never saves"
    );
    let header = br#"{"layer0.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,4]}}"#;
    assert!(
        body_length(header).is_err(),
        "offsets that disagree with the shape"
    );
    let header = br#"{"__metadata__":{"format":"pt"},"inputs.mean":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}"#;
    assert_eq!(body_length(header).unwrap(), 16);
}
