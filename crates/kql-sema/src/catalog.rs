//! The catalog: table schemas by name, as a synchronous snapshot the binder reads.

use kql_syntax::KqlType;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One column of a table schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSchema {
    pub name: String,
    pub ty: KqlType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnSchema>,
}

/// A built-in tabular function written in KQL (`FileProfile`, `DeviceFromIP`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinFunction {
    pub name: String,
    /// `let NAME = (params) { body };` text, parsed by the binder on demand.
    pub definition: String,
}

/// Table schemas by name (case-sensitive, as in Kusto).
pub trait Catalog: Send + Sync {
    fn table(&self, name: &str) -> Option<Arc<TableSchema>>;
    fn table_names(&self) -> Vec<String>;
    fn builtin_function(&self, _name: &str) -> Option<BuiltinFunction> {
        None
    }
    fn builtin_function_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// An in-memory catalog.
#[derive(Debug, Clone, Default)]
pub struct MemoryCatalog {
    tables: BTreeMap<String, Arc<TableSchema>>,
    functions: BTreeMap<String, BuiltinFunction>,
}

impl MemoryCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_table(&mut self, schema: TableSchema) {
        self.tables.insert(schema.name.clone(), Arc::new(schema));
    }

    pub fn add_function(&mut self, name: &str, definition: &str) {
        self.functions.insert(
            name.to_string(),
            BuiltinFunction {
                name: name.to_string(),
                definition: definition.to_string(),
            },
        );
    }

    /// The 64 Advanced Hunting tables (exact column names and types) and the
    /// Defender built-in functions `FileProfile`, `SeenBy`, `AssignedIPAddresses`
    /// and `DeviceFromIP` with their documented output columns.
    pub fn defender() -> Self {
        let mut cat = MemoryCatalog::new();
        for t in defender_tables() {
            cat.add_table(t);
        }
        for (name, def) in DEFENDER_FUNCTIONS {
            cat.add_function(name, def);
        }
        cat
    }
}

impl Catalog for MemoryCatalog {
    fn table(&self, name: &str) -> Option<Arc<TableSchema>> {
        self.tables.get(name).cloned()
    }

    fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    fn builtin_function(&self, name: &str) -> Option<BuiltinFunction> {
        self.functions.get(name).cloned()
    }

    fn builtin_function_names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }
}

/// The table schema, compiled in (names and types of the Advanced Hunting tables).
const DEFENDER_TABLES_JSON: &str = include_str!("defender_tables.json");

/// Parses the compiled-in Advanced Hunting schema.
pub fn defender_tables() -> Vec<TableSchema> {
    #[derive(serde::Deserialize)]
    struct File {
        tables: Vec<Table>,
    }
    #[derive(serde::Deserialize)]
    struct Table {
        name: String,
        columns: Vec<(String, String)>,
    }
    let file: File = match serde_json::from_str(DEFENDER_TABLES_JSON) {
        Ok(f) => f,
        Err(_) => return Vec::new(),
    };
    file.tables
        .into_iter()
        .map(|t| TableSchema {
            name: t.name,
            columns: t
                .columns
                .into_iter()
                .map(|(name, ty)| ColumnSchema {
                    name,
                    ty: KqlType::from_name(&ty).unwrap_or(KqlType::String),
                })
                .collect(),
        })
        .collect()
}

/// Defender's built-in functions, as KQL. They return the documented columns; the
/// enrichment data behind them (file reputation, IP assignment history) is empty until
/// the event store provides it.
pub const DEFENDER_FUNCTIONS: &[(&str, &str)] = &[
    (
        "FileProfile",
        r#"(T:(*), x:string="SHA1", y:long=100) { T | extend SHA1="", SHA256="", MD5="", FileSize=int(null), GlobalPrevalence=int(null), GlobalFirstSeen=datetime(null), GlobalLastSeen=datetime(null), Signer="", Issuer="", SignerHash="", IsCertificateValid=bool(null), IsRootSignerMicrosoft=bool(null), SignatureState="", IsExecutable=bool(null), ThreatName="", Publisher="", SoftwareName="", ProfileAvailability="" }"#,
    ),
    (
        "SeenBy",
        r#"(T:(*), x:string="DeviceId") { T | extend SeenByDeviceId="" | project DeviceId=SeenByDeviceId }"#,
    ),
    (
        "AssignedIPAddresses",
        r#"(x:string, y:datetime=datetime(null)) { datatable(Timestamp:datetime, IPAddress:string, IPType:string, NetworkAdapterType:string, ConnectedNetworks:dynamic)[] }"#,
    ),
    (
        "DeviceFromIP",
        r#"(x:string, y:datetime=datetime(null)) { datatable(IP:string, DeviceId:string)[] }"#,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defender_catalog_has_all_tables_with_types() {
        let cat = MemoryCatalog::defender();
        assert_eq!(cat.table_names().len(), 64);
        let t = cat.table("DeviceProcessEvents").expect("table");
        let ts = t
            .columns
            .iter()
            .find(|c| c.name == "Timestamp")
            .expect("col");
        assert_eq!(ts.ty, KqlType::DateTime);
        assert!(cat.builtin_function("FileProfile").is_some());
    }
}
