//! Reading result files: one line per problem, naming the file (usage errors: exit status 2).

use std::fs;
use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::results::SCHEMA;
use crate::usage;

/// Read a result file into its contract type `T`, checking `schema` and, for a test's
/// file, `test`. None when the file does not exist.
pub fn result<T: DeserializeOwned>(path: &Path, test: Option<&str>) -> Result<Option<T>> {
    let Some(json) = value(path)? else {
        return Ok(None);
    };
    check_schema(path, &json, test)?;
    parse(path, json).map(Some)
}

/// The file as JSON; None when it does not exist.
pub fn value(path: &Path) -> Result<Option<Value>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => usage!("{}: cannot read: {e}", path.display()),
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_eof() => usage!(
            "{}: truncated JSON ({e}); the run was probably cut off while writing: rerun it or remove the directory",
            path.display()
        ),
        Err(e) => usage!("{}: not valid JSON ({e})", path.display()),
    }
}

pub fn check_schema(path: &Path, json: &Value, test: Option<&str>) -> Result<()> {
    if !json.is_object() {
        usage!("{}: expected a JSON object", path.display());
    }
    match json.get("schema") {
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(SCHEMA)) => {}
        Some(Value::Number(n)) => usage!(
            "{}: schema {n}, this rust-bench reads schema {SCHEMA}; use the rust-bench that wrote it",
            path.display()
        ),
        Some(_) => usage!("{}: \"schema\" is not a number", path.display()),
        None => usage!(
            "{}: no \"schema\" field; not a rust-bench results file",
            path.display()
        ),
    }
    if let Some(test) = test {
        match json.get("test").and_then(Value::as_str) {
            Some(t) if t == test => {}
            Some(t) => usage!(
                "{}: holds test \"{t}\", expected \"{test}\"",
                path.display()
            ),
            None => usage!("{}: no \"test\" field", path.display()),
        }
    }
    Ok(())
}

pub fn parse<T: DeserializeOwned>(path: &Path, json: Value) -> Result<T> {
    match serde_json::from_value(json) {
        Ok(t) => Ok(t),
        Err(e) => usage!(
            "{}: does not follow the results format: {e}",
            path.display()
        ),
    }
}
