//! KQL scalar types and their one Arrow mapping (documented here, used everywhere).
//!
//! | KQL        | Arrow                         | notes |
//! |------------|-------------------------------|-------|
//! | `bool`     | `Boolean`                     | |
//! | `int`      | `Int32`                       | |
//! | `long`     | `Int64`                       | |
//! | `real`     | `Float64`                     | |
//! | `decimal`  | `Float64`                     | precision loss: 15–17 significant digits instead of 28–29 |
//! | `string`   | `Utf8`                        | never null in KQL: a null reads as `""` |
//! | `datetime` | `Timestamp(Nanosecond, None)` | UTC; range 1677-09-21..2262-04-11 instead of years 1..9999, precision kept (100 ns ticks fit in ns) |
//! | `timespan` | `Duration(Nanosecond)`        | range ±292 years instead of ±29,227 years; precision kept |
//! | `guid`     | `Utf8`                        | canonical lower-case text |
//! | `dynamic`  | `Utf8`                        | compact JSON text; JSON `null` and missing values are Arrow nulls |

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum KqlType {
    Bool,
    Int,
    Long,
    Real,
    Decimal,
    String,
    DateTime,
    TimeSpan,
    Guid,
    Dynamic,
}

impl KqlType {
    /// The canonical KQL name (`string`, `long`, `datetime`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KqlType::Bool => "bool",
            KqlType::Int => "int",
            KqlType::Long => "long",
            KqlType::Real => "real",
            KqlType::Decimal => "decimal",
            KqlType::String => "string",
            KqlType::DateTime => "datetime",
            KqlType::TimeSpan => "timespan",
            KqlType::Guid => "guid",
            KqlType::Dynamic => "dynamic",
        }
    }

    /// Parses a KQL type name, accepting the documented synonyms.
    pub fn from_name(name: &str) -> Option<KqlType> {
        Some(match name.to_ascii_lowercase().as_str() {
            "bool" | "boolean" => KqlType::Bool,
            "int" | "int32" => KqlType::Int,
            "long" | "int64" => KqlType::Long,
            "real" | "double" | "float" => KqlType::Real,
            "decimal" => KqlType::Decimal,
            "string" => KqlType::String,
            "datetime" | "date" => KqlType::DateTime,
            "timespan" | "time" => KqlType::TimeSpan,
            "guid" | "uniqueid" => KqlType::Guid,
            "dynamic" => KqlType::Dynamic,
            _ => return None,
        })
    }

    /// The .NET type name used by the Defender API `Schema` section.
    pub fn dotnet_name(self) -> &'static str {
        match self {
            KqlType::Bool => "Boolean",
            KqlType::Int => "Int32",
            KqlType::Long => "Int64",
            KqlType::Real => "Double",
            KqlType::Decimal => "Decimal",
            KqlType::String => "String",
            KqlType::DateTime => "DateTime",
            KqlType::TimeSpan => "TimeSpan",
            KqlType::Guid => "Guid",
            KqlType::Dynamic => "Object",
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            KqlType::Int | KqlType::Long | KqlType::Real | KqlType::Decimal
        )
    }

    pub fn is_integer(self) -> bool {
        matches!(self, KqlType::Int | KqlType::Long)
    }
}

impl std::fmt::Display for KqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
