//! Timestamps as the files and the page carry them: RFC 3339 (the ISO 8601
//! profile JavaScript's `Date` reads), in UTC, to the millisecond.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Now, in UTC, to the millisecond (what the files can represent).
pub fn now() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let millis = t.millisecond();
    t.replace_nanosecond(u32::from(millis) * 1_000_000).unwrap_or(t)
}

/// `2026-11-23T12:40:01.200Z`. The year is always four digits: every value
/// here comes from `now()` or from [`parse`], which keeps years in 0..=9999.
pub fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parses an RFC 3339 date-time with an offset (`2026-11-23T12:40:01Z`,
/// `2026-11-23T13:40:01.5+01:00`), into UTC to the millisecond.
pub fn parse(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(|t| truncate_to_millis(t.to_offset(UtcOffset::UTC)))
        .map_err(|e| format!("not an ISO 8601 date-time with a time zone, like 2030-01-31T12:00:00Z ({e})"))
}

/// The part of a file name that says when: `20261123T124001.200Z` (no
/// colons, which some file systems refuse).
pub fn file_stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// serde for a required timestamp field.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Writes [`super::format`].
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*t))
    }

    /// Reads [`super::parse`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// serde for an optional (nullable) timestamp field.
pub mod rfc3339_option {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    /// Writes [`super::format`], or null.
    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(*t)),
            None => s.serialize_none(),
        }
    }

    /// Reads [`super::parse`], or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_utc_to_the_millisecond() {
        let t = parse("2030-01-31T13:00:00.1234+01:00").expect("parses");
        assert_eq!(format(t), "2030-01-31T12:00:00.123Z");
        assert_eq!(parse(&format(t)).expect("again"), t);
        assert_eq!(file_stamp(t), "20300131T120000.123Z");
        for bad in ["2030-01-31", "2030-01-31T12:00", "tomorrow", "", "2030-01-31T12:00:00"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
