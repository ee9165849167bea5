//! A record format: which field each column of a record holds. It comes from a file's header
//! line, from the user (AWS's `${field}` format string or plain field names), or is the default
//! version 2 format.

use super::field::{is_aws_field_name, looks_like_field_name, Field};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

/// What one column of a record holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A VPC flow-log field, parsed into its typed place in [`super::FlowRecord`].
    Known(Field),
    /// Any other name (a transit gateway field, a field newer than this program): the value is
    /// kept as text in [`super::FlowRecord::extra`].
    Unknown(Arc<str>),
}

impl Slot {
    /// The name as written in the format.
    pub fn name(&self) -> &str {
        match self {
            Slot::Known(f) => f.name(),
            Slot::Unknown(name) => name,
        }
    }
}

/// Where a format came from; used to explain a record that does not fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatOrigin {
    /// The default version 2 format (no header, no user format).
    Default,
    /// Given by the user (`--format`).
    User,
    /// A header line of the file, at this 1-based line number.
    Header {
        /// The line of the header.
        line: u64,
    },
    /// Built by the program ([`Format::all_fields`], [`Format::from_fields`]).
    Builtin,
    /// A header line that could not be used (a repeated field, …), at this 1-based line
    /// number: no record is read until the next valid header ([`Format::after_invalid_header`]).
    InvalidHeader {
        /// The line of the invalid header.
        line: u64,
    },
    /// The columns of a Parquet file ([`Format::from_columns`]): its records are numbered by
    /// row.
    ParquetColumns,
}

impl fmt::Display for FormatOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatOrigin::Default => f.write_str("the default version 2 format"),
            FormatOrigin::User => f.write_str("the given format"),
            FormatOrigin::Header { line } => write!(f, "the header at line {line}"),
            FormatOrigin::Builtin => f.write_str("the format"),
            FormatOrigin::InvalidHeader { line } => write!(f, "the invalid header at line {line}"),
            FormatOrigin::ParquetColumns => f.write_str("the Parquet file's columns"),
        }
    }
}

/// The list of fields a record holds, in order. Cheap to clone.
///
/// ```
/// use vpcreach::flow_log::{Field, Format};
/// let aws: Format = "${version} ${account-id} ${interface-id} ${srcaddr}".parse().unwrap();
/// let plain: Format = "version account-id interface-id srcaddr".parse().unwrap();
/// assert_eq!(aws.slots(), plain.slots());
/// assert_eq!(Format::default().len(), 14);
/// assert!(Format::all_fields(5).contains(Field::TrafficPath));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    slots: Arc<[Slot]>,
    origin: FormatOrigin,
}

/// A format string that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// No field at all.
    #[error("the format names no field")]
    Empty,
    /// A `${` without its `}`, or text outside `${…}` in an AWS format string.
    #[error("unexpected `{text}` in the format: expected `${{field}}` items separated by spaces")]
    Syntax {
        /// The offending text.
        text: String,
    },
    /// A name that cannot be a field name.
    #[error("`{name}` is not a field name: expected lower-case letters, digits and `-`")]
    InvalidName {
        /// The name as written.
        name: String,
    },
    /// The same field twice.
    #[error("field `{name}` appears twice in the format")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
}

impl Default for Format {
    /// The default version 2 format: `version account-id interface-id srcaddr dstaddr srcport
    /// dstport protocol packets bytes start end action log-status`.
    fn default() -> Format {
        static DEFAULT: OnceLock<Arc<[Slot]>> = OnceLock::new();
        let slots = DEFAULT.get_or_init(|| {
            Field::ALL
                .iter()
                .filter(|f| f.version() == 2)
                .map(|f| Slot::Known(*f))
                .collect()
        });
        Format {
            slots: Arc::clone(slots),
            origin: FormatOrigin::Default,
        }
    }
}

impl Format {
    /// Every field up to `version`, in AWS's order: the default format of that version as the
    /// console's "all fields" choice writes it (14 fields for version 2, 21 for 3, 25 for 4,
    /// 29 for 5, 39 for 7, 40 for 8).
    pub fn all_fields(version: u8) -> Format {
        Format::from_fields(
            Field::ALL
                .iter()
                .copied()
                .filter(|f| f.version() <= version),
        )
    }

    /// A format of the given fields, in order.
    pub fn from_fields(fields: impl IntoIterator<Item = Field>) -> Format {
        Format {
            slots: fields.into_iter().map(Slot::Known).collect(),
            origin: FormatOrigin::Builtin,
        }
    }

    /// Parses a user format: AWS's format string (`${version} ${account-id} …`) or field names
    /// separated by white space. `_` may stand for `-` (`log_status`). Names that are not
    /// flow-log fields are accepted and kept as text ([`Format::unknown_names`] lists them).
    pub fn parse(text: &str) -> Result<Format, FormatError> {
        let mut names = Vec::new();
        for item in text.split_ascii_whitespace() {
            if item.contains('$') || item.contains('{') || item.contains('}') {
                let mut rest = item;
                while !rest.is_empty() {
                    let inner = rest
                        .strip_prefix("${")
                        .and_then(|r| r.find('}').map(|end| (&r[..end], &r[end + 1..])));
                    match inner {
                        Some((name, after)) => {
                            names.push(name.replace('_', "-"));
                            rest = after;
                        }
                        None => {
                            return Err(FormatError::Syntax {
                                text: rest.to_owned(),
                            })
                        }
                    }
                }
            } else {
                names.push(item.replace('_', "-"));
            }
        }
        let mut format = Format::from_names(names.iter().map(String::as_str))?;
        format.origin = FormatOrigin::User;
        Ok(format)
    }

    fn from_names<'a>(names: impl Iterator<Item = &'a str>) -> Result<Format, FormatError> {
        let mut slots: Vec<Slot> = Vec::new();
        for name in names {
            if !looks_like_field_name(name) {
                return Err(FormatError::InvalidName {
                    name: name.to_owned(),
                });
            }
            if slots.iter().any(|s| s.name() == name) {
                return Err(FormatError::Duplicate {
                    name: name.to_owned(),
                });
            }
            slots.push(match Field::from_name(name) {
                Some(f) => Slot::Known(f),
                None => Slot::Unknown(name.into()),
            });
        }
        if slots.is_empty() {
            return Err(FormatError::Empty);
        }
        Ok(Format {
            slots: slots.into(),
            origin: FormatOrigin::Builtin,
        })
    }

    /// Reads `line` as a header line (`version account-id interface-id …`), as S3 log files
    /// start with: `None` when it is not one, which is the case for every record.
    ///
    /// A header's first word is the AWS name of a VPC or transit gateway flow-log field and all
    /// its words have the shape of field names (lower-case letters, digits, `-`); a record
    /// always has a value that is not of that shape (a number, an address, `-`, `ACCEPT`) or a
    /// first value that is no field name (`eni-…`). `line_number` is kept as the format's origin.
    ///
    /// ```
    /// use vpcreach::flow_log::Format;
    /// assert!(Format::from_header("interface-id srcaddr dstaddr", 1).is_some());
    /// assert!(Format::from_header("eni-1235b8ca123456789 10.0.0.1 10.0.0.2", 2).is_none());
    /// ```
    pub fn from_header(line: &str, line_number: u64) -> Option<Result<Format, FormatError>> {
        let mut words = line.split_ascii_whitespace();
        if !words.next().is_some_and(is_aws_field_name) {
            return None;
        }
        if !words.all(looks_like_field_name) {
            return None;
        }
        Some(
            Format::from_names(line.split_ascii_whitespace()).map(|mut f| {
                f.origin = FormatOrigin::Header { line: line_number };
                f
            }),
        )
    }

    /// The format of a Parquet file's columns, named as the text format names its fields
    /// (`interface-id`, not `interface_id`). Unlike a header line, the first name need not be
    /// a flow-log field's.
    pub fn from_columns<'a>(names: impl Iterator<Item = &'a str>) -> Result<Format, FormatError> {
        Format::from_names(names).map(|mut f| {
            f.origin = FormatOrigin::ParquetColumns;
            f
        })
    }

    /// The format in effect after an invalid header line (at `line`): it has no field, and reads
    /// every record as malformed, until the next valid header. Reading on with the format
    /// before the header would read columns as the wrong fields (source and destination
    /// swapped, say).
    ///
    /// ```
    /// use vpcreach::flow_log::{Format, FormatOrigin};
    /// let f = Format::after_invalid_header(3);
    /// assert!(f.is_empty());
    /// assert_eq!(f.origin(), FormatOrigin::InvalidHeader { line: 3 });
    /// ```
    pub fn after_invalid_header(line: u64) -> Format {
        Format {
            slots: Arc::from(Vec::new()),
            origin: FormatOrigin::InvalidHeader { line },
        }
    }

    /// What each column holds.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True only for the format in effect after an invalid header
    /// ([`Format::after_invalid_header`]); every other format has at least one field.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// True when the format has `field`.
    pub fn contains(&self, field: Field) -> bool {
        self.slots.contains(&Slot::Known(field))
    }

    /// Names in the format that are not VPC flow-log fields.
    pub fn unknown_names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().filter_map(|s| match s {
            Slot::Unknown(name) => Some(&**name),
            Slot::Known(_) => None,
        })
    }

    /// Where the format came from.
    pub fn origin(&self) -> FormatOrigin {
        self.origin
    }

    /// A short form for messages: the whole list when short, else its start and end.
    pub(crate) fn abbreviated(&self) -> String {
        let names: Vec<&str> = self.slots.iter().map(Slot::name).collect();
        if names.len() <= 6 {
            names.join(" ")
        } else {
            format!(
                "{} … {}",
                names[..3].join(" "),
                names[names.len() - 2..].join(" ")
            )
        }
    }
}

impl fmt::Display for Format {
    /// The field names separated by spaces, as in a header line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, slot) in self.slots.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(slot.name())?;
        }
        Ok(())
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Format, FormatError> {
        Format::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_v2() {
        assert_eq!(
            Format::default().to_string(),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        );
        assert_eq!(Format::default().origin(), FormatOrigin::Default);
        assert_eq!(Format::all_fields(2).slots(), Format::default().slots());
        let counts: Vec<usize> = [2, 3, 4, 5, 7, 8]
            .iter()
            .map(|v| Format::all_fields(*v).len())
            .collect();
        assert_eq!(counts, [14, 21, 25, 29, 39, 40]);
    }

    #[test]
    fn aws_format_strings() {
        let f = Format::parse("${version} ${vpc-id} ${subnet-id}").unwrap();
        assert_eq!(f.to_string(), "version vpc-id subnet-id");
        assert_eq!(f.origin(), FormatOrigin::User);
        // Adjacent items and underscores.
        let f = Format::parse("${version}${log_status}  tcp_flags").unwrap();
        assert_eq!(f.to_string(), "version log-status tcp-flags");
        assert_eq!(
            Format::parse("${version} ${srcaddr"),
            Err(FormatError::Syntax {
                text: "${srcaddr".into()
            })
        );
        assert!(matches!(
            Format::parse("${version} x${srcaddr}"),
            Err(FormatError::Syntax { .. })
        ));
        assert_eq!(Format::parse("  "), Err(FormatError::Empty));
        assert_eq!(
            Format::parse("srcaddr srcaddr"),
            Err(FormatError::Duplicate {
                name: "srcaddr".into()
            })
        );
        assert!(matches!(
            Format::parse("SrcAddr"),
            Err(FormatError::InvalidName { .. })
        ));
    }

    #[test]
    fn unknown_names_are_kept() {
        let f = Format::parse("tgw-id srcaddr packets-lost-no-route").unwrap();
        assert_eq!(
            f.unknown_names().collect::<Vec<_>>(),
            ["tgw-id", "packets-lost-no-route"]
        );
        assert_eq!(f.slots()[1], Slot::Known(Field::Srcaddr));
    }

    #[test]
    fn header_detection() {
        let h = Format::from_header(
            "account-id bytes dstaddr dstport end instance-id packets",
            3,
        );
        let h = h.unwrap().unwrap();
        assert_eq!(h.slots()[0], Slot::Known(Field::AccountId));
        assert_eq!(h.origin(), FormatOrigin::Header { line: 3 });
        // Records, including ones made only of IDs, are not headers.
        for record in [
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
            "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5",
            "eni-1235b8ca123456789 vpc-abcdefab012345678 subnet-aaaaaaaa012345678",
            "i-01234567890123456 eni-1111aaaa2222bbbb3",
            "us-east-1 use1-az4 wavelength wlid04",
            "",
        ] {
            assert_eq!(Format::from_header(record, 1), None, "{record}");
        }
        // Transit gateway headers are headers; their fields are kept as text.
        let tgw = Format::from_header("resource-type account-id tgw-id srcaddr", 1);
        let tgw = tgw.unwrap().unwrap();
        assert_eq!(tgw.unknown_names().count(), 2);
        assert!(matches!(
            Format::from_header("version srcaddr srcaddr", 1),
            Some(Err(FormatError::Duplicate { .. }))
        ));
    }
}
