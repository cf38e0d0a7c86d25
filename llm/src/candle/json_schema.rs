//! The subset of JSON Schema the decoder understands: compiled into a
//! [`Grammar`] that steers generation, and checked again on the final answer.
//!
//! Constrained: `type` (object, array, string, number, integer, boolean,
//! null), `properties` + `required` (declared properties only, in any order,
//! each at most once, required ones before the object closes), `items`,
//! `minItems`/`maxItems`, `minLength`/`maxLength`, `enum`, `const`.
//! Anything else (`anyOf`, type lists, `$ref`, …) is generated as free JSON
//! and left to [`validate`].

use serde_json::{Map, Value};

/// Index of a node in [`Grammar::nodes`].
pub(crate) type NodeId = u32;

/// Enum values, or property names competing for one key, are tracked in a
/// 64-bit set.
pub(crate) const MAX_CHOICES: usize = 64;
const MAX_DEPTH: usize = 16;

/// One schema, compiled.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Any JSON value.
    Any,
    /// An object with known properties.
    Object(Vec<Property>),
    /// An object with any keys and values.
    AnyObject,
    /// An array of `items`.
    Array {
        items: NodeId,
        min: u32,
        max: Option<u32>,
    },
    /// A string of `min..=max` characters.
    String { min: u32, max: Option<u32> },
    /// A number (`integer`: no fraction or exponent).
    Number { integer: bool },
    /// One of these serialised JSON values (enum, const, booleans, null).
    Literal(Vec<Vec<u8>>),
}

/// A property of an [`Node::Object`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    /// The key as JSON, quotes included (`"rationale"`).
    pub(crate) key: Vec<u8>,
    pub(crate) value: NodeId,
    pub(crate) required: bool,
}

/// A compiled schema whose root is an object.
#[derive(Debug, Clone)]
pub(crate) struct Grammar {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: NodeId,
}

/// Nodes every grammar has, for the parts of free JSON.
pub(crate) const ANY: NodeId = 0;
pub(crate) const ANY_OBJECT: NodeId = 1;
pub(crate) const ANY_ARRAY: NodeId = 2;
pub(crate) const ANY_STRING: NodeId = 3;
pub(crate) const ANY_NUMBER: NodeId = 4;
pub(crate) const ANY_KEYWORD: NodeId = 5;

impl Grammar {
    /// Compiles `schema`; a root that is not an object schema becomes "any object".
    pub(crate) fn compile(schema: &Value) -> Self {
        let mut grammar = Self {
            nodes: vec![
                Node::Any,
                Node::AnyObject,
                Node::Array {
                    items: ANY,
                    min: 0,
                    max: None,
                },
                Node::String { min: 0, max: None },
                Node::Number { integer: false },
                Node::Literal(vec![b"true".to_vec(), b"false".to_vec(), b"null".to_vec()]),
            ],
            root: ANY_OBJECT,
        };
        let root = grammar.add(schema, 0);
        if matches!(grammar.node(root), Node::Object(_) | Node::AnyObject) {
            grammar.root = root;
        }
        grammar
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(id as usize).unwrap_or(&Node::Any)
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId::try_from(self.nodes.len() - 1).unwrap_or(ANY)
    }

    fn add(&mut self, schema: &Value, depth: usize) -> NodeId {
        let Some(schema) = schema.as_object() else {
            return ANY;
        };
        if depth > MAX_DEPTH {
            return ANY;
        }
        if let Some(value) = schema.get("const") {
            return self.push(Node::Literal(vec![serialised(value)]));
        }
        if let Some(Value::Array(values)) = schema.get("enum")
            && (1..=MAX_CHOICES).contains(&values.len())
        {
            let mut options: Vec<Vec<u8>> = Vec::new();
            for option in values.iter().map(serialised) {
                if !options.contains(&option) {
                    options.push(option);
                }
            }
            return self.push(Node::Literal(options));
        }
        let kind = match schema.get("type") {
            Some(Value::String(kind)) => Some(kind.as_str()),
            Some(_) => None,
            None if schema.contains_key("properties") => Some("object"),
            None if schema.contains_key("items") => Some("array"),
            None => None,
        };
        match kind {
            Some("object") => self.add_object(schema, depth),
            Some("array") => {
                let items = schema
                    .get("items")
                    .map_or(ANY, |items| self.add(items, depth + 1));
                let min = count(schema, "minItems").unwrap_or(0);
                let max = count(schema, "maxItems");
                self.push(Node::Array { items, min, max })
            }
            Some("string") => {
                let min = count(schema, "minLength").unwrap_or(0);
                let max = count(schema, "maxLength");
                self.push(Node::String { min, max })
            }
            Some("integer") => self.push(Node::Number { integer: true }),
            Some("number") => ANY_NUMBER,
            Some("boolean") => self.push(Node::Literal(vec![b"true".to_vec(), b"false".to_vec()])),
            Some("null") => self.push(Node::Literal(vec![b"null".to_vec()])),
            _ => ANY,
        }
    }

    fn add_object(&mut self, schema: &Map<String, Value>, depth: usize) -> NodeId {
        let required: Vec<&str> = match schema.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut properties = Vec::new();
        if let Some(Value::Object(declared)) = schema.get("properties") {
            for (name, property) in declared {
                let value = self.add(property, depth + 1);
                properties.push(Property {
                    key: serialised(&Value::String(name.clone())),
                    value,
                    required: required.contains(&name.as_str()),
                });
            }
        }
        // A required name without a declared schema still has to be written.
        for name in required {
            let key = serialised(&Value::String(name.to_owned()));
            if !properties.iter().any(|p| p.key == key) {
                properties.push(Property {
                    key,
                    value: ANY,
                    required: true,
                });
            }
        }
        if properties.is_empty() || properties.len() > MAX_CHOICES {
            return ANY_OBJECT;
        }
        self.push(Node::Object(properties))
    }
}

fn serialised(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn count(schema: &Map<String, Value>, key: &str) -> Option<u32> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// Checks `value` against `schema`; the error names the first offending path.
///
/// Understands `type` (also as a list), `enum`, `const`, `properties`,
/// `required`, `additionalProperties: false`, `items`, `minItems`,
/// `maxItems`, `minLength`, `maxLength`, `minimum`, `maximum`, `anyOf`,
/// `oneOf` and `allOf`.
pub(crate) fn validate(value: &Value, schema: &Value) -> Result<(), String> {
    check(value, schema, "$")
}

fn check(value: &Value, schema: &Value, path: &str) -> Result<(), String> {
    let Some(schema) = schema.as_object() else {
        return match schema {
            Value::Bool(false) => Err(format!("{path}: no value is allowed here")),
            _ => Ok(()),
        };
    };
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        return Err(format!("{path}: must be {expected}"));
    }
    // An enum longer than the decoder can enforce (MAX_CHOICES) is decoded
    // as a plain string and left to the caller's parser (which drops unknown
    // values): rejecting the whole answer for one stray value would throw
    // away the valid parts (e.g. 100 concept ids in an extraction).
    if let Some(Value::Array(options)) = schema.get("enum")
        && options.len() <= MAX_CHOICES
        && !options.contains(value)
    {
        return Err(format!("{path}: not one of the allowed values"));
    }
    match schema.get("type") {
        Some(Value::String(kind)) if !has_type(value, kind) => {
            return Err(format!("{path}: expected {kind}"));
        }
        Some(Value::Array(kinds))
            if !kinds
                .iter()
                .filter_map(Value::as_str)
                .any(|k| has_type(value, k)) =>
        {
            return Err(format!("{path}: none of the allowed types"));
        }
        _ => {}
    }
    match value {
        Value::Object(object) => check_object(object, schema, path)?,
        Value::Array(items) => {
            if let Some(min) = count(schema, "minItems")
                && items.len() < min as usize
            {
                return Err(format!("{path}: fewer than {min} items"));
            }
            if let Some(max) = count(schema, "maxItems")
                && items.len() > max as usize
            {
                return Err(format!("{path}: more than {max} items"));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(item, item_schema, &format!("{path}[{i}]"))?;
                }
            }
        }
        Value::String(text) => {
            let chars = text.chars().count();
            if let Some(min) = count(schema, "minLength")
                && chars < min as usize
            {
                return Err(format!("{path}: shorter than {min} characters"));
            }
            if let Some(max) = count(schema, "maxLength")
                && chars > max as usize
            {
                return Err(format!("{path}: longer than {max} characters"));
            }
        }
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                return Err(format!("{path}: below {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                return Err(format!("{path}: above {max}"));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
    if let Some(Value::Array(all)) = schema.get("allOf") {
        for sub in all {
            check(value, sub, path)?;
        }
    }
    if let Some(Value::Array(any)) = schema.get("anyOf")
        && !any.iter().any(|sub| check(value, sub, path).is_ok())
    {
        return Err(format!("{path}: matches none of anyOf"));
    }
    if let Some(Value::Array(one)) = schema.get("oneOf")
        && one
            .iter()
            .filter(|sub| check(value, sub, path).is_ok())
            .count()
            != 1
    {
        return Err(format!("{path}: does not match exactly one of oneOf"));
    }
    Ok(())
}

fn check_object(
    object: &Map<String, Value>,
    schema: &Map<String, Value>,
    path: &str,
) -> Result<(), String> {
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{path}: missing required property `{name}`"));
            }
        }
    }
    let declared = match schema.get("properties") {
        Some(Value::Object(declared)) => Some(declared),
        _ => None,
    };
    for (name, field) in object {
        match declared.and_then(|d| d.get(name)) {
            Some(field_schema) => check(field, field_schema, &format!("{path}.{name}"))?,
            None => {
                if let Some(extra) = schema.get("additionalProperties") {
                    check(field, extra, &format!("{path}.{name}"))?;
                }
            }
        }
    }
    Ok(())
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn triage_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "disposition": {"type": "string", "enum": ["self_care", "routine", "urgent_24h"]},
                "rationale": {"type": "string"},
                "red_flags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1}
            },
            "required": ["disposition", "rationale"],
            "additionalProperties": false
        })
    }

    #[test]
    fn object_schemas_compile_to_properties_with_required_flags() {
        let grammar = Grammar::compile(&triage_schema());
        let Node::Object(properties) = grammar.node(grammar.root) else {
            panic!("root is not an object: {:?}", grammar.node(grammar.root));
        };
        let keys: Vec<&[u8]> = properties.iter().map(|p| &p.key[..]).collect();
        assert!(keys.contains(&&b"\"disposition\""[..]));
        let disposition = properties
            .iter()
            .find(|p| p.key == b"\"disposition\"")
            .unwrap();
        assert!(disposition.required);
        assert_eq!(
            grammar.node(disposition.value),
            &Node::Literal(vec![
                b"\"self_care\"".to_vec(),
                b"\"routine\"".to_vec(),
                b"\"urgent_24h\"".to_vec()
            ])
        );
    }

    #[test]
    fn non_object_roots_become_any_object() {
        assert_eq!(
            Grammar::compile(&json!({"type": "string"})).root,
            ANY_OBJECT
        );
        assert_eq!(Grammar::compile(&json!(true)).root, ANY_OBJECT);
    }

    #[test]
    fn validation_reports_the_first_problem() {
        let schema = triage_schema();
        assert!(
            validate(
                &json!({"disposition": "routine", "rationale": "ok"}),
                &schema
            )
            .is_ok()
        );
        let missing = validate(&json!({"disposition": "routine"}), &schema).unwrap_err();
        assert!(missing.contains("rationale"), "{missing}");
        let wrong_enum =
            validate(&json!({"disposition": "later", "rationale": ""}), &schema).unwrap_err();
        assert!(wrong_enum.contains("$.disposition"), "{wrong_enum}");
        let wrong_type = validate(&json!({"disposition": "routine", "rationale": 3}), &schema);
        assert!(wrong_type.is_err());
        let extra = validate(
            &json!({"disposition": "routine", "rationale": "", "other": 1}),
            &schema,
        );
        assert!(extra.is_err());
        let too_many = validate(
            &json!({"disposition": "routine", "rationale": "", "red_flags": ["a", "b", "c", "d"]}),
            &schema,
        );
        assert!(too_many.is_err());
        let out_of_range = validate(
            &json!({"disposition": "routine", "rationale": "", "confidence": 2}),
            &schema,
        );
        assert!(out_of_range.is_err());
    }
}
