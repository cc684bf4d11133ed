//! `run.json`: the config a run began with (and the device it ran on). A resume compares the
//! current config with it key by key: any change is refused, naming the key, except `epochs`,
//! which may grow (the run then continues to the new count). The hash of the identity without
//! `epochs` ties each checkpoint's manifest to its run.

use serde::Serialize;
use serde_json::Value;

use crate::config::{DeviceChoice, RunConfig};
use crate::manifest::config_hash;

#[derive(Serialize)]
struct RunIdentity<'a> {
    config: &'a RunConfig,
    device: DeviceChoice,
}

/// The identity of a run of `cfg` on `device`, as JSON, and `run.json`'s bytes (fields in
/// the config's order).
pub fn identity(cfg: &RunConfig, device: DeviceChoice) -> Result<(Value, Vec<u8>), String> {
    let id = RunIdentity { config: cfg, device };
    let bytes = serde_json::to_vec_pretty(&id).map_err(|e| e.to_string())?;
    Ok((serde_json::to_value(id).map_err(|e| e.to_string())?, bytes))
}

/// The hash a checkpoint's manifest records: `epochs` left out, so that raising it keeps the
/// run's checkpoints valid.
pub fn hash(identity: &Value) -> String {
    let mut v = identity.clone();
    if let Some(c) = v.get_mut("config").and_then(Value::as_object_mut) {
        c.remove("epochs");
    }
    config_hash(&serde_json::to_vec(&v).unwrap_or_default())
}

fn epochs(identity: &Value) -> Option<u64> {
    identity.get("config").and_then(|c| c.get("epochs")).and_then(Value::as_u64)
}

/// Why the current identity `now` cannot continue the run that began as `saved`, naming the
/// first key that changed ("\[optimizer\] lr changed from 0.1 to 0.2 since this run began").
/// `Ok(Some((old, new)))` when only `epochs` grew.
pub fn compare(saved: &Value, now: &Value) -> Result<Option<(u64, u64)>, String> {
    let (old, new) = (epochs(saved), epochs(now));
    if let Some(key) = first_difference(saved, now, &mut Vec::new()) {
        let (a, b) = (lookup(saved, &key), lookup(now, &key));
        return Err(format!("{} changed from {} to {} since this run began; resume needs the config it began with", name(&key), show(a), show(b)));
    }
    match (old, new) {
        (Some(o), Some(n)) if n < o => Err(format!("epochs changed from {o} to {n} since this run began; it may only grow")),
        (Some(o), Some(n)) if n > o => Ok(Some((o, n))),
        _ => Ok(None),
    }
}

/// The path of the first key (in sorted order) whose value differs, `config.epochs` excepted.
fn first_difference(a: &Value, b: &Value, path: &mut Vec<String>) -> Option<Vec<String>> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                if path.len() == 1 && path[0] == "config" && k == "epochs" {
                    continue;
                }
                path.push(k.clone());
                let found = match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, path),
                    _ => Some(path.clone()),
                };
                path.pop();
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x.iter().zip(y).enumerate().find_map(|(i, (p, q))| {
            path.push(i.to_string());
            let found = first_difference(p, q, path);
            path.pop();
            found
        }),
        _ => (a != b).then(|| path.clone()),
    }
}

fn lookup<'a>(v: &'a Value, key: &[String]) -> Option<&'a Value> {
    key.iter().try_fold(v, |v, k| match v {
        Value::Object(m) => m.get(k),
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".into(),
        Some(v) => v.to_string(),
    }
}

/// The key as the config spells it: `[optimizer] lr`, `seed`, `[optimizer] groups[0].lr`.
fn name(key: &[String]) -> String {
    let part = |parts: &[String]| {
        parts.iter().fold(String::new(), |s, p| match p.parse::<usize>() {
            Ok(i) => format!("{s}[{i}]"),
            Err(_) if s.is_empty() => p.clone(),
            Err(_) => format!("{s}.{p}"),
        })
    };
    match key {
        [top] if top == "device" => "the device (config `device` or --device)".into(),
        [c, k] if c == "config" => k.clone(),
        [c, section, rest @ ..] if c == "config" => format!("[{section}] {}", part(rest)),
        other => part(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_changed_key_and_lets_epochs_grow() {
        let a = json!({"config": {"epochs": 5, "seed": 1, "optimizer": {"kind": "sgd", "lr": 0.1}}, "device": "cpu"});
        let lr = json!({"config": {"epochs": 5, "seed": 1, "optimizer": {"kind": "sgd", "lr": 0.2}}, "device": "cpu"});
        assert_eq!(compare(&a, &lr).unwrap_err(), "[optimizer] lr changed from 0.1 to 0.2 since this run began; resume needs the config it began with");
        let seed = json!({"config": {"epochs": 9, "seed": 2, "optimizer": {"kind": "sgd", "lr": 0.1}}, "device": "cpu"});
        assert!(compare(&a, &seed).unwrap_err().starts_with("seed changed from 1 to 2"));
        let more = json!({"config": {"epochs": 9, "seed": 1, "optimizer": {"kind": "sgd", "lr": 0.1}}, "device": "cpu"});
        assert_eq!(compare(&a, &more), Ok(Some((5, 9))));
        assert_eq!(hash(&a), hash(&more));
        assert_ne!(hash(&a), hash(&lr));
        assert!(compare(&more, &a).unwrap_err().starts_with("epochs changed from 9 to 5"));
        let groups = json!({"config": {"epochs": 5, "seed": 1, "optimizer": {"kind": "sgd", "lr": 0.1, "groups": [{"lr": 1}]}}, "device": "cpu"});
        assert!(compare(&a, &groups).unwrap_err().starts_with("[optimizer] groups changed from (unset) to [{\"lr\":1}]"));
        assert_eq!(compare(&a, &a), Ok(None));
    }
}
