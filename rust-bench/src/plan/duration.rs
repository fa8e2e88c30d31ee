//! Durations and sizes as people write them: `500ms`, `5s`, `10m`, `1h`, `1h30m`, `9MiB`.

use std::time::Duration;

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
        return Err(format!("negative duration '{s}'; {hint}"));
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = s
            .parse()
            .map_err(|_| format!("duration '{s}' is too large; {hint}"))?;
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("invalid duration '{s}'; {hint}"));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid number in duration '{s}'; {hint}"))?;
        rest = rest[digits..].trim_start();
        let Some(&(unit, scale)) = UNITS.iter().find(|(u, _)| rest.starts_with(u)) else {
            return Err(format!("missing or unknown unit in duration '{s}'; {hint}"));
        };
        rest = rest[unit.len()..].trim_start();
        total += (number * scale as f64).round() as u128;
    }
    let nanos = u64::try_from(total).map_err(|_| format!("duration '{s}' is too large; {hint}"))?;
    Ok(Duration::from_nanos(nanos))
}

/// A duration or "forever" (also "inf", "infinite", "none", "0"): `None` means no end.
pub fn parse_or_forever(text: &str) -> Result<Option<Duration>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "forever" | "inf" | "infinite" | "none" | "0" => Ok(None),
        _ => parse(text).map(Some),
    }
}

/// Parse a size in bytes: a number with an optional unit `B`, `KiB`, `MiB`, `GiB` (powers of
/// 1024), `K`/`M`/`G` (also powers of 1024) or `kB`/`MB`/`GB` (powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let how = "write it like 9MiB, 512KiB or 1048576";
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size; {how}"))?;
    let scale: f64 = match unit.trim() {
        "" | "B" | "b" => 1.0,
        "K" | "k" | "KiB" | "kiB" => 1024.0,
        "M" | "MiB" => 1024.0 * 1024.0,
        "G" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        u => return Err(format!("'{text}' has an unknown unit '{u}'; {how}")),
    };
    let bytes = (value * scale).round();
    if !bytes.is_finite() || !(1.0..=64.0 * 1024.0 * 1024.0 * 1024.0).contains(&bytes) {
        return Err(format!(
            "'{text}' is not a size between 1 B and 64 GiB; {how}"
        ));
    }
    Ok(bytes as u64)
}

/// clap value parser for durations: like [`parse`], and above zero.
pub fn clap_duration(text: &str) -> Result<Duration, String> {
    let d = parse(text)?;
    if d.is_zero() {
        return Err(format!(
            "duration '{}' must be above zero; e.g. 5s",
            text.trim()
        ));
    }
    Ok(d)
}

/// A duration that may be "forever" (`None`), as a clap value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Until(pub Option<Duration>);

/// clap value parser for "duration or forever".
pub fn clap_duration_or_forever(text: &str) -> Result<Until, String> {
    parse_or_forever(text).map(Until)
}

/// clap value parser for sizes.
pub fn clap_size(text: &str) -> Result<u64, String> {
    parse_size(text)
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
    fn forever() {
        assert_eq!(parse_or_forever("forever"), Ok(None));
        assert_eq!(parse_or_forever("0"), Ok(None));
        assert_eq!(parse_or_forever("3s"), Ok(Some(Duration::from_secs(3))));
        assert!(parse_or_forever("soon").is_err());
        assert!(clap_duration("0s").is_err());
        assert_eq!(clap_duration("2s"), Ok(Duration::from_secs(2)));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("9MiB"), Ok(9 * 1024 * 1024));
        assert_eq!(parse_size("9M"), Ok(9 * 1024 * 1024));
        assert_eq!(parse_size("9MB"), Ok(9_000_000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "MiB", "9XB", "0", "100GiB"] {
            assert!(parse_size(bad).is_err(), "{bad} should not parse");
        }
    }
}
