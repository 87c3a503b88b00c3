//! Reading an execution's output: the code interpreter's stream of JSON lines.
//!
//! `POST /execute` answers 200 and then writes one JSON object per `\n`-terminated line:
//! `stdout` / `stderr` `{text, timestamp}`, `result` `{text, html, png, json, ...,
//! is_main_result}`, `error` `{name, value, traceback}`, `number_of_executions
//! {execution_count}`, `keepalive` (every 5 s of silence), and always a final
//! `end_of_execution`. [`ExecutionParser`] takes the bytes in chunks of any size (a line, or a
//! UTF-8 character, may be split across chunks), ignores unknown types and keepalives, and
//! refuses a stream without `end_of_execution`: the connection broke off, and what was read so
//! far is not the whole answer.
//!
//! An exception in the user's code is a line like any other: it becomes
//! [`Execution::error`] of a successful call.

use serde_json::{Map, Value};

use super::error::E2BError;
use super::execution::{ExecResult, Execution, ExecutionError};

/// Reads an execution's stream of JSON lines, chunk by chunk.
///
/// ```
/// use neural_trader_clients::e2b::ExecutionParser;
///
/// let mut parser = ExecutionParser::new();
/// parser.feed(b"{\"type\": \"number_of_executions\", \"execution_count\": 1}\n{\"type\": \"std")?;
/// parser.feed(b"out\", \"text\": \"hello\\n\"}\n{\"type\": \"end_of_execution\"}\n")?;
/// let execution = parser.finish()?;
/// assert_eq!(execution.stdout, ["hello\n"]);
/// assert_eq!(execution.execution_count, Some(1));
/// # Ok::<(), neural_trader_clients::e2b::E2BError>(())
/// ```
#[derive(Debug, Default)]
pub struct ExecutionParser {
    pending: Vec<u8>,
    execution: Execution,
    ended: bool,
    lines: usize,
}

impl ExecutionParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `chunk`: every line it completes is parsed now, the rest is kept for the next.
    /// `ERR_E2B_STREAM` for a line that is not a JSON object.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), E2BError> {
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(newline);
            rest = &tail[1..];
            if self.pending.is_empty() {
                self.line(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.line(&whole)?;
            }
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// Whether `end_of_execution` has been read.
    pub fn is_complete(&self) -> bool {
        self.ended
    }

    /// The execution, once the stream has ended. `ERR_E2B_STREAM` if it ended before
    /// `end_of_execution` (the connection broke off).
    pub fn finish(mut self) -> Result<Execution, E2BError> {
        let last = std::mem::take(&mut self.pending);
        self.line(&last)?;
        if !self.ended {
            return Err(E2BError::Stream {
                message: format!(
                    "the execution's output stream ended before end_of_execution \
                     (after {} line(s)): the connection broke off",
                    self.lines
                ),
            });
        }
        Ok(self.execution)
    }

    fn line(&mut self, line: &[u8]) -> Result<(), E2BError> {
        let line = line.trim_ascii();
        if line.is_empty() || self.ended {
            return Ok(());
        }
        self.lines += 1;
        let object = match parse_object(line) {
            Some(object) => object,
            None => {
                return Err(E2BError::Stream {
                    message: format!(
                        "line {} of the execution's output stream is not a JSON object",
                        self.lines
                    ),
                })
            }
        };
        self.apply(object);
        Ok(())
    }

    fn apply(&mut self, mut object: Map<String, Value>) {
        let kind = match object.remove("type") {
            Some(Value::String(kind)) => kind,
            _ => return,
        };
        let text = |object: &mut Map<String, Value>, key: &str| match object.remove(key) {
            Some(Value::String(text)) => text,
            Some(Value::Array(parts)) => parts
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("\n"),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let execution = &mut self.execution;
        match kind.as_str() {
            "stdout" => execution.stdout.push(text(&mut object, "text")),
            "stderr" => execution.stderr.push(text(&mut object, "text")),
            "result" => execution.results.push(ExecResult::from_fields(object)),
            "error" => {
                execution.error = Some(ExecutionError {
                    name: text(&mut object, "name"),
                    value: text(&mut object, "value"),
                    traceback: text(&mut object, "traceback"),
                })
            }
            "number_of_executions" => {
                execution.execution_count = object.get("execution_count").and_then(Value::as_u64)
            }
            "end_of_execution" => self.ended = true,
            // `keepalive`, and types of newer interpreters.
            _ => {}
        }
    }
}

/// `line` as a JSON object. The interpreter writes with Python's `json.dumps`, which emits bare
/// `NaN`, `Infinity` and `-Infinity` for non-finite floats: those are read as `null`.
fn parse_object(line: &[u8]) -> Option<Map<String, Value>> {
    let value = match serde_json::from_slice::<Value>(line) {
        Ok(value) => value,
        Err(_) => {
            let text = std::str::from_utf8(line).ok()?;
            serde_json::from_str(&non_finite_as_null(text)?).ok()?
        }
    };
    match value {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

/// `text` with the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings replaced by
/// `null`; `None` if there are none (the text is bad JSON for another reason).
fn non_finite_as_null(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut replaced = false;
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            out.push_str("null");
            rest = &rest[token.len()..];
            replaced = true;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    replaced.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = concat!(
        "{\"type\": \"number_of_executions\", \"execution_count\": 3}\n",
        "{\"type\": \"stdout\", \"text\": \"h\\u00e9llo\\n\", \"timestamp\": \"2026-01-01T00:00:00Z\"}\n",
        "{\"type\": \"keepalive\"}\n",
        "{\"type\": \"stderr\", \"text\": \"warn\\n\", \"timestamp\": \"2026-01-01T00:00:00Z\"}\n",
        "{\"type\": \"result\", \"text\": \"{'a': 1}\", \"json\": {\"a\": 1}, \"extra\": {\"x/y\": 1}, \"is_main_result\": false}\n",
        "{\"type\": \"future_kind\", \"whatever\": true}\n",
        "{\"type\": \"result\", \"text\": \"42\", \"png\": \"iVBOR\", \"is_main_result\": true}\n",
        "{\"type\": \"error\", \"name\": \"ZeroDivisionError\", \"value\": \"division by zero\", \"traceback\": \"Traceback...\"}\n",
        "{\"type\": \"end_of_execution\"}\n",
    );

    fn parse_in_chunks(bytes: &[u8], size: usize) -> Result<Execution, E2BError> {
        let mut parser = ExecutionParser::new();
        for chunk in bytes.chunks(size) {
            parser.feed(chunk)?;
        }
        parser.finish()
    }

    #[test]
    fn every_line_type_is_read_whatever_the_chunking() {
        let whole = parse_in_chunks(STREAM.as_bytes(), STREAM.len()).unwrap();
        assert_eq!(whole.execution_count, Some(3));
        assert_eq!(whole.stdout, ["héllo\n"]);
        assert_eq!(whole.stderr, ["warn\n"]);
        assert_eq!(whole.results.len(), 2);
        assert_eq!(whole.results[0].json, Some(serde_json::json!({"a": 1})));
        assert_eq!(whole.results[0].extra["x/y"], 1);
        assert_eq!(whole.text(), Some("42"));
        assert_eq!(whole.main_result().unwrap().png.as_deref(), Some("iVBOR"));
        let error = whole.error.clone().unwrap();
        assert_eq!(
            (error.name.as_str(), error.value.as_str()),
            ("ZeroDivisionError", "division by zero")
        );
        for size in [1, 2, 3, 7, 64] {
            assert_eq!(parse_in_chunks(STREAM.as_bytes(), size).unwrap(), whole);
        }
    }

    #[test]
    fn a_multi_byte_character_split_across_chunks_survives() {
        let stream = "{\"type\": \"stdout\", \"text\": \"€uro\"}\n{\"type\": \"end_of_execution\"}";
        let split = stream.find('€').unwrap() + 1;
        let mut parser = ExecutionParser::new();
        parser.feed(&stream.as_bytes()[..split]).unwrap();
        parser.feed(&stream.as_bytes()[split..]).unwrap();
        assert_eq!(parser.finish().unwrap().stdout, ["€uro"]);
    }

    #[test]
    fn a_stream_without_its_end_is_broken() {
        let cut = &STREAM[..STREAM.find("{\"type\": \"end_of_execution\"}").unwrap()];
        let err = parse_in_chunks(cut.as_bytes(), 5).unwrap_err();
        assert_eq!(err.code(), "ERR_E2B_STREAM");
        assert_eq!(
            parse_in_chunks(b"", 1).unwrap_err().code(),
            "ERR_E2B_STREAM"
        );
        let half_line = "{\"type\": \"stdout\", \"text\": \"a\"}\n{\"type\": \"end_of_exec";
        assert_eq!(
            parse_in_chunks(half_line.as_bytes(), 4).unwrap_err().code(),
            "ERR_E2B_STREAM"
        );
    }

    #[test]
    fn lines_that_are_not_json_objects_break_the_stream() {
        for bad in ["<html>502</html>\n", "[1, 2]\n", "{\"type\": \n"] {
            let err = parse_in_chunks(bad.as_bytes(), 3).unwrap_err();
            assert_eq!(err.code(), "ERR_E2B_STREAM", "{bad}");
        }
    }

    #[test]
    fn python_non_finite_floats_read_as_null() {
        let stream = concat!(
            "{\"type\": \"result\", \"json\": {\"x\": NaN, \"y\": -Infinity, \"s\": \"NaN\"}, \"is_main_result\": true}\n",
            "{\"type\": \"end_of_execution\"}\n",
        );
        let execution = parse_in_chunks(stream.as_bytes(), 9).unwrap();
        assert_eq!(
            execution.results[0].json,
            Some(serde_json::json!({"x": null, "y": null, "s": "NaN"}))
        );
    }

    #[test]
    fn lines_after_the_end_and_blank_lines_are_ignored() {
        let stream = "\r\n{\"type\": \"stdout\", \"text\": \"a\"}\r\n\n{\"type\": \"end_of_execution\"}\n{\"type\": \"stdout\", \"text\": \"late\"}\n";
        assert_eq!(parse_in_chunks(stream.as_bytes(), 4).unwrap().stdout, ["a"]);
    }

    #[test]
    fn serializes_in_camel_case_without_absent_representations() {
        let execution = parse_in_chunks(STREAM.as_bytes(), 100).unwrap();
        let value = serde_json::to_value(&execution).unwrap();
        assert_eq!(value["executionCount"], 3);
        assert_eq!(value["results"][1]["isMainResult"], true);
        assert!(value["results"][1].get("html").is_none());
        assert!(value["results"][1].get("extra").is_none());
        assert_eq!(value["error"]["name"], "ZeroDivisionError");
        let empty = serde_json::to_value(Execution::default()).unwrap();
        assert_eq!(empty["error"], Value::Null);
    }
}
