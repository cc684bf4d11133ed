//! Config errors on one line, with the line at fault: toml's own errors condensed, and the
//! checks serde can't report well (a section given as a plain value; the keys of the
//! `kind`-tagged sections, which lose toml's line numbers inside serde's tagged enums).

use descent_model::Activation;
use descent_optim::schedule::SchedulerConfig;
use descent_optim::OptimizerConfig;

use super::optimizer::OPTIMIZER_EXTRAS;
use super::{DType, DeviceChoice, Interval, LossKind, ModelKind, Monitor};

/// toml's errors come as a multi-line snippet; keep the location and the message on one line.
pub(super) fn one_line(e: &toml::de::Error, text: &str) -> String {
    let mut msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            // An enum key given a number or a bool: toml only says "wanted string or table";
            // name the accepted values.
            if msg.starts_with("wanted string") {
                let key = snippet.split('=').next().unwrap_or("").trim().trim_matches('"');
                if let Some(c) = choices(section_at(text, span.start).as_deref(), key) {
                    msg = format!("{key} must be one of {c}");
                }
            }
            format!("line {line}: {msg} (in `{snippet}`)")
        }
        None => msg,
    }
}

/// The accepted values of an enum-valued key, read off the type itself (serde lists its
/// variants when it meets an unknown one), so the list can't drift from the code.
fn choices(section: Option<&str>, key: &str) -> Option<String> {
    use serde::de::IntoDeserializer;
    fn variants<T: serde::de::DeserializeOwned>() -> Option<String> {
        let probe: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = "\u{0}".into_deserializer();
        let e = T::deserialize(probe).err()?.to_string();
        e.split_once("expected one of ").map(|(_, v)| v.to_string()).or_else(|| e.split_once("expected ").map(|(_, v)| v.to_string()))
    }
    match (section, key) {
        (None, "dtype") => variants::<DType>(),
        (None, "device") => variants::<DeviceChoice>(),
        (Some("model"), "kind") => variants::<ModelKind>(),
        (Some("model"), "activation") => variants::<Activation>(),
        (Some("batching"), "mode") => variants::<crate::batching::Mode>(),
        (Some("loss"), "kind") => variants::<LossKind>(),
        (Some("early_stopping"), "monitor") => variants::<Monitor>(),
        (Some("scheduler"), "interval") => variants::<Interval>(),
        (Some("averaging"), "kind") => variants::<super::AveragingKind>(),
        (Some("averaging"), "every") => variants::<super::AveragingEvery>(),
        _ => None,
    }
}

/// 1-based line of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The `[table]` whose header comes last before byte `offset`; `None` at the top level.
/// (`[[array]]` headers don't count: their keys belong to the table above them.)
fn section_at(text: &str, offset: usize) -> Option<String> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let headers = doc.as_table().iter().filter_map(|(name, item)| Some((item.as_table()?.span()?.start, name)));
    headers.filter(|&(start, _)| start <= offset).max_by_key(|&(start, _)| start).map(|(_, name)| name.to_string())
}

/// 1-based line where `key` is set: inside `[section]`, or at the top level when `section`
/// is `None`. Falls back to the section's header line.
fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let table = match section {
        None => doc.as_table(),
        Some(s) => doc.get(s)?.as_table()?,
    };
    let at = table.key(key).and_then(|k| k.span()).or_else(|| section.and(table.span()))?;
    Some(line_of(text, at.start))
}

/// The sections that must be tables.
const SECTIONS: [&str; 9] =
    ["model", "data", "batching", "loss", "optimizer", "scheduler", "checkpoint", "early_stopping", "averaging"];

/// Checks serde can't report well: a section given as a plain value, and the `kind`-tagged
/// sections, whose keys lose toml's line numbers inside serde's tagged enums. There each key
/// is tried alone with `kind` to find the one at fault, and its line is named.
pub(super) fn precheck(doc: &toml::Table, text: &str) -> Result<(), String> {
    for s in SECTIONS {
        if let Some(v) = doc.get(s) {
            if !v.is_table() {
                let line = key_line(text, None, s).map(|l| format!("line {l}: ")).unwrap_or_default();
                return Err(format!("{line}`{s}` must be a table (a [{s}] section), got a {}", v.type_str()));
            }
        }
    }
    if let Some(toml::Value::Table(t)) = doc.get("optimizer") {
        let mut t = t.clone();
        t.retain(|k, _| !OPTIMIZER_EXTRAS.contains(&k));
        tagged::<OptimizerConfig>("optimizer", &t, text)?;
    }
    if let Some(toml::Value::Table(t)) = doc.get("scheduler") {
        let mut t = t.clone();
        t.remove("interval");
        tagged::<SchedulerConfig>("scheduler", &t, text)?;
    }
    Ok(())
}

fn tagged<T: serde::de::DeserializeOwned>(section: &str, table: &toml::Table, text: &str) -> Result<(), String> {
    let parse = |t: toml::Table| T::deserialize(toml::Value::Table(t)).map(|_| ()).map_err(|e| e.message().trim().replace('\n', " "));
    let Err(whole) = parse(table.clone()) else { return Ok(()) };
    let at = |key: &str| key_line(text, Some(section), key).map(|l| format!("line {l}: ")).unwrap_or_default();
    let Some(kind) = table.get("kind") else {
        return Err(format!("{}[{section}] needs a `kind` ({whole})", at("kind")));
    };
    let mut only_kind = toml::Table::new();
    only_kind.insert("kind".into(), kind.clone());
    if let Err(e) = parse(only_kind.clone()).or_else(|e| if e.starts_with("missing field") { Ok(()) } else { Err(e) }) {
        let e = match kind {
            toml::Value::String(_) => e,
            other => {
                let mut probe = toml::Table::new();
                probe.insert("kind".into(), toml::Value::String("\u{0}".into()));
                let list = parse(probe).err().and_then(|p| p.split_once("expected one of ").map(|(_, v)| v.to_string()));
                format!("must be a string, one of {}, got a {}", list.unwrap_or_default(), other.type_str())
            }
        };
        return Err(format!("{}[{section}] kind: {e}", at("kind")));
    }
    for (key, value) in table.iter().filter(|(k, _)| k.as_str() != "kind") {
        let mut one = only_kind.clone();
        one.insert(key.clone(), value.clone());
        // A required key missing from the probe is not this key's fault.
        if let Err(e) = parse(one).or_else(|e| if e.starts_with("missing field") { Ok(()) } else { Err(e) }) {
            let e = if e.contains(&format!("`{key}`")) { e } else { format!("{key}: {e}") };
            return Err(format!("{}[{section}] {e}", at(key)));
        }
    }
    Err(format!("{}[{section}] {whole}", at("kind")))
}
