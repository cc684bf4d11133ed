//! L-BFGS's state (torch's `state[params[0]]`) and its exact byte encoding for checkpoints.
//!
//! Every f64 is stored as its 8 little-endian bytes, so a save / load round trip is
//! bit-exact (a text encoding would have to round-trip every float). Layout, after the
//! 8-byte magic `DLBFGS1\n`: func_evals, n_iter (u64); d, t, prev_flat_grad, prev_loss as
//! an option flag (u8) then the value; h_diag (f64); ro, old_dirs, old_stps as a count (u64)
//! then the items; a vector is its length (u64) then its values.

use crate::error::OptimError;

/// torch's L-BFGS state, with torch's key names (H_diag → `h_diag`). torch's `al` is scratch
/// space rewritten by every iteration before it is read, so it is not kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LbfgsState {
    /// Closure evaluations, all steps together.
    pub func_evals: u64,
    /// Iterations, all steps together (the first one ever starts the memory).
    pub n_iter: u64,
    /// The last search direction.
    pub d: Option<Vec<f64>>,
    /// The last step length.
    pub t: Option<f64>,
    /// Gradient differences y, oldest first.
    pub old_dirs: Vec<Vec<f64>>,
    /// Steps s = t·d, oldest first.
    pub old_stps: Vec<Vec<f64>>,
    /// 1/(y·s) per pair.
    pub ro: Vec<f64>,
    /// The initial inverse-Hessian scale y·s / y·y (1 until a pair is kept).
    pub h_diag: f64,
    pub prev_flat_grad: Option<Vec<f64>>,
    pub prev_loss: Option<f64>,
}

const MAGIC: &[u8; 8] = b"DLBFGS1\n";

impl LbfgsState {
    /// The state as bytes (see the [module docs](self)).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(MAGIC);
        put_u64(&mut w, self.func_evals);
        put_u64(&mut w, self.n_iter);
        put_opt(&mut w, &self.d, |w, v| put_vec(w, v));
        put_opt(&mut w, &self.t, |w, v| put_f64(w, *v));
        put_opt(&mut w, &self.prev_flat_grad, |w, v| put_vec(w, v));
        put_opt(&mut w, &self.prev_loss, |w, v| put_f64(w, *v));
        put_f64(&mut w, self.h_diag);
        put_vec(&mut w, &self.ro);
        for list in [&self.old_dirs, &self.old_stps] {
            put_u64(&mut w, list.len() as u64);
            list.iter().for_each(|v| put_vec(&mut w, v));
        }
        w
    }

    /// The state [`to_bytes`](Self::to_bytes) wrote; an error for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OptimError> {
        let mut r = Reader(bytes);
        if r.take(8)? != MAGIC {
            return Err(bad("it does not start with the L-BFGS state marker"));
        }
        let func_evals = r.u64()?;
        let n_iter = r.u64()?;
        let d = r.opt(Reader::vec)?;
        let t = r.opt(Reader::f64)?;
        let prev_flat_grad = r.opt(Reader::vec)?;
        let prev_loss = r.opt(Reader::f64)?;
        let h_diag = r.f64()?;
        let ro = r.vec()?;
        let old_dirs = r.list()?;
        let old_stps = r.list()?;
        if !r.0.is_empty() || old_dirs.len() != ro.len() || old_stps.len() != ro.len() {
            return Err(bad("its history lists do not fit together"));
        }
        Ok(Self {
            func_evals,
            n_iter,
            d,
            t,
            old_dirs,
            old_stps,
            ro,
            h_diag,
            prev_flat_grad,
            prev_loss,
        })
    }
}

fn bad(why: &str) -> OptimError {
    OptimError::invalid(format!("not an L-BFGS state: {why}"))
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_f64(w: &mut Vec<u8>, v: f64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_vec(w: &mut Vec<u8>, v: &[f64]) {
    put_u64(w, v.len() as u64);
    v.iter().for_each(|x| put_f64(w, *x));
}

fn put_opt<T>(w: &mut Vec<u8>, v: &Option<T>, put: impl Fn(&mut Vec<u8>, &T)) {
    match v {
        Some(v) => {
            w.push(1);
            put(w, v);
        }
        None => w.push(0),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], OptimError> {
        if self.0.len() < n {
            return Err(bad("it is truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u64(&mut self) -> Result<u64, OptimError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| bad("it is truncated"))?,
        ))
    }
    fn f64(&mut self) -> Result<f64, OptimError> {
        self.u64().map(f64::from_bits)
    }
    fn vec(&mut self) -> Result<Vec<f64>, OptimError> {
        let n = self.u64()? as usize;
        if n > self.0.len() / 8 {
            return Err(bad("it is truncated"));
        }
        (0..n).map(|_| self.f64()).collect()
    }
    fn list(&mut self) -> Result<Vec<Vec<f64>>, OptimError> {
        let n = self.u64()? as usize;
        if n > self.0.len() / 8 {
            return Err(bad("it is truncated"));
        }
        (0..n).map(|_| self.vec()).collect()
    }
    fn opt<T>(
        &mut self,
        read: impl Fn(&mut Self) -> Result<T, OptimError>,
    ) -> Result<Option<T>, OptimError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => read(self).map(Some),
            _ => Err(bad("an option flag is neither 0 nor 1")),
        }
    }
}
