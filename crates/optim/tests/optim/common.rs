//! Shared test helpers: an f64 flex device, tensor ⇄ Vec conversions, and the exact JSON
//! reader of the fixtures.
#![allow(dead_code)]

use burn::tensor::{Device, FloatDType, Tensor, TensorData};
use descent_optim::OptimError;

/// Burn's flex device in f64. Every test in a test binary that uses this runs in f64, so
/// the first call fixes the process-wide default dtype.
pub fn device() -> Device {
    let mut d = Device::flex();
    if d.configure(FloatDType::F64).is_err() {
        assert_eq!(d.settings().float_dtype, FloatDType::F64, "device already initialised in another dtype");
    }
    d
}

pub fn t1(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &device())
}

pub fn tn(v: &[f64], shape: &[usize]) -> Tensor<2> {
    assert_eq!(shape.len(), 2);
    Tensor::from_data(TensorData::new(v.to_vec(), [shape[0], shape[1]]), &device())
}

pub fn vec<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

pub fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let scale = e.abs().max(1.0);
        assert!((a - e).abs() <= tol * scale, "{what}[{i}]: got {a}, expected {e} (tol {tol})");
    }
}

/// serde_json's default float parser (without its `float_roundtrip` feature) is off by one
/// ulp for about 10% of the fixture's values, so the fixture is read with this small JSON
/// reader whose numbers go through `str::parse::<f64>` (correctly rounded).
pub mod exact_json {
    use serde_json::{Map, Number, Value};

    pub fn parse(text: &str) -> Value {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing characters");
        v
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Parser<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) {
            self.ws();
            assert_eq!(self.s[self.i], c, "at byte {}", self.i);
            self.i += 1;
        }
        fn peek(&mut self) -> u8 {
            self.ws();
            self.s[self.i]
        }
        fn literal(&mut self, word: &str, v: Value) -> Value {
            assert!(self.s[self.i..].starts_with(word.as_bytes()), "at byte {}", self.i);
            self.i += word.len();
            v
        }
        fn value(&mut self) -> Value {
            match self.peek() {
                b'{' => {
                    self.eat(b'{');
                    let mut m = Map::new();
                    if self.peek() == b'}' {
                        self.eat(b'}');
                        return Value::Object(m);
                    }
                    loop {
                        let k = self.string();
                        self.eat(b':');
                        m.insert(k, self.value());
                        if self.peek() == b',' {
                            self.eat(b',');
                        } else {
                            self.eat(b'}');
                            return Value::Object(m);
                        }
                    }
                }
                b'[' => {
                    self.eat(b'[');
                    let mut a = Vec::new();
                    if self.peek() == b']' {
                        self.eat(b']');
                        return Value::Array(a);
                    }
                    loop {
                        a.push(self.value());
                        if self.peek() == b',' {
                            self.eat(b',');
                        } else {
                            self.eat(b']');
                            return Value::Array(a);
                        }
                    }
                }
                b'"' => Value::String(self.string()),
                b't' => self.literal("true", Value::Bool(true)),
                b'f' => self.literal("false", Value::Bool(false)),
                b'n' => self.literal("null", Value::Null),
                b'N' => self.literal("NaN", Value::Null),
                _ => self.number(),
            }
        }
        fn string(&mut self) -> String {
            self.eat(b'"');
            let mut out = String::new();
            loop {
                let c = self.s[self.i];
                self.i += 1;
                match c {
                    b'"' => return out,
                    b'\\' => {
                        let e = self.s[self.i];
                        self.i += 1;
                        match e {
                            b'n' => out.push('\n'),
                            b't' => out.push('\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                                out.push(
                                    char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap(),
                                );
                                self.i += 4;
                            }
                            other => out.push(other as char),
                        }
                    }
                    _ => {
                        // UTF-8 continuation bytes are copied through unchanged.
                        let start = self.i - 1;
                        let mut end = self.i;
                        while end < self.s.len() && (self.s[end] & 0xC0) == 0x80 {
                            end += 1;
                        }
                        out.push_str(std::str::from_utf8(&self.s[start..end]).unwrap());
                        self.i = end;
                    }
                }
            }
        }
        fn number(&mut self) -> Value {
            let start = self.i;
            while self.i < self.s.len() && b"+-.eE0123456789Infinity".contains(&self.s[self.i]) {
                self.i += 1;
            }
            let tok = std::str::from_utf8(&self.s[start..self.i]).unwrap();
            if let Ok(n) = tok.parse::<i64>() {
                return Value::Number(n.into());
            }
            let x: f64 = tok.parse().unwrap_or_else(|_| panic!("bad number {tok}"));
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    }
}

/// The message of a config the checks must reject.
pub fn rejected<T>(r: Result<T, OptimError>) -> String {
    match r {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}
