//! A reader of `text/event-stream` (server-sent events), bounded and pure: fields
//! `event:`, `id:` and `data:` (several `data:` lines join with `\n`), a blank line ends an
//! event, lines starting with `:` are comments (keep-alives) and are skipped, as are
//! blank lines with no data before them.

use std::io::{BufRead, Read as _};

/// Longest line accepted (an event's data is one JSON line).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes of data one event may carry.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// Event type (`message` when the server names none).
    pub event: String,
    /// Last event id the server sent, if any.
    pub id: Option<String>,
    /// Data lines, joined with `\n`.
    pub data: String,
}

/// Why a stream could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    /// Reading the underlying stream failed.
    #[error("event stream: {0}")]
    Io(#[from] std::io::Error),
    /// A line or an event exceeds the bounds.
    #[error("event stream: a line or event exceeds {MAX_LINE_BYTES} bytes")]
    TooLong,
    /// A line is not UTF-8.
    #[error("event stream: a line is not UTF-8")]
    NotUtf8,
}

/// Iterates the events of a stream; ends when the stream ends.
pub struct SseReader<R> {
    reader: R,
    last_id: Option<String>,
    done: bool,
}

impl<R: BufRead> SseReader<R> {
    /// A reader over `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            last_id: None,
            done: false,
        }
    }

    /// The next line without its terminator; `None` at the end of the stream.
    fn line(&mut self) -> Result<Option<String>, SseError> {
        let mut buf = Vec::new();
        let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX) + 1;
        let n = (&mut self.reader).take(limit).read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        if buf.len() > MAX_LINE_BYTES {
            return Err(SseError::TooLong);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        String::from_utf8(buf)
            .map(Some)
            .map_err(|_| SseError::NotUtf8)
    }

    fn next_event(&mut self) -> Result<Option<RawEvent>, SseError> {
        let mut event = String::new();
        let mut data: Option<String> = None;
        loop {
            let Some(line) = self.line()? else {
                // An unterminated event at the end of the stream is dropped, as the
                // standard says.
                return Ok(None);
            };
            if line.is_empty() {
                if let Some(data) = data.take() {
                    return Ok(Some(RawEvent {
                        event: if event.is_empty() {
                            "message".to_string()
                        } else {
                            event
                        },
                        id: self.last_id.clone(),
                        data,
                    }));
                }
                event.clear();
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            match field {
                "event" => event = value.to_string(),
                "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
                "data" => {
                    if data.as_ref().map_or(0, String::len) + value.len() + 1 > MAX_EVENT_BYTES {
                        return Err(SseError::TooLong);
                    }
                    match &mut data {
                        Some(d) => {
                            d.push('\n');
                            d.push_str(value);
                        }
                        None => data = Some(value.to_string()),
                    }
                }
                _ => {} // `retry` and unknown fields are ignored
            }
        }
    }
}

impl<R: BufRead> Iterator for SseReader<R> {
    type Item = Result<RawEvent, SseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_event() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<RawEvent> {
        SseReader::new(text.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn parses_fields_comments_and_keepalives() {
        let text = ":\n\nevent: message\nid: 7\ndata: {\"a\":1}\n\n: keep-alive\n\n\
                    data:x\r\ndata: y\r\n\r\nevent: lagged\ndata: {\"missed\":3}\n\ndata: cut";
        let got = events(text);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            RawEvent {
                event: "message".into(),
                id: Some("7".into()),
                data: "{\"a\":1}".into()
            }
        );
        // The id persists; the event type does not.
        assert_eq!(got[1].event, "message");
        assert_eq!(got[1].id.as_deref(), Some("7"));
        assert_eq!(got[1].data, "x\ny");
        assert_eq!(got[2].event, "lagged");
    }

    #[test]
    fn refuses_overlong_lines() {
        let long = format!("data: {}\n\n", "x".repeat(MAX_LINE_BYTES + 1));
        let mut r = SseReader::new(long.as_bytes());
        assert!(matches!(r.next(), Some(Err(SseError::TooLong))));
        assert!(r.next().is_none());
    }
}
