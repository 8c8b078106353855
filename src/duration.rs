//! Durations as people write them (`500ms`, `2s`, `1.5m`, `3h10m`, `3h 10m`, or a plain number
//! of seconds), parsed and printed with jiff's friendly format: one parser for every flag and
//! for the fake's knobs.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::fmt::friendly::{SpanParser, SpanPrinter};

static PARSER: SpanParser = SpanParser::new();
static PRINTER: SpanPrinter = SpanPrinter::new();

/// A [`Duration`] that parses from and prints as the friendly format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Human(pub Duration);

impl FromStr for Human {
    type Err = String;

    fn from_str(text: &str) -> Result<Human, String> {
        parse(text).map(Human)
    }
}

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&PRINTER.unsigned_duration_to_string(&self.0))
    }
}

impl From<Human> for Duration {
    fn from(h: Human) -> Duration {
        h.0
    }
}

/// Parses `250ms`, `2s`, `1.5s`, `5m`, `24h`, `3h10m`, `3h 10m`, or `90` (seconds).
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is not a duration"));
    }
    if let Ok(d) = PARSER.parse_unsigned_duration(text) {
        return Ok(d);
    }
    // Days and weeks (`7d`, `2w`) as 24 h each: a look back, not a calendar.
    let span: jiff::Span = PARSER
        .parse_span(text)
        .map_err(|e| format!("`{text}` is not a duration like 500ms, 2s, 5m, 24h, 7d or 3h10m ({e})"))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("`{text}` is not a duration: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("`{text}` is not a duration: it is negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_write_parses() {
        let cases = [
            ("500ms", Duration::from_millis(500)),
            ("2s", Duration::from_secs(2)),
            ("1.5s", Duration::from_millis(1500)),
            ("5m", Duration::from_secs(300)),
            ("24h", Duration::from_secs(86_400)),
            ("3h10m", Duration::from_secs(3 * 3600 + 600)),
            ("3h 10m", Duration::from_secs(3 * 3600 + 600)),
            ("90", Duration::from_secs(90)),
            (" 60s ", Duration::from_secs(60)),
            ("7d", Duration::from_secs(7 * 86_400)),
            ("1w", Duration::from_secs(7 * 86_400)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
        for bad in ["", "soon", "-2s", "2 parsecs", "-1"] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_printed_duration_parses_back() {
        for d in [Duration::from_millis(500), Duration::from_secs(3 * 3600 + 600), Duration::from_secs(60)] {
            let text = Human(d).to_string();
            assert_eq!(text.parse::<Human>(), Ok(Human(d)), "{text}");
        }
        assert_eq!(Human(Duration::from_secs(3 * 3600 + 600)).to_string(), "3h 10m");
    }
}
