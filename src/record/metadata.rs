//! Metadata: an application's own JSON object on a token (a plan, a
//! customer id, a rate tier), returned with every verdict.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::RecordError;

/// A JSON object of at most [`Metadata::MAX_BYTES`] bytes, serialised.
///
/// ```
/// use tokenkeep::record::Metadata;
/// let metadata = Metadata::parse(r#"{"plan": "pro", "customer": 42}"#)?;
/// assert_eq!(metadata.get("plan").and_then(|plan| plan.as_str()), Some("pro"));
/// assert!(Metadata::parse("[1, 2]").is_err(), "an object, not an array");
/// # Ok::<(), tokenkeep::record::RecordError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
// Boxed: most tokens carry none, and `Option<Metadata>` is then one
// pointer in every record instead of the map's 32 bytes.
pub struct Metadata(Box<Map<String, Value>>);

impl Metadata {
    /// The largest metadata, serialised.
    pub const MAX_BYTES: usize = 4096;

    /// Checks an object: at most [`MAX_BYTES`](Self::MAX_BYTES) serialised.
    ///
    /// # Errors
    /// [`RecordError::Metadata`].
    pub fn new(object: Map<String, Value>) -> Result<Self, RecordError> {
        let size = serde_json::to_vec(&object).map_err(|_| RecordError::Metadata)?.len();
        if size > Self::MAX_BYTES {
            return Err(RecordError::Metadata);
        }
        Ok(Self(Box::new(object)))
    }

    /// Parses JSON text that must be an object.
    ///
    /// # Errors
    /// [`RecordError::Metadata`] for anything else, or too large.
    pub fn parse(text: &str) -> Result<Self, RecordError> {
        if text.len() > Self::MAX_BYTES * 2 {
            return Err(RecordError::Metadata);
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(object)) => Self::new(object),
            _ => Err(RecordError::Metadata),
        }
    }

    /// One field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The object as compact JSON text (how the SQL stores keep it).
    pub fn to_json(&self) -> String {
        Value::Object(Map::clone(&self.0)).to_string()
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The application's own data, never a secret of this crate's.
        write!(f, "Metadata({})", self.to_json())
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = Map::<String, Value>::deserialize(deserializer)?;
        Self::new(object).map_err(serde::de::Error::custom)
    }
}
