//! PATCH semantics: an absent field is left alone, `null` clears it, a value sets it.
//! Use on `Option<Option<T>>` fields with `#[serde(default, deserialize_with = "patch::field")]`.

use serde::{Deserialize, Deserializer};

pub fn field<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}
