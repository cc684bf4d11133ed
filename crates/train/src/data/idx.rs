//! MNIST's IDX format (also Fashion-MNIST, EMNIST, KMNIST): a big-endian header — two zero
//! bytes, a type byte (`0x08` = unsigned byte, the only type these datasets use), the number
//! of dimensions — then each dimension as a big-endian u32, then the values row-major. Files
//! may be gzip-compressed (detected from the content, not the name).
//!
//! `[data] kind = "idx"` reads an images file `[N, H, W]` and a labels file `[N]` into a
//! [`Table`] whose features are the `H·W` pixels scaled to `[0, 1]` (divided by 255) and whose
//! target is the label.

use std::io::Read;
use std::path::Path;

use super::{err, Table};
use crate::error::TrainError;

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads `path` (raw or gzip).
pub fn read_idx(path: &Path) -> Result<IdxArray, TrainError> {
    let raw = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    decode_idx(&raw, path)
}

/// A file's bytes, raw or gzip, as an IDX array; `path` only names the file in errors.
pub fn decode_idx(raw: &[u8], path: &Path) -> Result<IdxArray, TrainError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return parse_idx(raw, path);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(raw)
        .read_to_end(&mut out)
        .map_err(|e| err(path, format!("gzip data is corrupt or truncated ({e})")))?;
    parse_idx(&out, path)
}

/// Parses IDX bytes (already decompressed); `path` only names the file in errors.
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, TrainError> {
    if bytes.len() < 4 {
        return Err(err(path, format!("not an IDX file: {} bytes, shorter than the 4-byte magic number", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(err(
            path,
            format!(
                "not an IDX file: magic number {:02x} {:02x} {:02x} {:02x} does not start with two zero bytes",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(err(
            path,
            format!("IDX value type 0x{:02x} is not supported; expected 0x08 (unsigned bytes, as MNIST uses)", bytes[2]),
        ));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 {
        return Err(err(path, "IDX header declares 0 dimensions"));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(err(path, format!("truncated IDX header: {ndims} dimensions need {header} bytes, the file has {}", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|d| u32::from_be_bytes([bytes[4 + 4 * d], bytes[5 + 4 * d], bytes[6 + 4 * d], bytes[7 + 4 * d]]) as usize)
        .collect();
    let want = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| err(path, format!("IDX dimensions {dims:?} overflow")))?;
    let have = bytes.len() - header;
    if have < want {
        return Err(err(path, format!("truncated IDX data: dimensions {dims:?} need {want} bytes after the header, the file has {have}")));
    }
    if have > want {
        return Err(err(path, format!("IDX file has {} bytes of trailing data after the {want} its dimensions {dims:?} describe", have - want)));
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

/// Writes an unsigned-byte IDX file, gzip-compressed when `gzip`.
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut bytes = vec![0u8, 0, 0x08, dims.len() as u8];
    for &d in dims {
        bytes.extend_from_slice(&(d as u32).to_be_bytes());
    }
    bytes.extend_from_slice(data);
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&bytes)?;
        bytes = enc.finish()?;
    }
    std::fs::write(path, bytes)
}

/// Images `[N, H, W]` and labels `[N]` → a table of `H·W` pixels in `[0, 1]` and a `label`
/// target. Returns the image size too.
pub fn load_idx(images: &Path, labels: &Path) -> Result<(Table, [usize; 2]), TrainError> {
    idx_table(read_idx(images)?, read_idx(labels)?, images, labels)
}

/// Decoded images `im` and labels `lb` → the table and image size of [`load_idx`]; the paths
/// only name the files in errors.
pub fn idx_table(im: IdxArray, lb: IdxArray, images: &Path, labels: &Path) -> Result<(Table, [usize; 2]), TrainError> {
    if im.dims.len() != 3 {
        return Err(err(images, format!("expected images with 3 dimensions [N, height, width], found {:?}", im.dims)));
    }
    if lb.dims.len() != 1 {
        return Err(err(labels, format!("expected labels with 1 dimension [N], found {:?}", lb.dims)));
    }
    let (n, h, w) = (im.dims[0], im.dims[1], im.dims[2]);
    if lb.dims[0] != n {
        return Err(err(labels, format!("{} labels, but {} holds {n} images", lb.dims[0], images.display())));
    }
    if n == 0 {
        return Err(err(images, "the file holds 0 images"));
    }
    let table = Table {
        feature_names: (0..h * w).map(|i| format!("px{i}")).collect(),
        target_names: vec!["label".into()],
        features: im.data.iter().map(|&v| v as f64 / 255.0).collect(),
        targets: lb.data.iter().map(|&v| v as f64).collect(),
        rows: n,
        // "line" = 1-based record number in IDX files.
        lines: (1..=n).collect(),
    };
    Ok((table, [h, w]))
}
