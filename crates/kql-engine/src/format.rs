//! Arrow values under the KQL type mapping, rendered as text and JSON.
