//! Tabular data from CSV: a header row, then one sample per line. The `targets` columns are
//! what the model predicts; every other column is a feature. Values are parsed as f64 and
//! kept in f64 until they become tensors of the run's dtype.

use std::path::Path;

use super::{err, Table};
use crate::error::TrainError;

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

/// Reads `path` and splits its columns into features and `targets`.
pub fn load_csv(path: &Path, targets: &[String]) -> Result<Table, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
    parse_csv(&text, path, targets)
}

pub fn parse_csv(text: &str, path: &Path, targets: &[String]) -> Result<Table, TrainError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| err(path, "file is empty; expected a header row"))?;
    let header: Vec<String> = header.trim_start_matches('\u{feff}').split(',').map(|h| unquote(h).to_string()).collect();
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(err(path, format!("line 1: column {} has an empty name", i + 1)));
        }
        if header[..i].contains(h) {
            return Err(err(path, format!("line 1: column `{h}` appears twice")));
        }
    }
    if targets.is_empty() {
        return Err(err(path, "[data] targets is empty; name at least one target column"));
    }
    let mut target_idx = Vec::with_capacity(targets.len());
    for t in targets {
        let i = header.iter().position(|h| h == t).ok_or_else(|| {
            err(path, format!("target column `{t}` (from [data] targets) is not in the header: {}", header.join(",")))
        })?;
        target_idx.push(i);
    }
    let feature_idx: Vec<usize> = (0..header.len()).filter(|i| !target_idx.contains(i)).collect();
    if feature_idx.is_empty() {
        return Err(err(path, "every column is a target; at least one feature column is needed"));
    }

    let mut features = Vec::new();
    let mut target_vals = Vec::new();
    let mut row = Vec::with_capacity(header.len());
    let mut rows = 0;
    let mut lines_of_rows = Vec::new();
    for (lineno, line) in lines {
        let lineno = lineno + 1;
        row.clear();
        for (col, cell) in line.split(',').enumerate() {
            let cell = unquote(cell);
            let name = header.get(col).map(String::as_str).unwrap_or("?");
            if cell.is_empty() && col < header.len() {
                return Err(err(path, format!("line {lineno}, column `{name}`: empty cell; expected a number")));
            }
            let v: f64 = cell.parse().map_err(|_| {
                err(path, format!("line {lineno}, column `{name}`: `{cell}` is not a number"))
            })?;
            if !v.is_finite() {
                return Err(err(path, format!("line {lineno}, column `{name}`: `{cell}` is not a finite number")));
            }
            row.push(v);
        }
        if row.len() != header.len() {
            return Err(err(
                path,
                format!("line {lineno}: {} cells, but the header has {} columns", row.len(), header.len()),
            ));
        }
        features.extend(feature_idx.iter().map(|&i| row[i]));
        target_vals.extend(target_idx.iter().map(|&i| row[i]));
        lines_of_rows.push(lineno);
        rows += 1;
    }
    if rows == 0 {
        return Err(err(path, "no data rows after the header"));
    }
    Ok(Table {
        feature_names: feature_idx.iter().map(|&i| header[i].clone()).collect(),
        target_names: targets.to_vec(),
        features,
        targets: target_vals,
        rows,
        lines: lines_of_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Table, TrainError> {
        parse_csv(text, Path::new("t.csv"), &["y".to_string()])
    }

    #[test]
    fn splits_features_and_targets() {
        let t = parse("a,y,b\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!(t.feature_names, vec!["a", "b"]);
        assert_eq!(t.features, vec![1.0, 3.0, 4.0, 6.0]);
        assert_eq!(t.targets, vec![2.0, 5.0]);
        assert_eq!(t.rows, 2);
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let e = parse("a,y\n1,2\n3\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 3: 1 cells, but the header has 2 columns");
        let e = parse("a,y\n1,x\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2, column `y`: `x` is not a number");
        let e = parse("a,y\n1,NaN\n").unwrap_err().to_string();
        assert_eq!(e, "t.csv: line 2, column `y`: `NaN` is not a finite number");
        let e = parse("a,b\n1,2\n").unwrap_err().to_string();
        assert!(e.contains("target column `y`"), "{e}");
        assert!(parse("").unwrap_err().to_string().contains("empty"));
        assert!(parse("a,y\n").unwrap_err().to_string().contains("no data rows"));
        assert!(parse("a,a,y\n1,2,3\n").unwrap_err().to_string().contains("appears twice"));
    }
}
