//! `descent plot` and `descent compare`: the SVGs are well-formed XML with the title, axis
//! labels, legend labels and a drawn line; compare's report says what the run folders say.
//! Every run in this binary is f32 (Burn fixes a device's dtype once per process).

use std::path::{Path, PathBuf};
use std::process::Command;

use descent_cli::compare::{compare, CompareOptions, MeanStd};
use descent_cli::plot::{format_sig, line_chart_svg, plot_overlay, plot_run, ChartSpec, Series};

// ------------------------------------------------------------------------- a tiny XML checker

/// Checks that `text` is one well-formed XML element (tags nest and match, attributes are
/// quoted, `&` starts a known entity); returns the element names in document order.
fn check_xml(text: &str) -> Result<Vec<String>, String> {
    fn check_entities(s: &str, at: usize) -> Result<(), String> {
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            rest = &rest[i + 1..];
            let end = rest.find(';').ok_or_else(|| format!("byte {at}: `&` without `;`"))?;
            let name = &rest[..end];
            let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                || name.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                || name.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return Err(format!("byte {at}: unknown entity `&{name};`"));
            }
        }
        Ok(())
    }
    let is_name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "-_:.".contains(c));
    let mut names = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() && stack.is_empty() {
                return Err(format!("byte {i}: text after the root element"));
            }
            check_entities(rest, i)?;
            break;
        };
        let between = &rest[..lt];
        if stack.is_empty() && !between.trim().is_empty() {
            return Err(format!("byte {i}: text outside the root element"));
        }
        check_entities(between, i)?;
        i += lt;
        let rest = &text[i..];
        let skip = |open: &str, close: &str| -> Option<Result<usize, String>> {
            rest.starts_with(open).then(|| {
                rest.find(close).map(|e| e + close.len()).ok_or_else(|| format!("byte {i}: unclosed `{open}`"))
            })
        };
        if let Some(n) = skip("<?", "?>")
            .or_else(|| skip("<!--", "-->"))
            .or_else(|| skip("<![CDATA[", "]]>"))
            .or_else(|| skip("<!", ">"))
        {
            i += n?;
            continue;
        }
        let gt = rest.find('>').ok_or_else(|| format!("byte {i}: unclosed tag"))?;
        let tag = &rest[1..gt];
        i += gt + 1;
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("byte {i}: `</{name}>` closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if !is_name(name) {
            return Err(format!("byte {i}: bad element name `{name}`"));
        }
        // Attributes: name = "value" | 'value'
        let mut attrs = tag[name_end..].trim_start();
        while !attrs.is_empty() {
            let eq = attrs.find('=').ok_or_else(|| format!("byte {i}: attribute without value in <{name}>"))?;
            let aname = attrs[..eq].trim();
            if !is_name(aname) {
                return Err(format!("byte {i}: bad attribute name `{aname}` in <{name}>"));
            }
            let v = attrs[eq + 1..].trim_start();
            let q = v
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
                .ok_or_else(|| format!("byte {i}: unquoted attribute `{aname}`"))?;
            let end = v[1..].find(q).ok_or_else(|| format!("byte {i}: unterminated attribute `{aname}`"))?;
            let value = &v[1..1 + end];
            if value.contains('<') {
                return Err(format!("byte {i}: `<` in attribute `{aname}`"));
            }
            check_entities(value, i)?;
            attrs = v[end + 2..].trim_start();
        }
        if stack.is_empty() {
            roots += 1;
            if roots > 1 {
                return Err(format!("byte {i}: a second root element <{name}>"));
            }
        }
        names.push(name.to_string());
        if !self_closing {
            stack.push(name.to_string());
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err("no root element".into());
    }
    Ok(names)
}

#[test]
fn the_xml_checker_catches_what_it_should() {
    assert!(check_xml("<svg a=\"1\"><g><path d='M0'/></g><text>a &amp; b</text></svg>").is_ok());
    for bad in
        ["<svg><g></svg>", "<svg>", "<svg a=1/>", "<svg>&nope;</svg>", "<a/><b/>", "<svg>a & b</svg>", "<svg a=\"<\"/>"]
    {
        assert!(check_xml(bad).is_err(), "accepted {bad}");
    }
}

/// The trimmed contents of the `<text>` elements (plotters puts them on their own line).
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim().to_string()))
        .collect()
}

/// Well-formed SVG holding every needle and a drawn line.
fn assert_svg(svg: &str, needles: &[&str]) {
    let names = check_xml(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(names.first().map(String::as_str), Some("svg"));
    assert!(names.iter().any(|n| n == "polyline" || n == "path"), "no <polyline>/<path>");
    for n in needles {
        assert!(svg.contains(n), "`{n}` not in the SVG");
    }
}

// ------------------------------------------------------------------------------ line charts

#[test]
fn a_chart_has_title_axis_labels_legend_and_band() {
    let spec = ChartSpec {
        title: "Loss & friends <1>".into(),
        x_label: "step".into(),
        y_label: "loss (MSE)".into(),
        log_y: false,
    };
    let a = Series {
        label: "gd".into(),
        points: (0..20).map(|i| (i as f64, 1.0 / (1.0 + i as f64))).collect(),
        band: None,
    };
    let b = Series {
        label: "sgd \"noisy\"".into(),
        points: (0..20).map(|i| (i as f64, 1.2 / (1.0 + i as f64))).collect(),
        band: Some((0..20).map(|i| (i as f64, 1.0 / (1.0 + i as f64), 1.4 / (1.0 + i as f64))).collect()),
    };
    let svg = line_chart_svg(&spec, &[a, b]).unwrap();
    assert_svg(
        &svg,
        &["Loss &amp; friends &lt;1&gt;", "step", "loss (MSE)", "gd", "sgd &quot;noisy&quot;", "<polygon"],
    );
    // Tick labels: numbers along both axes, one text each; the legend labels as texts.
    let t = texts(&svg);
    assert!(t.iter().filter(|s| s.parse::<f64>().is_ok()).count() >= 6, "too few tick labels: {t:?}");
    for label in ["10", "0.2", "gd", "sgd &quot;noisy&quot;", "step", "loss (MSE)"] {
        assert!(t.iter().any(|s| s == label), "no text `{label}` in {t:?}");
    }
}

#[test]
fn log_scale_non_finite_and_empty_series_do_not_panic() {
    let spec = ChartSpec { title: "T".into(), x_label: "x".into(), y_label: "y".into(), log_y: true };
    let pts = vec![(1.0, 1.0), (2.0, f64::NAN), (3.0, 0.01), (f64::INFINITY, 2.0), (4.0, 1e-4)];
    let svg = line_chart_svg(&spec, &[Series::new("s", pts), Series::new("empty", vec![])]).unwrap();
    assert_svg(&svg, &["T", "s", "empty"]);
    // A single point, and no series at all.
    check_xml(&line_chart_svg(&spec, &[Series::new("one", vec![(1.0, 1.0)])]).unwrap()).unwrap();
    check_xml(&line_chart_svg(&spec, &[]).unwrap()).unwrap();
    let e = line_chart_svg(&spec, &[Series::new("neg", vec![(1.0, 1.0), (2.0, -1.0)])]).unwrap_err().to_string();
    assert!(e.contains("`neg`") && e.contains("y = -1 at x = 2"), "{e}");
}

// --------------------------------------------------------------------------------- plot_run

const METRICS: &str = r#"{"step":1,"epoch":1,"lr":0.1,"loss":1.5,"momentum":0.85,"grad_norm":2.5}
{"step":2,"epoch":1,"lr":0.2,"loss":1.25,"momentum":0.8}
{"epoch":1,"train_loss":1.375,"lr":0.2,"steps":2,"valid_loss":1.4,"valid_accuracy":0.5}
{"step":3,"epoch":2,"lr":0.1,"loss":null,"momentum":0.85}
{"step":4,"epoch":2,"lr":0.05,"loss":0.75,"momentum":0.9,"future_key":{"a":[1,2]}}
{"epoch":2,"train_loss":0.9,"lr":0.05,"steps":2,"valid_loss":1.0}
"#;

fn run_dir(parent: &Path, name: &str, metrics: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metrics.jsonl"), metrics).unwrap();
    dir
}

#[test]
fn plot_run_draws_loss_and_lr_with_momentum() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_dir(tmp.path(), "my-run", METRICS);
    let written = plot_run(&dir, false).unwrap();
    assert_eq!(written, vec![dir.join("loss.svg"), dir.join("lr.svg")]);
    let loss = std::fs::read_to_string(dir.join("loss.svg")).unwrap();
    assert_svg(
        &loss,
        &["Loss — my-run", "step", "loss", "batch loss (per step)", "train loss (epoch mean)", "valid loss"],
    );
    let lr = std::fs::read_to_string(dir.join("lr.svg")).unwrap();
    assert_svg(&lr, &["Learning rate — my-run", "Momentum — my-run", "lr", "momentum", "step"]);

    // Log scale works on positive losses (the null one is skipped).
    plot_run(&dir, true).unwrap();
    assert_svg(&std::fs::read_to_string(dir.join("loss.svg")).unwrap(), &["loss (log scale)"]);
}

#[test]
fn plot_run_without_momentum_or_validation_draws_only_what_is_there() {
    let tmp = tempfile::tempdir().unwrap();
    let metrics =
        "{\"step\":1,\"epoch\":1,\"lr\":0.1,\"loss\":2}\n{\"epoch\":1,\"train_loss\":2,\"lr\":0.1,\"steps\":1}\n";
    let dir = run_dir(tmp.path(), "plain", metrics);
    plot_run(&dir, false).unwrap();
    let loss = std::fs::read_to_string(dir.join("loss.svg")).unwrap();
    assert!(!loss.contains("valid loss"));
    let lr = std::fs::read_to_string(dir.join("lr.svg")).unwrap();
    assert!(!lr.contains("Momentum"));
    check_xml(&lr).unwrap();
}

#[test]
fn plot_errors_name_the_file_and_the_line_or_step() {
    let tmp = tempfile::tempdir().unwrap();
    let e = plot_run(&tmp.path().join("nowhere"), false).unwrap_err().to_string();
    assert!(e.contains("nowhere/metrics.jsonl") && e.contains("cannot read"), "{e}");

    let dir = run_dir(tmp.path(), "broken", "{\"step\":1,\"epoch\":1,\"lr\":0.1,\"loss\":1}\n{\"step\":2,\"loss\":\n");
    let e = plot_run(&dir, false).unwrap_err().to_string();
    assert!(e.contains("broken/metrics.jsonl: line 2: not valid JSON"), "{e}");

    let dir = run_dir(tmp.path(), "typed", "{\"step\":1,\"epoch\":1,\"lr\":\"fast\",\"loss\":1}\n");
    let e = plot_run(&dir, false).unwrap_err().to_string();
    assert!(e.contains("typed/metrics.jsonl: line 1: `lr` must be a number"), "{e}");

    let dir = run_dir(tmp.path(), "empty", "");
    assert!(plot_run(&dir, false).unwrap_err().to_string().contains("empty"));

    let zero = "{\"step\":1,\"epoch\":1,\"lr\":0.1,\"loss\":1}\n{\"step\":2,\"epoch\":1,\"lr\":0.1,\"loss\":0}\n";
    let dir = run_dir(tmp.path(), "zero", zero);
    let e = plot_run(&dir, true).unwrap_err().to_string();
    assert!(e.contains("zero/metrics.jsonl: step 2: loss = 0") && e.contains("log"), "{e}");
    plot_run(&dir, false).unwrap();

    // A failed run leaves metrics.jsonl.partial: say so.
    let dir = tmp.path().join("unfinished");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("metrics.jsonl.partial"), "").unwrap();
    let e = plot_run(&dir, false).unwrap_err().to_string();
    assert!(e.contains("metrics.jsonl.partial exists"), "{e}");
}

#[test]
fn overlay_labels_each_run_by_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run_dir(tmp.path(), "gd-run", METRICS);
    let b = run_dir(tmp.path(), "sgd-run", &METRICS.replace("0.9,", "0.7,"));
    let out = tmp.path().join("overlay.svg");
    plot_overlay(&[a.clone(), b.clone()], &out, true).unwrap();
    assert_svg(
        &std::fs::read_to_string(&out).unwrap(),
        &["gd-run", "sgd-run", "epoch", "train loss (log scale)", "Train loss"],
    );

    let no_epochs = run_dir(tmp.path(), "steps-only", "{\"step\":1,\"epoch\":1,\"lr\":0.1,\"loss\":1}\n");
    let e = plot_overlay(&[a, no_epochs], &out, false).unwrap_err().to_string();
    assert!(e.contains("steps-only/metrics.jsonl") && e.contains("no per-epoch records"), "{e}");
}

#[test]
fn the_plot_command_redraws_one_run_or_overlays_several() {
    let tmp = tempfile::tempdir().unwrap();
    let a = run_dir(tmp.path(), "a", METRICS);
    let b = run_dir(tmp.path(), "b", METRICS);
    let descent = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_descent")).args(args).current_dir(tmp.path()).output().unwrap()
    };
    let o = descent(&["plot", "a", "--log-y"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(a.join("loss.svg").exists() && a.join("lr.svg").exists());
    let o = descent(&["plot", "a", "b"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(tmp.path().join("overlay.svg")).unwrap();
    assert_svg(&svg, &[]);
    let t = texts(&svg);
    assert!(t.iter().any(|s| s == "a") && t.iter().any(|s| s == "b"), "legend labels a and b: {t:?}");
    let o = descent(&["plot", a.to_str().unwrap(), b.to_str().unwrap(), "--out", "both.svg"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(tmp.path().join("both.svg").exists());
    let o = descent(&["plot", "missing"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.starts_with("error: ") && stderr.trim_end().lines().count() == 1, "{stderr}");
    assert!(stderr.contains("missing/metrics.jsonl"), "{stderr}");
}

// ---------------------------------------------------------------------------------- compare

/// y = 2a − b + 0.5 on 16 rows: linear regression, learnable by a 2 → 1 identity MLP.
fn write_task(dir: &Path) -> (PathBuf, PathBuf) {
    let mut csv = String::from("a,b,y\n");
    for i in 0..16 {
        let (a, b) = ((i as f64 * 0.37).sin(), (i as f64 * 0.91).cos());
        csv.push_str(&format!("{a},{b},{}\n", 2.0 * a - b + 0.5));
    }
    std::fs::write(dir.join("line.csv"), csv).unwrap();
    let base = |batching: &str, optimizer: &str| {
        format!(
            "epochs = 12\nseed = 3\n\n[model]\nkind = \"mlp\"\nsizes = [2, 1]\nactivation = \"identity\"\n\n\
             [data]\ntrain = \"line.csv\"\ntargets = [\"y\"]\n\n[batching]\n{batching}\n\n[optimizer]\nkind = \"sgd\"\n{optimizer}\n"
        )
    };
    let gd = dir.join("gd.toml");
    let mini = dir.join("mini-momentum.toml");
    std::fs::write(&gd, base("mode = \"full\"", "lr = 0.2")).unwrap();
    std::fs::write(&mini, base("mode = \"mini\"\nbatch_size = 4", "lr = 0.05\nmomentum = 0.9")).unwrap();
    (gd, mini)
}

/// (per-epoch train losses with their end steps, number of steps) from a run folder.
fn read_run(dir: &Path) -> (Vec<(u64, f64)>, u64) {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let mut epochs = Vec::new();
    let mut steps = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v.get("step").is_some() {
            steps = v["step"].as_u64().unwrap();
        } else {
            epochs.push((steps, v["train_loss"].as_f64().unwrap()));
        }
    }
    (epochs, steps)
}

#[test]
fn compare_reports_what_the_run_folders_say() {
    let tmp = tempfile::tempdir().unwrap();
    let (gd, mini) = write_task(tmp.path());
    let out = tmp.path().join("cmp");
    let opts = CompareOptions { seeds: 2, ..CompareOptions::new(&out) };
    let report = compare(&[gd.clone(), mini.clone()], &opts).unwrap();

    assert_eq!(report.rows.len(), 2);
    assert_eq!(report.seeds, 2);
    assert!(report.target_is_default);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let mut best = f64::INFINITY;
    for (row, name, steps_per_epoch) in [(&report.rows[0], "gd", 1u64), (&report.rows[1], "mini-momentum", 4)] {
        assert_eq!(row.name, name);
        // Recompute from the run folders.
        let runs: Vec<_> = (0..2).map(|k| read_run(&out.join("runs").join(name).join(format!("seed-{k}")))).collect();
        assert_ne!(runs[0].0, runs[1].0, "{name}: seeds 3 and 4 gave identical runs");
        let finals: Vec<f64> = runs.iter().map(|(e, _)| e.last().unwrap().1).collect();
        let mean = (finals[0] + finals[1]) / 2.0;
        let std = ((finals[0] - mean).powi(2) + (finals[1] - mean).powi(2)).sqrt(); // n − 1 = 1
        assert!((row.final_train_loss.mean - mean).abs() <= 1e-12 * mean.abs(), "{name}: mean");
        assert!((row.final_train_loss.std - std).abs() <= 1e-12 * mean.abs(), "{name}: std");
        assert_eq!(row.final_train_loss.n, 2);
        assert_eq!(row.total_steps, 12.0 * steps_per_epoch as f64);
        assert!(runs.iter().all(|(_, s)| *s == 12 * steps_per_epoch));
        assert_eq!(row.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), vec![3, 4]);
        assert!(row.final_valid_loss.is_none());
        assert!(row.us_per_step > 0.0 && row.us_per_step.is_finite());
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{md}"));
        let ms = MeanStd { mean, std, n: 2 }.to_string();
        assert!(line.contains(&ms), "{name}: `{ms}` not in `{line}`");
        assert!(line.contains(&format!("| {} |", 12 * steps_per_epoch)), "total steps in `{line}`");
        best = best.min(mean);
    }
    // The default target: 1.1 × the best mean final loss; steps to reach it from the files.
    assert!((report.target_loss - 1.1 * best).abs() <= 1e-12 * best);
    assert!(md.contains("1.1 × the best final train loss"), "{md}");
    assert!(md.contains(&format_sig(report.target_loss, 4)));
    for row in &report.rows {
        let reached: Vec<u64> = (0..2)
            .filter_map(|k| {
                let (epochs, _) = read_run(&out.join("runs").join(&row.name).join(format!("seed-{k}")));
                epochs.iter().find(|(_, l)| *l <= report.target_loss).map(|(s, _)| *s)
            })
            .collect();
        assert_eq!(row.seeds_reached, reached.len(), "{}", row.name);
        let mean = (!reached.is_empty()).then(|| reached.iter().sum::<u64>() as f64 / reached.len() as f64);
        assert_eq!(row.steps_to_target, mean, "{}", row.name);
        assert_eq!(row.secs_to_target.is_some(), mean.is_some());
    }
    // The best config reaches its own target with every seed? At least its mean does.
    assert!(report.rows.iter().any(|r| r.seeds_reached > 0));
    assert!(md.contains("seeds: 2") && md.contains("CPU cores") && md.contains("UTC"), "{md}");

    let svg = std::fs::read_to_string(out.join("loss.svg")).unwrap();
    assert_svg(&svg, &["gd", "mini-momentum", "epoch", "train loss", "<polygon"]);
}

#[test]
fn compare_with_a_target_and_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (gd, mini) = write_task(tmp.path());
    let out = tmp.path().join("cli");
    let o = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args([
            "compare",
            gd.to_str().unwrap(),
            mini.to_str().unwrap(),
            "--seeds",
            "1",
            "--target-loss",
            "1e-9",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("target loss: 1e-9 (--target-loss)"), "{md}");
    // Nobody gets to 1e-9 in 12 epochs.
    assert_eq!(md.matches("— (0/1)").count(), 2, "{md}");
    check_xml(&std::fs::read_to_string(out.join("loss.svg")).unwrap()).unwrap();
}

#[test]
fn compare_errors_name_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let (gd, _) = write_task(tmp.path());
    let broken = tmp.path().join("broken.toml");
    std::fs::write(&broken, std::fs::read_to_string(&gd).unwrap().replace("line.csv", "gone.csv")).unwrap();
    let e =
        compare(&[gd.clone(), broken.clone()], &CompareOptions::new(tmp.path().join("o1"))).unwrap_err().to_string();
    assert!(e.contains("broken.toml") && e.contains("gone.csv"), "{e}");

    let f64_cfg = tmp.path().join("double.toml");
    std::fs::write(&f64_cfg, std::fs::read_to_string(&gd).unwrap().replace("seed = 3", "seed = 3\ndtype = \"f64\""))
        .unwrap();
    let e = compare(&[gd.clone(), f64_cfg], &CompareOptions::new(tmp.path().join("o2"))).unwrap_err().to_string();
    assert!(e.contains("double.toml") && e.contains("same dtype"), "{e}");
    assert!(!tmp.path().join("o2").join("runs").exists(), "a run started before the dtype check");

    let twin = tmp.path().join("sub");
    std::fs::create_dir_all(&twin).unwrap();
    std::fs::copy(&gd, twin.join("gd.toml")).unwrap();
    std::fs::copy(tmp.path().join("line.csv"), twin.join("line.csv")).unwrap();
    let e = compare(&[gd.clone(), twin.join("gd.toml")], &CompareOptions::new(tmp.path().join("o3")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("same name `gd`"), "{e}");

    let e = compare(&[gd], &CompareOptions { seeds: 0, ..CompareOptions::new(tmp.path().join("o4")) })
        .unwrap_err()
        .to_string();
    assert!(e.contains("seeds"), "{e}");
}
