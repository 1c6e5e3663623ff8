//! A strict reading of a JSON value into a request type: a struct only from an object, and every
//! key of that object a field of the struct (unknown keys are collected with their paths).
//!
//! serde's derived structs also accept a sequence (fields by position) and ignore unknown keys;
//! for a client that means a typo or a shuffled array is silently stored. Doing it here, once,
//! covers every JSON route and every request type without an attribute to forget on each.

use std::cell::RefCell;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor};
use serde_json::{Error, Value};

pub struct Strict<'a> {
    pub value: Value,
    /// Where `value` sits in the body, as the errors name it: `traveller.name_zh`, `crossings[0]`.
    pub path: String,
    pub unknown: &'a RefCell<Vec<String>>,
}

pub fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'a> Strict<'a> {
    fn child(&self, value: Value, segment: &str, key: bool) -> Strict<'a> {
        let mut path = self.path.clone();
        if key {
            push_key(&mut path, segment);
        } else {
            path.push_str(segment);
        }
        Strict {
            value,
            path,
            unknown: self.unknown,
        }
    }

    fn visit_array<'de, V: Visitor<'de>>(self, items: Vec<Value>, visitor: V) -> Result<V::Value, Error> {
        let len = items.len();
        let mut seq = Seq {
            parent: self,
            items: items.into_iter(),
            index: 0,
        };
        let out = visitor.visit_seq(&mut seq)?;
        if seq.items.len() == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(len, &"fewer elements in array"))
        }
    }

    fn visit_object<'de, V: Visitor<'de>>(
        self,
        map: serde_json::Map<String, Value>,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut entries = Vec::with_capacity(map.len());
        for (k, v) in map {
            if let Some(fields) = fields
                && !fields.contains(&k.as_str())
            {
                let mut path = self.path.clone();
                push_key(&mut path, &k);
                self.unknown.borrow_mut().push(path);
                continue;
            }
            entries.push((k, v));
        }
        visitor.visit_map(Map {
            parent: self,
            entries: entries.into_iter(),
            pending: None,
        })
    }
}

macro_rules! delegate {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                de::Deserializer::$method(self.value, visitor)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Strict<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Array(items) => {
                let parent = Strict {
                    value: Value::Null,
                    ..self
                };
                parent.visit_array(items, visitor)
            }
            Value::Object(map) => {
                let parent = Strict {
                    value: Value::Null,
                    ..self
                };
                parent.visit_object(map, None, visitor)
            }
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(map) => {
                let parent = Strict {
                    value: Value::Null,
                    ..self
                };
                parent.visit_object(map, Some(fields), visitor)
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &"an object")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &"an object")),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Array(_) => self.deserialize_any(visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &"an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Request enums are unit variants named by a string; serde_json's own reading is exact.
        de::Deserializer::deserialize_enum(self.value, name, variants, visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_unit_struct(self.value, name, visitor)
    }

    delegate! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_unit deserialize_identifier
        deserialize_ignored_any
    }
}

struct Seq<'a> {
    parent: Strict<'a>,
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let child = self.parent.child(value, &format!("[{}]", self.index), false);
        self.index += 1;
        seed.deserialize(child).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a> {
    parent: Strict<'a>,
    entries: std::vec::IntoIter<(String, Value)>,
    pending: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let out = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(key.clone()))?;
        self.pending = Some((key, value));
        Ok(Some(out))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("value asked for before its key"));
        };
        seed.deserialize(self.parent.child(value, &key, true))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<String>,
        b: Option<u32>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
        flag: Option<bool>,
    }

    fn read(v: Value) -> (Result<Outer, String>, Vec<String>) {
        let unknown = RefCell::new(Vec::new());
        let r = serde_path_to_error::deserialize::<_, Outer>(Strict {
            value: v,
            path: String::new(),
            unknown: &unknown,
        })
        .map_err(|e| e.path().to_string());
        (r, unknown.into_inner())
    }

    #[test]
    fn objects_read_as_serde_would() {
        let (r, unknown) = read(json!({"inner": {"a": "x", "b": 3}, "list": [{"a": null}], "flag": true}));
        assert_eq!(
            r,
            Ok(Outer {
                inner: Some(Inner {
                    a: Some("x".into()),
                    b: Some(3)
                }),
                list: Some(vec![Inner { a: None, b: None }]),
                flag: Some(true),
            })
        );
        assert!(unknown.is_empty());
    }

    #[test]
    fn unknown_keys_are_named_with_their_paths() {
        let (r, unknown) = read(json!({"inner": {"a": "x", "c": 1}, "list": [{}, {"bb": 2}], "flags": true}));
        assert!(r.is_ok());
        assert_eq!(unknown, ["flags", "inner.c", "list[1].bb"]);
    }

    #[test]
    fn an_array_is_not_an_object() {
        let (r, _) = read(json!({"inner": ["x", 3]}));
        assert_eq!(r, Err("inner".to_string()));
        let (r, _) = read(json!({"list": [{"a": "x"}, ["y", 1]]}));
        assert_eq!(r, Err("list[1]".to_string()));
        let (r, _) = read(json!(["x", null, null]));
        assert!(r.is_err());
        let (r, _) = read(json!({"list": {"a": "x"}}));
        assert_eq!(r, Err("list".to_string()));
    }
}
