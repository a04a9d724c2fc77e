#![no_main]
//! The check lives in the core (anshin_core::fuzz_checks::report), shared with the corpus replay test.

libfuzzer_sys::fuzz_target!(|data: &[u8]| anshin_core::fuzz_checks::report(data));
