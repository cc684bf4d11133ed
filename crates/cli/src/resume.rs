//! `descent train --resume <RUN_DIR|auto>`: which folder a run continues in, whether there is
//! anything to continue, and the exact command that resumes an interrupted run.
//!
//! `--resume RUN_DIR` continues the run in RUN_DIR (it must hold one). `--resume auto`
//! continues the run in the `--out` folder (default: the fixed `runs/<config name>`) when it
//! holds one (`run.json` and a checkpoint or metrics) and starts it fresh when it holds none,
//! so a job script can run the same command on every (re)start.

use std::path::{Path, PathBuf};

use descent_train::checkpoint::holds_run;
use descent_train::config::DeviceChoice;
use descent_train::trainer::default_out_dir;

/// The value of `--resume`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeArg {
    Dir(PathBuf),
    Auto,
}

impl std::str::FromStr for ResumeArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "" => Err("--resume needs a run folder or `auto`".into()),
            "auto" => Ok(Self::Auto),
            dir => Ok(Self::Dir(PathBuf::from(dir))),
        }
    }
}

/// The run folder and whether to resume the run in it, from `--out` and `--resume`.
pub fn plan(config: &Path, out: Option<PathBuf>, resume: Option<ResumeArg>, default_out: impl FnOnce() -> PathBuf) -> Result<(PathBuf, bool), String> {
    match resume {
        None => Ok((out.unwrap_or_else(default_out), false)),
        Some(ResumeArg::Dir(dir)) => match out {
            Some(o) if o != dir => Err(format!(
                "--resume {} and --out {} name different folders; give the run folder once (--resume DIR, or --out DIR --resume auto)",
                dir.display(),
                o.display()
            )),
            _ => Ok((dir, true)),
        },
        Some(ResumeArg::Auto) => {
            // Always the fixed folder, never a next-free name: the same command must find the run.
            let dir = out.unwrap_or_else(|| default_out_dir(config));
            let resume = holds_run(&dir);
            Ok((dir, resume))
        }
    }
}

/// `descent train --config CONFIG --resume RUN [--device D] [--quiet]`, quoted for a POSIX
/// shell.
pub fn command(config: &Path, run: &Path, device: Option<DeviceChoice>, quiet: bool) -> String {
    let mut cmd = format!("descent train --config {} --resume {}", quote(config), quote(run));
    if let Some(d) = device {
        cmd.push_str(&format!(" --device {d}"));
    }
    if quiet {
        cmd.push_str(" --quiet");
    }
    cmd
}

fn quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=,:@".contains(c)) {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_is_quoted_for_the_shell() {
        let c = command(Path::new("cfg/a b.toml"), Path::new("runs/it's"), Some(DeviceChoice::Cpu), true);
        assert_eq!(c, r"descent train --config 'cfg/a b.toml' --resume 'runs/it'\''s' --device cpu --quiet");
        assert_eq!(command(Path::new("x.toml"), Path::new("runs/x"), None, false), "descent train --config x.toml --resume runs/x");
    }

    #[test]
    fn resume_dir_and_a_different_out_are_refused() {
        let none = || PathBuf::from("runs/next");
        let e = plan(Path::new("x.toml"), Some("a".into()), Some(ResumeArg::Dir("b".into())), none).unwrap_err();
        assert!(e.starts_with("--resume b and --out a name different folders"), "{e}");
        assert_eq!(plan(Path::new("x.toml"), None, None, none), Ok((PathBuf::from("runs/next"), false)));
        // auto ignores the next-free default: the fixed runs/<config> folder (empty here).
        assert_eq!(plan(Path::new("x.toml"), None, Some(ResumeArg::Auto), none), Ok((PathBuf::from("runs/x"), false)));
    }
}
