//! A checkpoint's manifest (`manifest.json`): each file's size and CRC32C, the descent version
//! that wrote it and a hash of the run config it belongs to. Written last, so a checkpoint
//! without one is incomplete; checked before any byte of the checkpoint is used.
//!
//! CRC32C is the Castagnoli CRC (reflected polynomial `0x82F63B78`, initial value and final
//! XOR `0xFFFFFFFF`; `crc32c(b"123456789") = 0xE3069283`), the checksum of iSCSI, ext4 and
//! Btrfs: any flipped bit, and any burst of up to 32, changes it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The manifest's file name inside a checkpoint folder.
pub const MANIFEST: &str = "manifest.json";

/// One file of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub size: u64,
    /// Eight lowercase hex digits.
    pub crc32c: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub descent_version: String,
    /// CRC32C of the run's identity (`run.json` without `epochs`), as [`config_hash`] gives it.
    pub config_hash: String,
    pub files: Vec<FileEntry>,
}

/// A checkpoint's files, read once and checked against its manifest: what a resume loads.
pub type VerifiedFiles = BTreeMap<String, Vec<u8>>;

fn hex(crc: u32) -> String {
    format!("{crc:08x}")
}

/// The hash a manifest records for the run identity `identity` (canonical JSON bytes).
pub fn config_hash(identity: &[u8]) -> String {
    hex(crc32c::crc32c(identity))
}

impl Manifest {
    /// The manifest of `files` (name, bytes) for the run whose identity hashes to `config_hash`.
    pub fn of(files: &[(&str, &[u8])], config_hash: &str) -> Self {
        let files = files
            .iter()
            .map(|(name, bytes)| FileEntry { name: name.to_string(), size: bytes.len() as u64, crc32c: hex(crc32c::crc32c(bytes)) })
            .collect();
        Self { descent_version: env!("CARGO_PKG_VERSION").to_string(), config_hash: config_hash.to_string(), files }
    }
}

/// Reads checkpoint `dir`'s manifest and every file it lists, and checks sizes, checksums and
/// the config hash. The error is one short phrase naming the file and what is wrong with it.
pub fn verify(dir: &Path, config_hash: &str) -> Result<VerifiedFiles, String> {
    let text = std::fs::read(dir.join(MANIFEST)).map_err(|e| format!("{MANIFEST}: cannot read ({e}): the checkpoint is incomplete"))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| format!("{MANIFEST}: damaged ({e})"))?;
    if manifest.config_hash != config_hash {
        return Err(format!(
            "{MANIFEST}: written for another config (hash {}, this run's is {config_hash})",
            manifest.config_hash
        ));
    }
    let mut files = VerifiedFiles::new();
    for entry in &manifest.files {
        let bytes = std::fs::read(dir.join(&entry.name)).map_err(|e| format!("{}: cannot read ({e})", entry.name))?;
        if bytes.len() as u64 != entry.size {
            return Err(format!("{}: {} bytes, the manifest says {}", entry.name, bytes.len(), entry.size));
        }
        let crc = hex(crc32c::crc32c(&bytes));
        if crc != entry.crc32c {
            return Err(format!("{}: CRC32C {crc}, the manifest says {} (the file is damaged)", entry.name, entry.crc32c));
        }
        files.insert(entry.name.clone(), bytes);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value_and_a_flipped_bit() {
        // The CRC catalogue's check value for CRC-32C (the CRC of the ASCII digits 1…9).
        assert_eq!(config_hash(b"123456789"), "e3069283");
        let dir = tempfile::tempdir().unwrap();
        let bytes = vec![7u8; 1000];
        std::fs::write(dir.path().join("a.bin"), &bytes).unwrap();
        let m = Manifest::of(&[("a.bin", &bytes)], "h");
        std::fs::write(dir.path().join(MANIFEST), serde_json::to_vec(&m).unwrap()).unwrap();
        assert_eq!(verify(dir.path(), "h").unwrap()["a.bin"], bytes);
        assert!(verify(dir.path(), "other").unwrap_err().contains("another config"));
        let mut flipped = bytes.clone();
        flipped[500] ^= 0x10;
        std::fs::write(dir.path().join("a.bin"), &flipped).unwrap();
        let e = verify(dir.path(), "h").unwrap_err();
        assert!(e.starts_with("a.bin: CRC32C ") && e.ends_with("(the file is damaged)"), "{e}");
        std::fs::write(dir.path().join("a.bin"), &bytes[..999]).unwrap();
        assert_eq!(verify(dir.path(), "h").unwrap_err(), "a.bin: 999 bytes, the manifest says 1000");
    }
}
