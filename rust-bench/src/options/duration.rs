//! Durations as people write them: `500ms`, `5s`, `10m`, `1h`, `1h30m` (sizes: see
//! [`crate::options::Size`]).

use std::time::Duration;

use crate::error::quote;

/// The units understood, longest suffix first so that `ms` wins over `m`.
const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("min", 60_000_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Parse a duration such as `500ms`, `5s`, `10m`, `1h` or `1h30m` (a number alone is
/// seconds). The error text says what is wrong and how to write it instead.
pub fn parse(text: &str) -> Result<Duration, String> {
    let hint = "write a number and a unit, e.g. 500ms, 5s, 10m or 1h";
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty duration; {hint}"));
    }
    if s.starts_with('-') {
        return Err(format!("negative duration {}; {hint}", quote(s)));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = s
            .parse()
            .map_err(|_| format!("duration {} is too large; {hint}", quote(s)))?;
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration {}; {hint}", quote(s)));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid number in duration {}; {hint}", quote(s)))?;
        rest = rest[digits..].trim_start();
        let Some(&(unit, scale)) = UNITS.iter().find(|(u, _)| rest.starts_with(u)) else {
            return Err(format!(
                "missing or unknown unit in duration {}; {hint}",
                quote(s)
            ));
        };
        rest = rest[unit.len()..].trim_start();
        total += (number * scale as f64).round() as u128;
    }
    let nanos =
        u64::try_from(total).map_err(|_| format!("duration {} is too large; {hint}", quote(s)))?;
    Ok(Duration::from_nanos(nanos))
}

/// A duration written back the way [`parse`] reads it, in the largest unit that
/// keeps it exact (`90m`, `5s`, `250ms`).
pub fn format(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    let units: [(&str, u128); 5] = [
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    for (unit, size) in units {
        if ns.is_multiple_of(size) {
            return format!("{}{unit}", ns / size);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("10min"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("68us"), Ok(Duration::from_micros(68)));
        assert_eq!(parse(" 7 "), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse("").is_err());
        assert!(parse("-5s").unwrap_err().contains("negative"));
        assert!(parse("5 parsecs").is_err());
        assert!(parse("s").is_err());
        assert!(parse("1..2s").is_err());
        assert!(parse("99999999999999999999999").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for text in ["90m", "5s", "250ms", "68us", "2h", "61s", "0s", "7ns"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
