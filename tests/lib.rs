//! Black-box tests of the SIMS server live in `api/`; this library is empty.
