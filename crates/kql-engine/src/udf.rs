//! Engine-internal UDFs: turning `dynamic` (JSON text) into Arrow lists for `mv-expand`.

use datafusion::arrow::array::{Array, ArrayRef, Int64Builder, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::{Arc, LazyLock};

/// Elements of a dynamic value for `mv-expand`: an array's elements, a bag's
/// `{key: value}` pairs, a scalar as itself; null and empty give no rows.
fn elements(text: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => items.into_iter().map(|v| v.to_string()).collect(),
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let mut m = serde_json::Map::new();
                m.insert(k, v);
                serde_json::Value::Object(m).to_string()
            })
            .collect(),
        Ok(serde_json::Value::Null) => Vec::new(),
        Ok(v) => vec![v.to_string()],
        Err(_) => vec![serde_json::Value::String(text.to_string()).to_string()],
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DynamicToList {
    signature: Signature,
    indices: bool,
}

impl ScalarUDFImpl for DynamicToList {
    fn name(&self) -> &str {
        if self.indices {
            "kql_dynamic_indices"
        } else {
            "kql_dynamic_to_list"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.indices {
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true)))
        } else {
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("{} needs one argument", self.name());
        };
        let array = arg.to_array(args.number_rows)?;
        let Some(strings) = array.as_any().downcast_ref::<StringArray>() else {
            return exec_err!("{} expects dynamic (text) input", self.name());
        };
        let out: ArrayRef = if self.indices {
            let mut b = ListBuilder::new(Int64Builder::new());
            for i in 0..strings.len() {
                if strings.is_valid(i) {
                    let n = elements(strings.value(i)).len();
                    for k in 0..n {
                        b.values().append_value(k as i64);
                    }
                }
                b.append(true);
            }
            Arc::new(b.finish())
        } else {
            let mut b = ListBuilder::new(StringBuilder::new());
            for i in 0..strings.len() {
                if strings.is_valid(i) {
                    for e in elements(strings.value(i)) {
                        if e == "null" {
                            b.values().append_null();
                        } else {
                            b.values().append_value(e);
                        }
                    }
                }
                b.append(true);
            }
            Arc::new(b.finish())
        };
        Ok(ColumnarValue::Array(out))
    }
}

static TO_LIST: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(DynamicToList {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        indices: false,
    }))
});

static INDICES: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::new_from_impl(DynamicToList {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        indices: true,
    }))
});

pub fn dynamic_to_list(e: Expr) -> Expr {
    TO_LIST.call(vec![e])
}

pub fn dynamic_indices(e: Expr) -> Expr {
    INDICES.call(vec![e])
}
